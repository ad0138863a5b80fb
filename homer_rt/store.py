"""The document store: MongoDB through motor, or the embedded in-memory store (mongomock-motor).

The embedded store can be kept in a file (EMBEDDED_DATA_FILE): loaded at start, written atomically
(temp file + rename) every few seconds after a change and at clean shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from beanie import init_beanie
from bson import json_util
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo import monitoring

from documents import ALL_DOCUMENTS
from homer_rt.settings import Settings

log = logging.getLogger(__name__)


class Store:
    """An open database plus, for the embedded store, what keeps it on disk."""

    def __init__(self, *, client: Any, database: AsyncIOMotorDatabase[Any], embedded: bool) -> None:
        self.client = client
        self.database = database
        self.embedded = embedded

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.database.command("ping"), timeout=2)
        except Exception:  # any failure means "the store does not answer" for the health check
            return False
        return True

    async def snapshot(self) -> str:
        """All collections as Extended JSON (types such as datetimes survive the round trip)."""
        dump: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(await self.database.list_collection_names()):
            dump[name] = [doc async for doc in self.database[name].find({})]
        return json_util.dumps(dump, json_options=json_util.CANONICAL_JSON_OPTIONS, sort_keys=True)

    async def restore(self, text: str) -> int:
        dump = json_util.loads(text, json_options=json_util.CANONICAL_JSON_OPTIONS)
        count = 0
        for name, docs in dump.items():
            if docs:
                await self.database[name].insert_many(docs)
                count += len(docs)
        return count


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class EmbeddedFileKeeper:
    """Saves the embedded store to its file whenever its contents changed since the last save."""

    def __init__(self, *, store: Store, path: Path, interval: float) -> None:
        self._store = store
        self._path = path
        self._interval = interval
        self._last_saved: str | None = None

    async def load(self) -> None:
        if not self._path.exists():
            log.info("embedded data file %s does not exist yet; starting empty", self._path)
            return
        text = await asyncio.to_thread(self._path.read_text, encoding="utf-8")
        count = await self._store.restore(text)
        self._last_saved = await self._store.snapshot()
        log.info("loaded %d documents from %s", count, self._path)

    async def save_if_changed(self) -> bool:
        text = await self._store.snapshot()
        if text == self._last_saved:
            return False
        await asyncio.to_thread(_write_atomically, self._path, text)
        self._last_saved = text
        return True

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.save_if_changed()
            except Exception:
                log.exception("could not save the embedded store to %s", self._path)


@contextlib.asynccontextmanager
async def open_store(
    settings: Settings, *, command_listeners: Sequence[monitoring.CommandListener] = ()
) -> AsyncIterator[Store]:
    """``command_listeners`` see every MongoDB command (metrics.StoreCommandListener); the embedded store
    sends none."""
    if settings.uses_embedded_store:
        from mongomock_motor import AsyncMongoMockClient

        log.warning(
            "EMBEDDED STORE: MONGODB_URL is not set, data lives in memory%s",
            f" and is saved to {settings.embedded_data_file}"
            if settings.embedded_data_file
            else " and is LOST when the server stops (set EMBEDDED_DATA_FILE or MONGODB_URL to keep it)",
        )
        client: Any = AsyncMongoMockClient(tz_aware=True)
        store = Store(client=client, database=client[settings.mongodb_db], embedded=True)
    else:
        client = AsyncIOMotorClient(
            settings.mongodb_url,
            tz_aware=True,
            uuidRepresentation="standard",
            event_listeners=list(command_listeners),
        )
        store = Store(client=client, database=client[settings.mongodb_db], embedded=False)

    keeper: EmbeddedFileKeeper | None = None
    saver: asyncio.Task[None] | None = None
    if store.embedded and settings.embedded_data_file:
        keeper = EmbeddedFileKeeper(
            store=store, path=settings.embedded_data_file, interval=settings.embedded_save_interval_seconds
        )
        await keeper.load()
    await init_beanie(database=store.database, document_models=ALL_DOCUMENTS)
    if keeper is not None:
        saver = asyncio.create_task(keeper.run(), name="embedded-store-saver")
    try:
        yield store
    finally:
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
        if keeper is not None:
            await keeper.save_if_changed()
        client.close()
