"""A listing's images: uploaded onto the listing under its image cap, and removed with their files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from documents.property import Property
from documents.stored_file import StoredFile
from documents.user import User
from homer_rt.errors import BadRequest, Conflict, NotFound
from homer_rt.services.properties.core import PropertyCore
from homer_rt.services.properties.models import MAX_IMAGES_PER_LISTING


class PropertyImages(PropertyCore):
    async def add_images(
        self, *, property_id: str, user: User, parts: AsyncIterator[aiohttp.BodyPartReader]
    ) -> list[str]:
        await self._editable(property_id=property_id, user=user)
        saved: list[StoredFile] = []
        try:
            async for part in parts:
                saved.append(
                    await self._uploads.save(
                        area="properties",
                        owner_segment=property_id,
                        uploader_id=user.id,
                        part=part,
                        kind="image",
                        referenced=True,  # on the listing by the end of this call, or discarded
                    )
                )
            if not saved:
                raise BadRequest("No image files in the request (field name: files)", code="no_files")
            urls = [f.url for f in saved]
            added = await Property.add_images(
                property_id,
                owner_id=user.id,
                urls=urls,
                max_images=MAX_IMAGES_PER_LISTING,
                now=self._clock.now(),
            )
            if added is None:
                await self._editable(property_id=property_id, user=user)
                raise Conflict(
                    f"A listing can have at most {MAX_IMAGES_PER_LISTING} images", code="too_many_images"
                )
        except BaseException:
            for stored in saved:
                await self._uploads.discard(stored)
            raise
        return urls

    async def remove_image(self, *, property_id: str, user: User, image_url: str) -> Property:
        removed = await Property.remove_image(
            property_id, owner_id=user.id, image_url=image_url, now=self._clock.now()
        )
        if removed is None:
            await self._editable(property_id=property_id, user=user)
            raise NotFound("That image is not on this listing", code="image_not_found")
        stored = await self._uploads.find(url=image_url)
        if stored is not None and stored.area == "properties" and stored.owner_segment == property_id:
            await self._uploads.discard(stored)
        return removed
