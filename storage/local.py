"""Local disk under UPLOAD_DIR. Every file operation runs in a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from storage.base import LocalTarget, ServeTarget, StorageError, StoredObjectMissing


def _check_segment(segment: str) -> None:
    if (
        not segment
        or segment in {".", ".."}
        or "/" in segment
        or "\\" in segment
        or "\x00" in segment
        or segment.startswith(".")
    ):
        raise StorageError(f"unsafe storage key segment {segment!r}")


class LocalStorage:
    name = "local"

    def __init__(self, *, root: Path) -> None:
        self._root = root.resolve()

    @property
    def root(self) -> Path:
        return self._root

    def path_for(self, key: str) -> Path:
        """The file for key, refusing anything that would resolve outside the root."""
        segments = key.split("/")
        for segment in segments:
            _check_segment(segment)
        path = self._root.joinpath(*segments)
        # Resolution catches symlinks planted inside the upload directory as well as dot segments.
        resolved = path.resolve()
        if not resolved.is_relative_to(self._root) or resolved == self._root:
            raise StorageError(f"storage key {key!r} leaves the upload directory")
        return resolved

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        path = self.path_for(key)
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")

        def _open() -> BinaryIO:
            path.parent.mkdir(parents=True, exist_ok=True)
            return temp.open("xb")

        handle = await asyncio.to_thread(_open)
        size = 0
        try:
            try:
                async for chunk in chunks:
                    await asyncio.to_thread(handle.write, chunk)
                    size += len(chunk)
            finally:
                await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, temp, path)
        except BaseException:
            await asyncio.to_thread(_unlink_quietly, temp)
            raise
        return size

    async def read(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise StoredObjectMissing(key) from exc

    async def open(self, key: str, *, content_disposition: str | None = None) -> ServeTarget:
        path = self.path_for(key)
        if not await asyncio.to_thread(path.is_file):
            raise StoredObjectMissing(key)
        return LocalTarget(path=path, content_disposition=content_disposition)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(_unlink_quietly, self.path_for(key))

    async def presigned_url(self, key: str) -> str | None:
        return None

    async def check(self) -> None:
        await asyncio.to_thread(self._write_probe)

    def _write_probe(self) -> None:
        """Write and remove a small file: permissions, a read-only mount and a full disk all show."""
        probe = self._root / f".ready-{uuid.uuid4().hex}"
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ready")
            probe.unlink()
        except OSError as exc:
            with contextlib.suppress(OSError):
                probe.unlink()
            raise StorageError(f"the upload directory is not writable ({exc.strerror or 'error'})") from exc


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
