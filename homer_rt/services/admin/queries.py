"""Query building shared by the admin lists: paging, date ranges, case-insensitive text matches."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from homer_rt.clock import as_utc


def paginated(key: str, items: list[Any], *, total: int, page: int, limit: int) -> dict[str, Any]:
    return {key: items, "total_count": total, "page": page, "limit": limit, "has_more": page * limit < total}


def date_range(field_name: str, date_from: datetime | None, date_to: datetime | None) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if date_from is not None:
        bounds["$gte"] = as_utc(date_from)
    if date_to is not None:
        bounds["$lte"] = as_utc(date_to)
    return {field_name: bounds} if bounds else {}


def contains(text: str) -> dict[str, str]:
    return {"$regex": re.escape(text), "$options": "i"}
