"""Keys the server makes for itself, once per store.

A key made at random the first time it is asked for and kept in the store (``server_secrets``), so every
process and every restart over the same store uses the same one, with nothing to configure. It must not be
JWT_SECRET: in development that may be random per start, and what a key derived stays in the data.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from documents.server_secret import ServerSecret

KEY_BYTES = 32


async def server_secret(name: str, *, now: datetime) -> bytes:
    """The key called ``name``: the stored one, or a new random one stored atomically (``$setOnInsert``), so
    processes starting together agree on whichever was stored first."""
    stored = await ServerSecret.keep_first(name, value=secrets.token_hex(KEY_BYTES), now=now)
    return bytes.fromhex(stored)
