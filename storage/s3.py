"""S3 (or MinIO, or moto) through aiobotocore: one long-lived client opened and closed in a cleanup_ctx.

Uploads stream: small objects go up in one put_object, anything past one part size becomes a multipart
upload, so memory stays bounded by the part size whatever the cap. Serving redirects to a presigned GET.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from storage.base import RedirectTarget, ServeTarget, StorageError, StoredObjectMissing

log = logging.getLogger(__name__)

# S3 needs every part but the last to be at least 5 MiB.
PART_SIZE = 5 * 1024 * 1024
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


class S3Storage:
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        presign_seconds: int = 300,
        create_bucket: bool = True,
    ) -> None:
        self._bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._presign_seconds = presign_seconds
        self._create_bucket = create_bucket
        self._client: Any = None

    @property
    def bucket(self) -> str:
        return self._bucket

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator[S3Storage]:
        """Open the one client this storage uses for its whole life."""
        session = get_session()
        config = AioConfig(
            signature_version="s3v4",
            # A custom endpoint (MinIO, moto) rarely resolves virtual-hosted bucket names.
            s3={"addressing_style": "path" if self._endpoint_url else "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
        )
        async with session.create_client(
            "s3",
            region_name=self._region,
            endpoint_url=self._endpoint_url,
            aws_access_key_id=self._access_key_id,
            aws_secret_access_key=self._secret_access_key,
            config=config,
        ) as client:
            self._client = client
            try:
                if self._create_bucket:
                    await self._ensure_bucket()
                yield self
            finally:
                self._client = None

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        async with self.opened():
            yield

    @property
    def client(self) -> Any:
        if self._client is None:
            raise StorageError("the S3 client is not open (the app's cleanup_ctx opens it)")
        return self._client

    async def _ensure_bucket(self) -> None:
        try:
            await self.client.head_bucket(Bucket=self._bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                log.warning("cannot check S3 bucket %s: %s", self._bucket, exc)
                return
        params: dict[str, Any] = {"Bucket": self._bucket}
        if self._region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        try:
            await self.client.create_bucket(**params)
            log.info("created S3 bucket %s", self._bucket)
        except ClientError as exc:
            log.warning("cannot create S3 bucket %s: %s", self._bucket, exc)

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                while len(buffer) >= PART_SIZE:
                    if upload_id is None:
                        created = await self.client.create_multipart_upload(
                            Bucket=self._bucket, Key=key, ContentType=content_type
                        )
                        upload_id = created["UploadId"]
                    part = bytes(buffer[:PART_SIZE])
                    del buffer[:PART_SIZE]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
            if upload_id is None:
                await self.client.put_object(
                    Bucket=self._bucket, Key=key, Body=bytes(buffer), ContentType=content_type
                )
            else:
                if buffer or not parts:
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
                await self.client.complete_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException as exc:
            if upload_id is not None:
                with contextlib.suppress(ClientError, BotoCoreError):
                    await self.client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
            if isinstance(exc, ClientError | BotoCoreError):
                raise StorageError(f"S3 put {key}: {exc}") from exc
            raise
        return size

    async def _upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        answer = await self.client.upload_part(
            Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    async def read(self, key: str) -> bytes:
        try:
            answer = await self.client.get_object(Bucket=self._bucket, Key=key)
            async with answer["Body"] as stream:
                data: bytes = await stream.read()
                return data
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise StoredObjectMissing(key) from exc
            raise StorageError(f"S3 get {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 get {key}: {exc}") from exc

    async def exists(self, key: str) -> bool:
        try:
            await self.client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                return False
            raise StorageError(f"S3 head {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 head {key}: {exc}") from exc
        return True

    async def open(self, key: str, *, content_disposition: str | None = None) -> ServeTarget:
        # The upload service only asks for keys it has a record of; a presigned URL to a missing object
        # would answer the client with S3's own 404, so there is no need for an extra HEAD per view.
        return RedirectTarget(url=await self.presigned_url(key, content_disposition=content_disposition))

    async def delete(self, key: str) -> None:
        try:
            await self.client.delete_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) not in _MISSING_CODES:
                raise StorageError(f"S3 delete {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 delete {key}: {exc}") from exc

    async def check(self) -> None:
        try:
            await self.client.head_bucket(Bucket=self._bucket)
        except ClientError as exc:
            raise StorageError(f"the bucket is not reachable (S3 answered {_error_code(exc)})") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 is unreachable ({type(exc).__name__})") from exc

    async def presigned_url(self, key: str, *, content_disposition: str | None = None) -> str:
        params = {"Bucket": self._bucket, "Key": key}
        if content_disposition:
            # Signed into the URL: S3 answers with this Content-Disposition, and nobody can strip it.
            params["ResponseContentDisposition"] = content_disposition
        url: str = await self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self._presign_seconds
        )
        return url


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
