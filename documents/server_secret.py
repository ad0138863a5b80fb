"""Secrets the server makes for itself: random keys kept in the store, never shown to anyone."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field


class ServerSecret(Document):
    """One random key; ``id`` names what it keys (homer_rt.services.server_secrets)."""

    id: str = Field()  # type: ignore[assignment]
    value: str  # hex
    created_at: datetime

    class Settings:
        name = "server_secrets"
