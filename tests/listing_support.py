"""Helpers for listing tests: stored fields changed directly, and files to upload (real images, documents,
multipart forms). Listings themselves come from tests/factories.py."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.property import Property
from tests.factories import create_listing


async def set_listing(property_id: str, **values: Any) -> None:
    """Change stored fields directly (what admin or payment flows would set)."""
    await collection_of(Property).update_one({"_id": property_id}, {"$set": values})


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real, decodable PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 120


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a word document")
    return buffer.getvalue()


def files_form(*files: tuple[str, bytes], field: str = "files", content_type: str = "image/jpeg") -> FormData:
    form = FormData()
    for name, data in files:
        # A stream, as a browser sends a file (aiohttp warns about large in-memory bytes payloads).
        form.add_field(field, io.BytesIO(data), filename=name, content_type=content_type)
    return form


async def upload_listing_image(client: TestClient[Any, Any], owner: dict[str, Any]) -> str:
    """A new listing of ``owner``'s with one uploaded PNG: the image's URL."""
    listing = await create_listing(client, owner)
    uploaded = await client.post(
        f"/api/properties/{listing['property_id']}/upload-images",
        data=files_form(("front.png", png_bytes())),
        headers=owner["headers"],
    )
    assert uploaded.status == 200, await uploaded.text()
    url: str = (await uploaded.json())["image_urls"][0]
    return url
