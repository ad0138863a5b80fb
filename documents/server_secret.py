"""Secrets the server makes for itself: random keys kept in the store, never shown to anyone."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of


class ServerSecret(Document):
    """One random key; ``id`` names what it keys (homer_rt.services.server_secrets)."""

    id: str = Field()  # type: ignore[assignment]
    value: str  # hex
    created_at: datetime

    class Settings:
        name = "server_secrets"

    @classmethod
    async def keep_first(cls, name: str, *, value: str, now: datetime) -> str:
        """The value stored under ``name``: the one already there, else ``value``, stored now.

        Guard: ``$setOnInsert`` with an upsert on the name, so a stored key is never replaced, and processes
        starting together agree on whichever was stored first.
        """
        collection = collection_of(cls)
        try:
            row = await collection.find_one_and_update(
                {"_id": name},
                {"$setOnInsert": {"value": value, "created_at": now}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            # Another process's upsert inserted it between this one's match and insert: theirs stands.
            row = await collection.find_one({"_id": name})
        if row is None:  # an upsert that returns nothing: a store fault, not a state to handle
            raise RuntimeError(f"server secret {name!r} could not be stored")
        return str(row["value"])
