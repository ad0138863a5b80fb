"""Where uploads live: the areas and who may read each, the URL of a stored file, and the client's file name
kept for display."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath, PureWindowsPath

from documents.user import User

AccessPolicy = Callable[[User | None, str], Awaitable[bool]]

PROFILES_AREA = "profiles"
PUBLIC_AREAS = ("properties", PROFILES_AREA)
VERIFICATION_AREA = "verification"
MAX_FILE_NAME_CHARS = 255

# One path segment of an upload URL: ids, generated names, area names. No dot segments, no separators.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
#: the same rule as one regular expression (for the API's documentation)
SEGMENT_PATTERN = r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


def is_safe_segment(value: str) -> bool:
    return bool(_SEGMENT.fullmatch(value)) and ".." not in value


def upload_url(area: str, owner_segment: str, name: str) -> str:
    return f"/uploads/{area}/{owner_segment}/{name}"


def client_file_name(raw: str | None) -> str:
    """The client's name for display only: its last path component, without control characters."""
    if not raw:
        return "upload"
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_FILE_NAME_CHARS] or "upload"


async def public_policy(user: User | None, owner_segment: str) -> bool:
    return True


async def uploader_or_admin_policy(user: User | None, owner_segment: str) -> bool:
    return user is not None and (user.is_admin or user.id == owner_segment)
