"""Keys the server makes for itself, once per store.

A key made at random the first time it is asked for and kept in the store (``server_secrets``), so every
process and every restart over the same store uses the same one, with nothing to configure. It must not be
JWT_SECRET: in development that may be random per start, and what a key derived stays in the data.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of
from documents.server_secret import ServerSecret

KEY_BYTES = 32


async def server_secret(name: str, *, now: datetime) -> bytes:
    """The key called ``name``: the stored one, or a new random one stored atomically (``$setOnInsert``), so
    processes starting together agree on whichever was stored first."""
    collection = collection_of(ServerSecret)
    try:
        row = await collection.find_one_and_update(
            {"_id": name},
            {"$setOnInsert": {"value": secrets.token_hex(KEY_BYTES), "created_at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        # Another process's upsert inserted it between this one's match and insert: theirs stands.
        row = await collection.find_one({"_id": name})
    if row is None:  # an upsert that returns nothing: a store fault, not a state to handle
        raise RuntimeError(f"server secret {name!r} could not be stored")
    return bytes.fromhex(str(row["value"]))
