"""JSON text for REST responses and Socket.IO packets: orjson, several times faster than the json module on
what Homer sends most (pages of chat messages). What orjson refuses (a type it does not know, an integer
past 64 bits) goes through the json module, so such a value fails or passes exactly as before."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(obj: Any, **_: Any) -> str:
    """Compact JSON text; keyword arguments (the json module's) are accepted and ignored."""
    try:
        return orjson.dumps(obj).decode()
    except TypeError:
        return json.dumps(obj, separators=(",", ":"))
