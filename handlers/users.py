"""/api/users: the caller's own profile and other users' public profiles."""

from __future__ import annotations

from contextlib import aclosing
from datetime import date
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from documents.user import PrivateUserView, PublicUserView
from handlers.common import current_user, json_response, now, parse_body
from handlers.contract import Access, Upload, operation
from handlers.files import form_parts
from homer_rt.appkeys import UPLOADS, USERS
from homer_rt.errors import BadRequest
from homer_rt.services.uploads import PROFILES_AREA, is_safe_segment

routes = web.RouteTableDef()


class ProfileUpdateBody(BaseModel):
    # Fields outside this list (email, is_admin, subscription_tier, ...) are ignored, never written.
    model_config = ConfigDict(extra="ignore")

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    gender: str | None = Field(default=None, max_length=20)
    date_of_birth: date | None = None
    renter_preferences: dict[str, Any] | None = None
    # Not nullable: a stored null would make the account unreadable (every later request a 500).
    profile_visibility: bool = True
    profile_photo_url: str | None = Field(default=None, max_length=500, pattern=r"^/uploads/profiles/")

    @field_validator("profile_photo_url")
    @classmethod
    def _upload_path(cls, value: str | None) -> str | None:
        # The shape of an upload URL; whether it is the caller's own photo is the service's check.
        if value is None:
            return None
        segments = value.split("/")[2:]
        if len(segments) != 3 or segments[0] != PROFILES_AREA or not all(map(is_safe_segment, segments)):
            raise ValueError("must be the URL of a photo uploaded with POST /api/users/me/photo")
        return value


@routes.get("/api/users/me")
@operation(summary="Your own profile", tags="users", access=Access.USER, response=PrivateUserView)
async def get_me(request: web.Request) -> web.Response:
    user = await current_user(request)
    return json_response(user.private_view(now(request)))


@routes.put("/api/users/me")
@operation(
    summary="Change your profile (only the fields listed; others are ignored)",
    tags="users",
    access=Access.USER,
    body=ProfileUpdateBody,
    response=PrivateUserView,
)
async def update_me(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, ProfileUpdateBody)
    updated = await request.app[USERS].update_profile(
        user_id=user.id, changes=body.model_dump(exclude_unset=True)
    )
    return json_response(updated.private_view(now(request)))


@routes.post("/api/users/me/photo")
@operation(
    summary="Upload your profile photo (it replaces the previous one)",
    tags="users",
    access=Access.USER,
    upload=Upload(file_fields=("photo",), max_files=1),
    response=PrivateUserView,
)
async def upload_photo(request: web.Request) -> web.Response:
    user = await current_user(request)
    async with aclosing(form_parts(request, fields=("photo",))) as parts:
        async for part in parts:
            stored = await request.app[UPLOADS].save(
                area=PROFILES_AREA,
                owner_segment=user.id,
                uploader_id=user.id,
                part=part,
                kind="image",
                referenced=True,  # this request makes it the profile photo
            )
            updated = await request.app[USERS].set_profile_photo(user_id=user.id, url=stored.url)
            await _discard_previous_photo(request, user.id, user.profile_photo_url, stored.url)
            return json_response(updated.private_view(now(request)))
    raise BadRequest("Send the image in a multipart field named photo", code="no_files")


async def _discard_previous_photo(
    request: web.Request, user_id: str, previous: str | None, current: str
) -> None:
    """The replaced photo's file goes too, if this user uploaded it (never someone else's file)."""
    if not previous or previous == current:
        return
    uploads = request.app[UPLOADS]
    old = await uploads.find_owned(url=previous, uploader_id=user_id)
    if old is not None and old.area == PROFILES_AREA:
        await uploads.discard(old)


@routes.get("/api/users/{user_id}")
@operation(
    summary="A user's public profile",
    tags="users",
    access=Access.PUBLIC,
    response=PublicUserView,
    errors=(404,),
)
async def public_profile(request: web.Request) -> web.Response:
    user = await request.app[USERS].get(request.match_info["user_id"])
    return json_response(user.public_view())
