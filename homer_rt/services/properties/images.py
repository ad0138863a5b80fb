"""A listing's images: uploaded onto the listing under its image cap, and removed with their files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from pymongo import ReturnDocument

from documents.property import Property, PropertyStatus
from documents.stored_file import StoredFile
from documents.user import User
from homer_rt.errors import BadRequest, Conflict, NotFound
from homer_rt.services.properties.core import PropertyCore, _load
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
            # The listing stays under the image cap: index (cap - n) must not exist before the push.
            guard = {f"images.{MAX_IMAGES_PER_LISTING - len(urls)}": {"$exists": False}}
            raw = await self._collection().find_one_and_update(
                {
                    "_id": property_id,
                    "owner_id": user.id,
                    "status": {"$ne": PropertyStatus.DELETED.value},
                    "held_by_admin": {"$ne": True},
                    **guard,
                },
                {"$push": {"images": {"$each": urls}}, "$set": {"updated_at": self._clock.now()}},
                return_document=ReturnDocument.AFTER,
            )
            if raw is None:
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
        raw = await self._collection().find_one_and_update(
            {
                "_id": property_id,
                "owner_id": user.id,
                "status": {"$ne": PropertyStatus.DELETED.value},
                "held_by_admin": {"$ne": True},
                "images": image_url,
            },
            {"$pull": {"images": image_url}, "$set": {"updated_at": self._clock.now()}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            await self._editable(property_id=property_id, user=user)
            raise NotFound("That image is not on this listing", code="image_not_found")
        stored = await self._uploads.find(url=image_url)
        if stored is not None and stored.area == "properties" and stored.owner_segment == property_id:
            await self._uploads.discard(stored)
        return _load(raw)
