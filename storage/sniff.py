"""File types from their first bytes, never from the name or the client's Content-Type.

A docx is a zip: its first bytes only say "zip", so ``is_docx`` checks the whole (size-capped) file's
``[Content_Types].xml`` for the WordprocessingML main part.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Literal

Kind = Literal["image", "document"]

SNIFF_BYTES = 16  # enough for every signature below


@dataclass(frozen=True, slots=True)
class FileType:
    name: str
    content_type: str
    extension: str


JPEG = FileType("jpeg", "image/jpeg", ".jpg")
PNG = FileType("png", "image/png", ".png")
WEBP = FileType("webp", "image/webp", ".webp")
PDF = FileType("pdf", "application/pdf", ".pdf")
DOC = FileType("doc", "application/msword", ".doc")
DOCX = FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")

ALLOWED: dict[Kind, tuple[FileType, ...]] = {
    "image": (JPEG, PNG, WEBP),
    "document": (PDF, JPEG, PNG, DOC, DOCX),
}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def sniff(head: bytes) -> FileType | None:
    """The type the first bytes announce, or None. A zip is reported as DOCX pending ``is_docx``."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_OLE2):
        return DOC
    if head.startswith(_ZIP):
        return DOCX
    return None


def is_docx(data: bytes) -> bool:
    """A real Word document: a readable zip whose content types declare the WordprocessingML main part."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
                return False
            with archive.open("[Content_Types].xml") as entry:
                declared = entry.read(256 * 1024)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError, ValueError):
        return False
    return _DOCX_MAIN in declared


def describe(kind: Kind) -> str:
    return ", ".join(t.name for t in ALLOWED[kind])
