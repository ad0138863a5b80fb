"""User profiles (own and public) and the admin bootstrap."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from documents.user import PROFILE_FIELDS, User
from homer_rt.clock import Clock
from homer_rt.errors import Conflict, Forbidden, NotFound
from homer_rt.identity import normalize_email, normalize_phone
from homer_rt.security import PasswordHasher
from homer_rt.services.uploads import PROFILES_AREA, UploadService

log = logging.getLogger(__name__)


class UserService:
    def __init__(self, *, clock: Clock, hasher: PasswordHasher, uploads: UploadService | None = None) -> None:
        self._clock = clock
        self._hasher = hasher
        self._uploads = uploads

    async def get(self, user_id: str) -> User:
        user = await User.get(user_id)
        if user is None:
            raise NotFound("User not found", code="user_not_found")
        return user

    async def update_profile(self, *, user_id: str, changes: dict[str, Any]) -> User:
        unknown = set(changes) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")  # handlers validate before calling
        values: dict[str, Any] = {}
        for field, value in changes.items():
            # BSON has no date type: a birth date is stored as midnight UTC of that day.
            values[field] = value.isoformat() if isinstance(value, date) else value
        if not values:
            return await self.get(user_id)
        if values.get("profile_photo_url") is not None:
            await self._check_own_photo(user_id=user_id, url=values["profile_photo_url"])
        updated = await User.set_profile(user_id=user_id, values=values)
        if updated is None:
            raise NotFound("User not found", code="user_not_found")
        return updated

    async def set_profile_photo(self, *, user_id: str, url: str) -> User:
        return await self.update_profile(user_id=user_id, changes={"profile_photo_url": url})

    async def _check_own_photo(self, *, user_id: str, url: str) -> None:
        """A profile photo is one of the user's own stored profile uploads: never another user's photo,
        a document, or a path that merely starts like one."""
        stored = None
        if self._uploads is not None:
            stored = await self._uploads.find_owned(url=url, uploader_id=user_id)
        if stored is None or stored.area != PROFILES_AREA or stored.owner_segment != user_id:
            raise Forbidden(
                "profile_photo_url must be a photo you uploaded (POST /api/users/me/photo)",
                code="photo_not_owned",
            )

    async def ensure_admin(
        self, *, email: str, phone: str, password: str, full_name: str | None = None
    ) -> User:
        """Create the admin, or promote and re-key the existing account with that email."""
        email = normalize_email(email)
        phone = normalize_phone(phone)
        password_hash = await self._hasher.hash(password)
        existing = await User.find_one({"email": email})
        if existing is not None:
            if existing.phone != phone and await User.find_one({"phone": phone, "_id": {"$ne": existing.id}}):
                raise Conflict(f"Phone {phone} belongs to another account")
            promoted = await User.promote_to_admin(
                user_id=existing.id, password_hash=password_hash, phone=phone
            )
            if promoted is None:
                raise NotFound("User not found", code="user_not_found")
            log.info("promoted %s to admin", email)
            return promoted
        if await User.find_one({"phone": phone}):
            raise Conflict(f"Phone {phone} belongs to another account")
        user = User(
            email=email,
            phone=phone,
            password_hash=password_hash,
            full_name=full_name or "Homer Admin",
            is_admin=True,
            created_at=self._clock.now(),
        )
        await user.insert()
        log.info("created admin %s", email)
        return user
