"""Uploads on local disk: listing images, profile photos, private verification files, and serving them.

Types are judged by content, sizes are capped while reading, and paths never leave their folder.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from documents.stored_file import StoredFile
from homer_rt.appkeys import UPLOADS
from homer_rt.errors import PayloadTooLarge, UnsupportedMediaType
from homer_rt.services.properties import MAX_IMAGES_PER_LISTING
from homer_rt.services.uploads import READ_CHUNK_BYTES
from homer_rt.settings import Settings
from tests.factories import create_listing, make_admin, make_settings, register
from tests.listing_support import (
    DOC,
    JPEG,
    PDF,
    WEBP,
    docx_bytes,
    files_form,
    plain_zip_bytes,
    png_bytes,
    set_listing,
)

CAP = 64 * 1024


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, max_upload_bytes=CAP)


class FakePart:
    """A multipart part that produces ``total`` bytes on demand and counts how many were read."""

    def __init__(self, head: bytes, total: int | None = None, filename: str = "upload.bin") -> None:
        self.filename = filename
        self._head = head
        self._total = len(head) if total is None else total
        self.read = 0

    async def read_chunk(self, size: int = 8192) -> bytes:
        if self.read >= self._total:
            return b""
        if self.read < len(self._head):
            chunk = self._head[self.read : self.read + size]
        else:
            chunk = b"\x00" * min(size, self._total - self.read)
        self.read += len(chunk)
        return chunk


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def owner_with_listing(client: TestClient[Any, Any]) -> tuple[dict[str, Any], str]:
    owner = await register(client, user_type="owner")
    listing = await create_listing(client, owner)
    return owner, listing["property_id"]


async def test_images_upload_append_and_serve(client: TestClient[Any, Any], settings: Settings) -> None:
    owner, pid = await owner_with_listing(client)
    png = png_bytes()
    form = files_form(("front.png", png), ("kitchen.jpg", JPEG), ("hall.webp", WEBP))
    response = await client.post(f"/api/properties/{pid}/upload-images", data=form, headers=owner["headers"])
    assert response.status == 200, await response.text()
    urls = (await response.json())["image_urls"]
    assert len(urls) == 3
    assert all(url.startswith(f"/uploads/properties/{pid}/") for url in urls)
    assert [u.rsplit(".", 1)[1] for u in urls] == ["png", "jpg", "webp"]
    assert all("front" not in u and "kitchen" not in u for u in urls)  # generated names

    listing = await (await client.get(f"/api/properties/{pid}")).json()
    assert listing["images"] == urls

    response = await client.get(urls[0])  # public: no token needed
    assert response.status == 200
    assert await response.read() == png
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    # A second batch is appended after the first.
    response = await client.post(
        f"/api/properties/{pid}/upload-images", data=files_form(("more.jpg", JPEG)), headers=owner["headers"]
    )
    more = (await response.json())["image_urls"]
    listing = await (await client.get(f"/api/properties/{pid}")).json()
    assert listing["images"] == urls + more

    record = await client.app[UPLOADS].find_owned(url=urls[0], uploader_id=owner["user"]["user_id"])
    assert record is not None and record.api_view()["file_name"] == "front.png"
    assert record.api_view()["file_type"] == "image/png" and record.size == len(png)
    assert await client.app[UPLOADS].find_owned(url=urls[0], uploader_id="someone-else") is None


async def test_concurrent_image_uploads_all_land(client: TestClient[Any, Any]) -> None:
    owner, pid = await owner_with_listing(client)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/properties/{pid}/upload-images",
                data=files_form((f"{i}.jpg", JPEG)),
                headers=owner["headers"],
            )
            for i in range(6)
        )
    )
    urls = [(await r.json())["image_urls"][0] for r in responses]
    listing = await (await client.get(f"/api/properties/{pid}")).json()
    assert sorted(listing["images"]) == sorted(urls)


async def test_only_the_owner_uploads_images(client: TestClient[Any, Any], settings: Settings) -> None:
    _owner, pid = await owner_with_listing(client)
    stranger = await register(client, user_type="owner")
    url = f"/api/properties/{pid}/upload-images"
    assert (await client.post(url, data=files_form(("a.jpg", JPEG)))).status == 401
    response = await client.post(url, data=files_form(("a.jpg", JPEG)), headers=stranger["headers"])
    assert response.status == 403
    response = await client.post(
        "/api/properties/nope/upload-images", data=files_form(("a.jpg", JPEG)), headers=stranger["headers"]
    )
    assert response.status == 404
    assert stored_files(settings.upload_dir) == []


async def test_bad_upload_requests(client: TestClient[Any, Any], settings: Settings) -> None:
    owner, pid = await owner_with_listing(client)
    url = f"/api/properties/{pid}/upload-images"
    response = await client.post(url, json={"files": ["x"]}, headers=owner["headers"])
    assert response.status == 400
    form = FormData()
    form.add_field("caption", "no files here")
    response = await client.post(url, data=form, headers=owner["headers"])
    assert response.status == 400
    response = await client.post(url, data=files_form(("empty.jpg", b"")), headers=owner["headers"])
    assert response.status == 400
    assert stored_files(settings.upload_dir) == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("report.pdf", PDF),  # a real document, but not an image
        ("photo.jpg", PDF),  # the name lies
        ("photo.jpg", b"just some text pretending to be a jpeg"),
        ("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("photo.jpg", b"GIF89a\x01\x00\x01\x00"),
        ("photo.jpg", b"\xff\xd8"),  # too short to be a JPEG
    ],
)
async def test_images_are_judged_by_content(
    client: TestClient[Any, Any], settings: Settings, name: str, data: bytes
) -> None:
    owner, pid = await owner_with_listing(client)
    response = await client.post(
        f"/api/properties/{pid}/upload-images", data=files_form((name, data)), headers=owner["headers"]
    )
    assert response.status == 415, await response.text()
    body = await response.json()
    assert "jpeg, png, webp" in body["detail"] and body["error"]["code"] == "unsupported_file_type"
    assert stored_files(settings.upload_dir) == []


async def test_one_bad_file_fails_the_whole_batch(client: TestClient[Any, Any], settings: Settings) -> None:
    owner, pid = await owner_with_listing(client)
    form = files_form(("good.png", png_bytes()), ("bad.jpg", b"not an image at all"))
    response = await client.post(f"/api/properties/{pid}/upload-images", data=form, headers=owner["headers"])
    assert response.status == 415
    listing = await (await client.get(f"/api/properties/{pid}")).json()
    assert listing["images"] == []
    assert stored_files(settings.upload_dir) == []
    assert await StoredFile.find_all().count() == 0


async def test_oversize_upload_is_413_and_leaves_nothing(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    owner, pid = await owner_with_listing(client)
    big = JPEG[:-2] + b"\x00" * (4 * 1024 * 1024)  # 4 MB: 64 times the cap, and past the JSON body limit
    response = await client.post(
        f"/api/properties/{pid}/upload-images", data=files_form(("huge.jpg", big)), headers=owner["headers"]
    )
    assert response.status == 413
    assert "larger than" in (await response.json())["detail"]
    assert stored_files(settings.upload_dir) == []  # no partial file, no temp file
    listing = await (await client.get(f"/api/properties/{pid}")).json()
    assert listing["images"] == []


async def test_the_cap_stops_reading_instead_of_buffering(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    """The service reads at most one chunk past the cap, however large the part is."""
    part = FakePart(JPEG, total=100 * CAP)
    with pytest.raises(PayloadTooLarge):
        await client.app[UPLOADS].save(
            area="properties",
            owner_segment="p1",
            uploader_id="u1",
            part=part,
            kind="image",
            referenced=True,
        )
    assert part.read <= CAP + READ_CHUNK_BYTES
    assert stored_files(settings.upload_dir) == []
    # Exactly at the cap is fine.
    exact = FakePart(JPEG, total=CAP)
    stored = await client.app[UPLOADS].save(
        area="properties",
        owner_segment="p1",
        uploader_id="u1",
        part=exact,
        kind="image",
        referenced=True,
    )
    assert stored.size == CAP


async def test_uploads_larger_than_the_json_body_limit_stream_through(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    from homer_rt.app import create_app

    client = await aiohttp_client(create_app(make_settings(tmp_path)))  # default 10 MB cap, 1 MB body limit
    owner, pid = await owner_with_listing(client)
    big = JPEG[:-2] + b"\x01" * (3 * 1024 * 1024)
    response = await client.post(
        f"/api/properties/{pid}/upload-images", data=files_form(("big.jpg", big)), headers=owner["headers"]
    )
    assert response.status == 200, await response.text()
    url = (await response.json())["image_urls"][0]
    assert await (await client.get(url)).read() == big


@pytest.mark.parametrize(
    ("name", "data", "kind", "ok"),
    [
        ("id.pdf", PDF, "document", True),
        ("id.jpg", JPEG, "document", True),
        ("id.png", png_bytes(), "document", True),
        ("old.doc", DOC, "document", True),
        ("new.docx", docx_bytes(), "document", True),
        ("fake.docx", plain_zip_bytes(), "document", False),
        ("fake.pdf", b"%PDX not a pdf", "document", False),
        ("script.pdf", b"#!/bin/sh\nrm -rf /\n", "document", False),
        ("id.webp", WEBP, "document", False),
        ("doc.jpg", DOC, "image", False),
    ],
)
async def test_document_types(
    client: TestClient[Any, Any], name: str, data: bytes, kind: str, ok: bool
) -> None:
    part = FakePart(data, filename=name)
    uploads = client.app[UPLOADS]
    if ok:
        stored = await uploads.save(
            area="verification",
            owner_segment="u1",
            uploader_id="u1",
            part=part,
            kind=kind,
            referenced=True,
        )
        assert stored.url.startswith("/uploads/verification/u1/") and stored.size == len(data)
    else:
        with pytest.raises(UnsupportedMediaType):
            await uploads.save(
                area="verification",
                owner_segment="u1",
                uploader_id="u1",
                part=part,
                kind=kind,
                referenced=True,
            )
        assert await StoredFile.find_all().count() == 0


async def test_client_file_names_never_become_paths(client: TestClient[Any, Any], settings: Settings) -> None:
    part = FakePart(PDF, filename="../../../etc/passwd\\..\\evil.pdf")
    stored = await client.app[UPLOADS].save(
        area="verification",
        owner_segment="u1",
        uploader_id="u1",
        part=part,
        kind="document",
        referenced=True,
    )
    assert stored.file_name == "evil.pdf"
    files = stored_files(settings.upload_dir)
    assert len(files) == 1 and files[0].parent == settings.upload_dir.resolve() / "verification" / "u1"


async def test_verification_files_are_private(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    other = await register(client)
    admin = await make_admin(client)
    user_id = renter["user"]["user_id"]
    stored = await client.app[UPLOADS].save(
        area="verification",
        owner_segment=user_id,
        uploader_id=user_id,
        part=FakePart(PDF, filename="aadhaar.pdf"),
        kind="document",
        referenced=True,
    )
    response = await client.get(stored.url)
    assert response.status == 401
    response = await client.get(stored.url, headers=other["headers"])
    assert response.status == 403
    for who in (renter, admin):
        response = await client.get(stored.url, headers=who["headers"])
        assert response.status == 200
        assert await response.read() == PDF
        assert response.headers["Content-Type"] == "application/pdf"
    response = await client.get(stored.url, headers={"Authorization": "Bearer not-a-token"})
    assert response.status == 401
    # ...while a stale token never breaks a public image.
    public = await client.app[UPLOADS].save(
        area="properties",
        owner_segment="p1",
        uploader_id=user_id,
        part=FakePart(JPEG),
        kind="image",
        referenced=True,
    )
    response = await client.get(public.url, headers={"Authorization": "Bearer not-a-token"})
    assert response.status == 200
    # A missing file in someone else's folder is a 403 too: nothing about it is revealed.
    response = await client.get(f"/uploads/verification/{user_id}/missing.pdf", headers=other["headers"])
    assert response.status == 403
    response = await client.get(f"/uploads/verification/{user_id}/missing.pdf", headers=renter["headers"])
    assert response.status == 404


async def test_registered_areas_and_unknown_ones(client: TestClient[Any, Any]) -> None:
    uploads = client.app[UPLOADS]

    async def members_only(user: Any, owner_segment: str) -> bool:
        return user is not None and owner_segment == "club"

    uploads.register_policy("club", members_only)
    stored = await uploads.save(
        area="club",
        owner_segment="club",
        uploader_id="u1",
        part=FakePart(JPEG),
        kind="image",
        referenced=True,
    )
    assert (await client.get(stored.url)).status == 401
    member = await register(client)
    assert (await client.get(stored.url, headers=member["headers"])).status == 200
    assert (await client.get("/uploads/secrets/x/y.jpg")).status == 404


async def test_profile_photo(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    png = png_bytes()
    form = files_form(("me.png", png), field="photo")
    response = await client.post("/api/users/me/photo", data=form, headers=user["headers"])
    assert response.status == 200, await response.text()
    profile = await response.json()
    url = profile["profile_photo_url"]
    assert (
        url.startswith(f"/uploads/profiles/{user['user']['user_id']}/") and profile["email"] == user["email"]
    )
    assert await (await client.get(url)).read() == png
    me = await (await client.get("/api/users/me", headers=user["headers"])).json()
    assert me["profile_photo_url"] == url

    # A new photo replaces the old one, whose file is removed.
    response = await client.post(
        "/api/users/me/photo", data=files_form(("new.jpg", JPEG), field="photo"), headers=user["headers"]
    )
    new_url = (await response.json())["profile_photo_url"]
    assert new_url != url and (await client.get(new_url)).status == 200
    assert (await client.get(url)).status == 404

    response = await client.post(
        "/api/users/me/photo", data=files_form(("cv.pdf", PDF), field="photo"), headers=user["headers"]
    )
    assert response.status == 415
    response = await client.post(
        "/api/users/me/photo", data=files_form(("me.png", png), field="other"), headers=user["headers"]
    )
    assert response.status == 400
    assert (await client.post("/api/users/me/photo", data=form)).status == 401


async def test_removing_an_image_deletes_the_file(client: TestClient[Any, Any], settings: Settings) -> None:
    owner, pid = await owner_with_listing(client)
    stranger = await register(client, user_type="owner")
    form = files_form(("a.jpg", JPEG), ("b.png", png_bytes()))
    urls = (
        await (
            await client.post(f"/api/properties/{pid}/upload-images", data=form, headers=owner["headers"])
        ).json()
    )["image_urls"]
    url = f"/api/properties/{pid}/images"
    response = await client.delete(url, json={"image_url": urls[0]}, headers=stranger["headers"])
    assert response.status == 403
    response = await client.delete(url, json={"image_url": urls[0]}, headers=owner["headers"])
    assert response.status == 200
    assert (await response.json())["images"] == [urls[1]]
    assert (await client.get(urls[0])).status == 404
    assert len(stored_files(settings.upload_dir)) == 1
    assert (await client.delete(url, json={"image_url": urls[0]}, headers=owner["headers"])).status == 404
    # The query string works too (some clients cannot send a DELETE body).
    response = await client.delete(url, params={"image_url": urls[1]}, headers=owner["headers"])
    assert response.status == 200
    assert (await (await client.get(f"/api/properties/{pid}")).json())["images"] == []
    assert stored_files(settings.upload_dir) == []
    assert (await client.delete(url, json={}, headers=owner["headers"])).status == 422


async def raw_get(client: TestClient[Any, Any], path: str) -> tuple[int, bytes]:
    """Send the path exactly as written: no client-side normalisation of dot segments or escapes."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode("latin-1"))
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    status = int(data.split(b" ", 2)[1])
    return status, data


async def test_paths_that_leave_their_folder_are_refused(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    owner, pid = await owner_with_listing(client)
    secret = settings.upload_dir.parent / "secret.txt"
    secret.write_text("TOP-SECRET")
    (settings.upload_dir / "properties" / pid).mkdir(parents=True, exist_ok=True)
    urls = (
        await (
            await client.post(
                f"/api/properties/{pid}/upload-images",
                data=files_form(("a.jpg", JPEG)),
                headers=owner["headers"],
            )
        ).json()
    )["image_urls"]
    status, _ = await raw_get(client, urls[0])
    assert status == 200  # the control: the raw client does reach real files
    name = urls[0].rsplit("/", 1)[1]
    attempts = [
        "/uploads/properties/../../secret.txt",
        f"/uploads/properties/{pid}/../../../secret.txt",
        "/uploads/properties/%2e%2e/%2e%2e/secret.txt",
        f"/uploads/properties/{pid}/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
        f"/uploads/properties/{pid}/..%2f..%2f..%2fsecret.txt",
        f"/uploads/properties/{pid}/..%5c..%5c..%5csecret.txt",
        f"/uploads/properties/{pid}/..\\..\\..\\secret.txt",
        "/uploads/properties/%2e%2e/x/secret.txt",
        "/uploads/%2e%2e/%2e%2e/secret.txt",
        f"/uploads/properties/{pid}/%2fetc%2fpasswd",
        "/uploads/properties//etc/passwd",
        "/uploads//properties/x/secret.txt",
        f"/uploads/properties/{pid}/secret.txt%00.jpg",
        f"/uploads/properties/{pid}/{name}/extra",
        f"/uploads/properties/{pid}/sub/{name}",
        f"/uploads/properties/{pid}/.hidden",
        "/uploads/properties/C:%5cWindows/win.ini",
    ]
    for path in attempts:
        status, data = await raw_get(client, path)
        assert status in (400, 404), (path, status)
        assert b"TOP-SECRET" not in data, path


async def test_a_listing_keeps_at_most_thirty_images(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    owner, pid = await owner_with_listing(client)
    existing = [f"/uploads/properties/{pid}/old{i}.jpg" for i in range(MAX_IMAGES_PER_LISTING - 1)]
    await set_listing(pid, images=existing)
    url = f"/api/properties/{pid}/upload-images"
    response = await client.post(
        url, data=files_form(("a.jpg", JPEG), ("b.jpg", JPEG)), headers=owner["headers"]
    )
    assert response.status == 409
    assert stored_files(settings.upload_dir) == []  # the batch's files are removed again
    response = await client.post(url, data=files_form(("a.jpg", JPEG)), headers=owner["headers"])
    assert response.status == 200
    listing = await (await client.get(f"/api/properties/{pid}")).json()
    assert len(listing["images"]) == MAX_IMAGES_PER_LISTING


async def test_malformed_and_truncated_multipart_is_400(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    owner, pid = await owner_with_listing(client)
    url = f"/api/properties/{pid}/upload-images"
    truncated = (
        b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.jpg"\r\n\r\n' + JPEG[:40]
    )  # the closing boundary never comes
    for content_type, body in (
        ("multipart/form-data", b"no boundary"),
        ("multipart/form-data; boundary=xyz", b"not a multipart body"),
        ("multipart/form-data; boundary=xyz", truncated),
    ):
        response = await client.post(
            url, data=body, headers={**owner["headers"], "Content-Type": content_type}
        )
        assert response.status == 400, (content_type, body[:20])
        assert (await response.json())["error"]["code"] == "malformed_multipart"
    assert stored_files(settings.upload_dir) == []
