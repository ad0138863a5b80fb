"""The S3 backend against a real S3 endpoint: moto's server mode on 127.0.0.1 in a subprocess.

(In-process mock_aws patches botocore's HTTP layer, which aiobotocore does not use, so a server it is.)
"""

from __future__ import annotations

import contextlib
import io
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from homer_rt.app import create_app
from homer_rt.appkeys import UPLOADS
from homer_rt.settings import Settings
from storage.base import RedirectTarget, StoredObjectMissing
from storage.s3 import PART_SIZE, S3Storage
from tests.factories import create_listing, make_settings, register
from tests.listing_support import JPEG, PDF, files_form, png_bytes
from tests.server_support import stop_process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("moto_server exited at start")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def s3_settings(tmp_path: Path, endpoint: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "storage_backend": "s3",
        "s3_bucket": f"homer-test-{uuid.uuid4().hex[:12]}",
        "s3_endpoint_url": endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "aws_region": "ap-south-1",
        "s3_presign_seconds": 60,
    }
    values.update(overrides)
    return make_settings(tmp_path, **values)


@pytest.fixture
async def storage(tmp_path: Path, moto_endpoint: str) -> AsyncIterator[S3Storage]:
    settings = s3_settings(tmp_path, moto_endpoint)
    assert settings.bucket is not None
    backend = S3Storage(
        bucket=settings.bucket,
        region=settings.aws_region,
        endpoint_url=moto_endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        presign_seconds=60,
    )
    async with backend.opened():
        yield backend


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing_after(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise RuntimeError("client went away")


async def fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read()


async def fetch_disposition(url: str) -> str | None:
    """The Content-Disposition S3 answers a presigned GET with."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return response.headers.get("Content-Disposition")


async def test_put_read_presign_delete(storage: S3Storage) -> None:
    size = await storage.put(
        "properties/p1/a.jpg", chunks_of(JPEG[:10], JPEG[10:]), content_type="image/jpeg"
    )
    assert size == len(JPEG)
    assert await storage.read("properties/p1/a.jpg") == JPEG
    head = await storage.client.head_object(Bucket=storage.bucket, Key="properties/p1/a.jpg")
    assert head["ContentType"] == "image/jpeg"

    target = await storage.open("properties/p1/a.jpg")
    assert isinstance(target, RedirectTarget)
    assert "X-Amz-Signature" in target.url and "X-Amz-Expires=60" in target.url
    assert await fetch(target.url) == (200, JPEG)

    await storage.delete("properties/p1/a.jpg")
    assert not await storage.exists("properties/p1/a.jpg")
    with pytest.raises(StoredObjectMissing):
        await storage.read("properties/p1/a.jpg")
    await storage.delete("properties/p1/a.jpg")  # deleting twice is fine
    status, _ = await fetch(await storage.presigned_url("properties/p1/a.jpg"))
    assert status == 404


async def test_large_objects_go_up_in_parts(storage: S3Storage) -> None:
    data = bytes(range(256)) * ((PART_SIZE + 300_000) // 256)
    pieces = [data[i : i + 64 * 1024] for i in range(0, len(data), 64 * 1024)]
    assert await storage.put("big/object/x.bin", chunks_of(*pieces), content_type="application/pdf") == len(
        data
    )
    assert await storage.read("big/object/x.bin") == data


async def test_a_failed_stream_leaves_nothing(storage: S3Storage) -> None:
    with pytest.raises(RuntimeError):
        await storage.put("x/y/small.jpg", failing_after(JPEG), content_type="image/jpeg")
    assert not await storage.exists("x/y/small.jpg")
    big = b"\x00" * (PART_SIZE + 1024)
    with pytest.raises(RuntimeError):
        await storage.put("x/y/big.jpg", failing_after(big), content_type="image/jpeg")
    assert not await storage.exists("x/y/big.jpg")
    pending = await storage.client.list_multipart_uploads(Bucket=storage.bucket)
    assert not pending.get("Uploads")


@pytest.fixture
async def s3_client(aiohttp_client: Any, tmp_path: Path, moto_endpoint: str) -> TestClient[Any, Any]:
    app = create_app(s3_settings(tmp_path, moto_endpoint, max_upload_bytes=64 * 1024))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


async def bucket_keys(client: TestClient[Any, Any]) -> list[str]:
    storage = client.app[UPLOADS].storage
    assert isinstance(storage, S3Storage)
    listing = await storage.client.list_objects_v2(Bucket=storage.bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


async def test_listing_images_through_the_app(s3_client: TestClient[Any, Any], tmp_path: Path) -> None:
    client = s3_client
    owner = await register(client, user_type="owner")
    pid = (await create_listing(client, owner))["property_id"]
    png = png_bytes()
    response = await client.post(
        f"/api/properties/{pid}/upload-images",
        data=files_form(("a.png", png), ("b.jpg", JPEG)),
        headers=owner["headers"],
    )
    assert response.status == 200, await response.text()
    urls = (await response.json())["image_urls"]
    assert all(url.startswith(f"/uploads/properties/{pid}/") for url in urls)  # same URLs as on disk
    assert sorted(await bucket_keys(client)) == sorted(url.removeprefix("/uploads/") for url in urls)
    assert not (tmp_path / "uploads").exists()

    response = await client.get(urls[0], allow_redirects=False)
    assert response.status == 302
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:") and "X-Amz-Signature" in location
    assert await fetch(location) == (200, png)
    assert await fetch_disposition(location) is None  # public images are shown inline

    response = await client.delete(
        f"/api/properties/{pid}/images", json={"image_url": urls[0]}, headers=owner["headers"]
    )
    assert response.status == 200
    assert await bucket_keys(client) == [urls[1].removeprefix("/uploads/")]
    assert (await client.get(urls[0], allow_redirects=False)).status == 404


async def test_private_files_are_checked_before_any_redirect(s3_client: TestClient[Any, Any]) -> None:
    client = s3_client
    renter = await register(client)
    other = await register(client)
    user_id = renter["user"]["user_id"]

    class Part:
        filename = "pan.pdf"

        def __init__(self) -> None:
            self._data = io.BytesIO(PDF)

        async def read_chunk(self, size: int = 8192) -> bytes:
            return self._data.read(size)

    stored = await client.app[UPLOADS].save(
        area="verification",
        owner_segment=user_id,
        uploader_id=user_id,
        part=Part(),
        kind="document",
        referenced=True,
    )
    assert (await client.get(stored.url, allow_redirects=False)).status == 401
    assert (await client.get(stored.url, allow_redirects=False, headers=other["headers"])).status == 403
    response = await client.get(stored.url, allow_redirects=False, headers=renter["headers"])
    assert response.status == 302
    assert await fetch(response.headers["Location"]) == (200, PDF)
    # The document is downloaded, never displayed: the disposition is signed into the URL, so S3 sends it.
    assert "response-content-disposition=attachment" in response.headers["Location"]
    assert await fetch_disposition(response.headers["Location"]) == (
        "attachment; filename=\"pan.pdf\"; filename*=UTF-8''pan.pdf"
    )
    # The redirect itself carries the headers every response does.
    assert response.headers["Server"] == "Homer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Vary"] == "Origin"


async def test_oversize_upload_to_s3_leaves_nothing(s3_client: TestClient[Any, Any]) -> None:
    client = s3_client
    owner = await register(client, user_type="owner")
    pid = (await create_listing(client, owner))["property_id"]
    big = JPEG[:-2] + b"\x00" * (1024 * 1024)
    response = await client.post(
        f"/api/properties/{pid}/upload-images", data=files_form(("big.jpg", big)), headers=owner["headers"]
    )
    assert response.status == 413
    assert await bucket_keys(client) == []


async def test_readiness_checks_the_bucket(aiohttp_client: Any, tmp_path: Path, moto_endpoint: str) -> None:
    # Every probe checks afresh here (no caching of the last round).
    client = await aiohttp_client(create_app(s3_settings(tmp_path, moto_endpoint, readiness_cache_seconds=0)))
    response = await client.get("/api/health/ready")
    assert response.status == 200
    assert (await response.json())["checks"]["storage"] == {"ok": True}

    storage = client.app[UPLOADS].storage
    assert isinstance(storage, S3Storage)
    await storage.client.delete_bucket(Bucket=storage.bucket)
    response = await client.get("/api/health/ready")
    assert response.status == 503
    assert (await response.json())["checks"]["storage"] == {
        "ok": False,
        "detail": "the bucket is not reachable (S3 answered 404)",
    }
