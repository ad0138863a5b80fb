"""Tokens ended by logout before their expiry. The TTL index drops each one once the token expires anyway."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel


class RevokedToken(Document):
    id: str = Field()  # type: ignore[assignment]  # the token's jti
    user_id: str
    expires_at: datetime

    class Settings:
        name = "revoked_tokens"
        indexes = [IndexModel("expires_at", expireAfterSeconds=0)]
