"""The document store: MongoDB through motor, or the embedded in-memory store (mongomock-motor).

The embedded store can be kept in a file (EMBEDDED_DATA_FILE): loaded at start, written atomically (temp file,
fsync, rename) a few seconds after a change and at clean shutdown. Loading and saving take time in proportion
to the data, and neither holds the event loop for long:

- Loading parses the file in a worker thread and puts the documents straight into mongomock's storage before
  Beanie creates the indexes. Inserting them validates, converts and copies every document once more, and a
  mongomock cursor over a whole collection is quadratic (it slices its result list on every document).
- A save runs only when a write went through the store since the last save started: every write method of the
  embedded database bumps one counter. It reads mongomock's stored documents directly, serializes them a few
  milliseconds at a time, lets the event loop run between two such steps, and writes them in a worker thread
  as it goes. A write acknowledged before a save starts is in that save (it is in storage when the save reads
  it, or was replaced by a later write); one made during the save is in it or in the next one. Under a steady
  stream of writes, saves take at most a fifth of the event loop's time (SAVE_LOOP_SHARE); at shutdown a
  periodic save under way is given up for the final one.

The file is relaxed Extended JSON (so dates, decimals and binary keep their types) with one document per line:

    {
    "chat_messages": [
    {"_id":"…","chat_id":"…","seq":1,…,"timestamp":{"$date":"2025-06-02T09:01:00.000Z"}},
    {"_id":"…",…}
    ],
    "users": [
    …
    ]
    }

As a whole it is one JSON document (``bson.json_util.loads`` reads it). The store loads only this layout,
the one it writes: a file in any other (reformatted by hand or by a tool) is refused with the reason.

What this relies on inside mongomock 4.3.0 and mongomock-motor 0.0.36 (mongomock-motor is pinned in
pyproject.toml and accepts mongomock >=4.1.2,<5; a test, test_mongomock_internals_are_as_assumed in
tests/test_embedded_store.py, fails if an upgrade changes any of it):
- ``mongomock.MongoClient(_store=ServerStore())`` keeps its databases in that ServerStore;
  ``server_store[database][collection]`` is a CollectionStore whose ``_documents`` (an OrderedDict) maps each
  _id (a ``helpers.hashdict`` when the _id is a document) to the stored document: plain dicts and lists,
  datetimes naive UTC cut to milliseconds (``helpers.patch_datetime_awareness_in_document``). Unique indexes
  created after the documents are in storage check them in one pass.
- Every mongomock operation runs synchronously on the event loop, so a document read between two awaits is
  never half-written.
- ``mongomock_motor.AsyncMongoMockDatabase(client, database)`` wraps a mongomock Database (``.delegate``), and
  its ``get_collection`` makes the ``AsyncMongoMockCollection(database, collection)`` that Beanie and the
  services write through, with one async method per pymongo write method.
- The databases this module opens check unique indexes by key (homer_rt/embedded_indexes.py: mongomock
  scans the whole collection per unique index on every write); the loader tells it when it filled a
  collection's storage directly. What that relies on is listed there and checked by the same test.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import mongomock
import mongomock.helpers
import mongomock.store
import mongomock_motor
import orjson
from beanie import init_beanie
from bson import json_util
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo import monitoring

from documents import ALL_DOCUMENTS
from documents.property import Property
from homer_rt import embedded_indexes
from homer_rt.settings import Settings

log = logging.getLogger(__name__)

# Past this many listings the embedded store is slow to start, save and search: the server says MongoDB is the
# store for that size (it still works).
EMBEDDED_LISTINGS_WARNING = 10_000
# How long one serialization step of a save may hold the event loop (checked every SAVE_CHECK_EVERY
# documents), and how many turns the loop gets between two steps. A chat message takes a few turns from its
# socket to the recipient's; with these, a save added ~10-20 ms to chat p99 in `python -m bench store` (a
# 10 ms step and one turn added ~50 ms).
SAVE_STEP_SECONDS = 0.005
SAVE_CHECK_EVERY = 32
SAVE_TURNS_BETWEEN_STEPS = 4
# While writes keep coming, saves follow one another; at most this share of the event loop's time goes to them
# (a save of 50,000 listings and 200,000 messages serializes for about 2 s).
SAVE_LOOP_SHARE = 0.2


class ChangeCounter:
    """Bumped by every write to the embedded store: a save is due when it moved since the last save began."""

    def __init__(self) -> None:
        self.version = 0

    def bump(self) -> None:
        self.version += 1


# The async methods of AsyncMongoMockCollection that may change documents (index methods do not: indexes are
# not saved, Beanie creates them at start). A method missing here would leave its write out of the file until
# another write happens, so the test of the mongomock assumptions checks every write path against this list.
_WRITE_METHODS = (
    "bulk_write",
    "delete_many",
    "delete_one",
    "drop",
    "find_and_modify",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "insert_many",
    "insert_one",
    "map_reduce",
    "rename",
    "replace_one",
    "save",
    "update_many",
    "update_one",
)


# mongomock-motor's stubs present its classes as motor's; these subclasses extend what it is at run time.
_AsyncMongoMockCollection: Any = mongomock_motor.AsyncMongoMockCollection
_AsyncMongoMockDatabase: Any = mongomock_motor.AsyncMongoMockDatabase


class _CountingCollection(_AsyncMongoMockCollection):  # type: ignore[misc]
    """A mongomock-motor collection whose writes bump the store's ChangeCounter."""

    def __init__(self, database: _CountingDatabase, collection: Any, changes: ChangeCounter) -> None:
        super().__init__(database, collection)
        self.changes = changes

    def aggregate(self, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        if any(isinstance(stage, dict) and ("$out" in stage or "$merge" in stage) for stage in pipeline):
            self.changes.bump()
        return super().aggregate(pipeline, *args, **kwargs)


def _counting(method: str) -> Callable[..., Any]:
    async def write(self: _CountingCollection, *args: Any, **kwargs: Any) -> Any:
        # Bumped in the same event-loop step as the write itself (mongomock writes synchronously).
        self.changes.bump()
        return await getattr(super(_CountingCollection, self), method)(*args, **kwargs)

    write.__name__ = write.__qualname__ = method
    return write


for _method in _WRITE_METHODS:
    setattr(_CountingCollection, _method, _counting(_method))


class _CountingDatabase(_AsyncMongoMockDatabase):  # type: ignore[misc]
    """The embedded database the app uses: its collections count writes."""

    def __init__(self, client: Any, database: Any, changes: ChangeCounter) -> None:
        super().__init__(client, database)
        self.changes = changes

    def get_collection(self, *args: Any, **kwargs: Any) -> _CountingCollection:
        return _CountingCollection(self, self.delegate.get_collection(*args, **kwargs), self.changes)

    async def drop_collection(self, *args: Any, **kwargs: Any) -> Any:
        self.changes.bump()
        return await super().drop_collection(*args, **kwargs)


class EmbeddedStorage:
    """mongomock's own storage of one database: its stored documents by collection, read and filled as is."""

    def __init__(self, server: Any, database_name: str) -> None:
        self._database = server[database_name]

    def collection_names(self) -> list[str]:
        """Every collection, in the order a save writes them: sorted, but ``chats`` last. A save is not one
        snapshot of the whole store (the loop runs between its steps), and a chat send reserves its seq on
        the chat before it inserts the message. Read after the messages, a chat's seq in the file covers
        every message in the file, so the next send never reuses one; a chat may count a message sent
        while the save ran that the file lacks, which only a crash before the next save would show (as a
        skipped seq)."""
        return sorted(
            self._database.list_created_collection_names(), key=lambda name: (name == "chats", name)
        )

    def documents(self, collection: str) -> OrderedDict[Any, dict[str, Any]]:
        """The collection's stored documents by _id: mongomock's own mapping, not a copy."""
        stored: OrderedDict[Any, dict[str, Any]] = self._database[collection]._documents
        return stored

    def count(self, collection: str) -> int:
        return len(self.documents(collection))

    def load(self, collections: dict[str, list[dict[str, Any]]]) -> int:
        """Put parsed documents (as _parse_data_file returns them) into storage as mongomock's insert would;
        before any index exists, so unique indexes created afterwards check them once."""
        count = 0
        for name, documents in collections.items():
            embedded_indexes.forget(self._database[name])
            stored = self.documents(name)
            for document in documents:
                if "_id" not in document:
                    raise ValueError(f"a document in {name!r} has no _id")
                key = document["_id"]
                stored[mongomock.helpers.hashdict(key) if isinstance(key, dict) else key] = document
            count += len(documents)
        return count


class Store:
    """An open database and, for the embedded store, its storage and write counter."""

    def __init__(
        self,
        *,
        client: Any,
        database: AsyncIOMotorDatabase[Any],
        embedded_storage: EmbeddedStorage | None = None,
        changes: ChangeCounter | None = None,
    ) -> None:
        self.client = client
        self.database = database
        self.embedded_storage = embedded_storage
        self.changes = changes or ChangeCounter()
        self._warned_size = False

    @property
    def embedded(self) -> bool:
        return self.embedded_storage is not None

    @classmethod
    def in_memory(cls, database_name: str) -> Store:
        """The embedded store: mongomock-motor over a storage this module reads and fills directly."""
        server: Any = mongomock.store.ServerStore()  # type: ignore[no-untyped-call]
        embedded_indexes.enable(server[database_name])
        mongomock_client: Any = mongomock.MongoClient(tz_aware=True, _store=server)
        client: Any = mongomock_motor.AsyncMongoMockClient(mock_mongo_client=mongomock_client)
        changes = ChangeCounter()
        # The app reaches the database only through this object (never client[name]), so every write counts.
        database = _CountingDatabase(client, mongomock_client.get_database(database_name), changes)
        return cls(
            client=client,
            database=database,
            embedded_storage=EmbeddedStorage(server, database_name),
            changes=changes,
        )

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.database.command("ping"), timeout=2)
        except Exception:  # any failure means "the store does not answer" for the health check
            return False
        return True

    def warn_if_too_large(self) -> None:
        """Log once when the embedded store holds more listings than it serves well."""
        if self.embedded_storage is None or self._warned_size:
            return
        listings = self.embedded_storage.count(Property.Settings.name)
        if listings > EMBEDDED_LISTINGS_WARNING:
            self._warned_size = True
            log.warning(
                "EMBEDDED STORE holds %d listings: past %d it starts, saves and searches slowly (it scans "
                "every listing on each search); MongoDB is the store for this size (set MONGODB_URL)",
                listings,
                EMBEDDED_LISTINGS_WARNING,
            )

    async def snapshot(self) -> str:
        """The embedded store's contents as its data file holds them (for tests and tools: holds the loop)."""
        if self.embedded_storage is None:
            raise RuntimeError("only the embedded store can be snapshotted")
        return b"".join(_data_file_pieces(self.embedded_storage, step_seconds=math.inf)).decode()


# ---------------------------------------------------------------------------------------------- the data file

# Relaxed Extended JSON for the values plain JSON has no type for (json_util.default: Decimal128, ObjectId,
# binary, dates before 1970, non-finite floats); RELAXED_JSON_OPTIONS reads naive datetimes as UTC.
_DUMP_OPTIONS = json_util.RELAXED_JSON_OPTIONS
# Reading: naive datetimes (UTC), as mongomock stores them.
_LOAD_OPTIONS = json_util.CANONICAL_JSON_OPTIONS.with_options(tz_aware=False)
_EPOCH = datetime(1970, 1, 1)
_COLLECTION_HEADER = re.compile(rb'("(?:[^"\\]|\\.)*"): \[\n')


def _extended_json_value(value: Any) -> Any:
    """orjson's fallback for what it does not write itself. Datetimes (the common case) take the short way."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if value.year >= 1970:
            return {"$date": value.isoformat(timespec="milliseconds") + "Z"}
    return json_util.default(value, json_options=_DUMP_OPTIONS)


def _holds_non_finite_float(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_holds_non_finite_float(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_non_finite_float(item) for item in value)
    return False


def _document_json(document: dict[str, Any]) -> bytes:
    """One stored document as one line of relaxed Extended JSON."""
    try:
        line = orjson.dumps(document, default=_extended_json_value, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except orjson.JSONEncodeError:
        line = None  # e.g. an integer beyond 64 bits: json_util writes it or says why not
    # orjson writes NaN and infinities as null; json_util keeps them ({"$numberDouble": "NaN"}).
    if line is None or (b"null" in line and _holds_non_finite_float(document)):
        return json_util.dumps(document, json_options=_DUMP_OPTIONS).encode()
    return line


def _data_file_pieces(storage: EmbeddedStorage, *, step_seconds: float) -> Iterator[bytes]:
    """The data file's bytes in pieces, each made in about ``step_seconds`` of serialization.

    The caller lets the event loop run between two pieces, so each document is read as it is at that moment:
    one deleted meanwhile is left out, one inserted after its collection's keys were listed waits for the next
    save (the write bumped the counter). The pieces join into one JSON document.
    """
    pieces: list[bytes] = [b"{"]
    deadline = time.perf_counter() + step_seconds
    first_collection = True
    for name in storage.collection_names():
        documents = storage.documents(name)
        if not documents:
            continue
        pieces.append(b"\n" if first_collection else b",\n")
        pieces.append(orjson.dumps(name) + b": [")
        first_collection = False
        separator = b"\n"
        # The keys as the plain dict lists them: in the same order (mongomock only appends and deletes), and
        # 7 times faster than OrderedDict's linked list, which took 70 ms for 200,000 documents.
        for count, key in enumerate(list(dict.keys(documents)), start=1):
            document = documents.get(key)
            if document is None:
                continue
            pieces.append(separator)
            pieces.append(_document_json(document))
            separator = b",\n"
            if count % SAVE_CHECK_EVERY == 0 and time.perf_counter() >= deadline:
                yield b"".join(pieces)
                pieces = []
                deadline = time.perf_counter() + step_seconds
        pieces.append(b"\n]")
    pieces.append(b"\n}\n")
    yield b"".join(pieces)


def _from_extended_json(value: dict[str, Any]) -> Any:
    """An Extended JSON wrapper ({"$date": …}, {"$numberInt": …}, …), its own parts decoded already, as the
    value mongomock stores; any other object as it is. The common wrappers are decoded here, the rest by
    json_util."""
    first = next(iter(value), "")
    if not first.startswith("$"):
        return value
    if len(value) == 1:
        inner = value[first]
        if first == "$date":
            if isinstance(inner, str) and inner.endswith("Z"):
                moment = datetime.fromisoformat(inner[:-1])
                return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
            if isinstance(inner, int):  # {"$date": {"$numberLong": …}}
                return _EPOCH + timedelta(milliseconds=inner)
        elif first == "$numberLong" and isinstance(inner, str):  # inside {"$date": …} before 1970
            return int(inner)
        elif first == "$numberDouble" and isinstance(inner, str):
            return float(inner)  # also "NaN", "Infinity", "-Infinity"
    decoded = json_util.object_hook(value, _LOAD_OPTIONS)
    return mongomock.helpers.patch_datetime_awareness_in_document(decoded)  # type: ignore[no-untyped-call]


def _decode_in_place(container: Any) -> None:
    """Replace the Extended JSON wrappers inside a parsed document (a dict or list) by their values, innermost
    first."""
    items = container.items() if isinstance(container, dict) else enumerate(container)
    for key, value in items:  # values are replaced, never added or removed, so iterating stays valid
        if isinstance(value, dict):
            _decode_in_place(value)
            if value and next(iter(value)).startswith("$"):
                container[key] = _from_extended_json(value)
        elif isinstance(value, list):
            _decode_in_place(value)


# What orjson refuses the standard library's parser reads: a line json_util wrote because orjson could not
# (a string holding a lone surrogate, which JSON escapes as \ud800 and orjson will not decode).
_FALLBACK_DECODER = json.JSONDecoder(object_hook=_from_extended_json)


def _decode(raw: bytes) -> Any:
    """A JSON text whose Extended JSON wrappers are decoded."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _FALLBACK_DECODER.decode(raw.decode("utf-8"))
    if isinstance(parsed, dict | list):
        _decode_in_place(parsed)
    return parsed


_NOT_THE_LAYOUT = (
    "the data file is not in the layout the store writes (one collection per header line, one document per "
    "line): was it reformatted?"
)


def _parse_lines(handle: IO[bytes]) -> dict[str, list[dict[str, Any]]]:
    collections: dict[str, list[dict[str, Any]]] = {}
    if handle.readline() != b"{\n":
        raise ValueError(_NOT_THE_LAYOUT)
    current: list[dict[str, Any]] | None = None
    for line in handle:
        if current is None:
            if line in (b"}\n", b"}"):
                return collections
            header = _COLLECTION_HEADER.fullmatch(line)
            if header is None:
                raise ValueError(_NOT_THE_LAYOUT)
            current = collections.setdefault(orjson.loads(header[1]), [])
        elif line in (b"]\n", b"],\n", b"]"):
            current = None
        else:
            document = _decode(line[:-2] if line.endswith(b",\n") else line)
            if not isinstance(document, dict):
                raise ValueError(
                    f"the data file holds a {type(document).__name__} where a document should be"
                )
            current.append(document)
    raise ValueError("the data file ends early (was it cut short?)")


@contextlib.contextmanager
def _garbage_collector_paused() -> Iterator[None]:
    """Loading creates millions of containers and none of them is garbage: the cyclic collector would walk
    them all several times over, half the load time at 50,000 listings, then again during the server's first
    minutes. Paused while the process loads (it serves nothing yet); what was loaded then goes out of the
    collector's reach (gc.freeze). Stored documents hold no reference cycles, so reference counting still
    frees each one when it is deleted or replaced."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _parse_data_file(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every collection's documents as mongomock stores them; runs in a worker thread."""
    with path.open("rb") as handle, _garbage_collector_paused():
        return _parse_lines(handle)


class _AtomicFileWriter:
    """Writes a file under a temporary name, then renames it into place durably. Used from one thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._temporary: str | None = None
        self._handle: IO[bytes] | None = None

    def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._temporary = tempfile.mkstemp(prefix=f".{self._path.name}.", dir=self._path.parent)
        self._handle = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        assert self._handle is not None
        self._handle.write(data)

    def commit(self) -> None:
        assert self._handle is not None and self._temporary is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._temporary, self._path)
        self._temporary = None
        # The rename itself survives a power cut once the directory is on disk.
        directory = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temporary)


class EmbeddedFileKeeper:
    """Keeps the embedded store in its data file: loads it at start, saves it when it changed."""

    def __init__(
        self,
        *,
        store: Store,
        path: Path,
        interval: float,
        step_seconds: float = SAVE_STEP_SECONDS,
    ) -> None:
        if store.embedded_storage is None:
            raise ValueError("only the embedded store is kept in a file")
        self._store = store
        self._storage = store.embedded_storage
        self._path = path
        self._interval = interval
        self._step_seconds = step_seconds
        self._saved_version: int | None = None
        self._last_save_busy = 0.0
        self._unfinished: asyncio.Future[None] | None = None

    async def load(self) -> None:
        if not self._path.exists():
            log.info("embedded data file %s does not exist yet; starting empty", self._path)
            return
        started = time.perf_counter()
        # Nothing else reaches the storage until the store is open, so the worker thread may fill it.
        count = await asyncio.to_thread(lambda: self._storage.load(_parse_data_file(self._path)))
        self._saved_version = self._store.changes.version
        log.info("loaded %d documents from %s in %.1f s", count, self._path, time.perf_counter() - started)

    async def save_if_changed(self) -> bool:
        """Save when a write happened since the last save began; True when it saved."""
        version = self._store.changes.version
        if version == self._saved_version:
            return False
        await self._save()
        self._saved_version = version
        return True

    async def _save(self) -> None:
        loop = asyncio.get_running_loop()
        if self._unfinished is not None:
            # A given-up save's thread may still be renaming its file: that must not land after this one.
            # (How its clean-up ended does not matter here.)
            await asyncio.wait([self._unfinished])
            self._unfinished = None
        started = time.perf_counter()
        busy = longest = longest_cpu = 0.0
        steps = 0
        # One thread, so the writes land in order and a discard runs after any write still under way.
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-store-save")
        writer = _AtomicFileWriter(self._path)
        try:
            await loop.run_in_executor(executor, writer.open)
            pieces = _data_file_pieces(self._storage, step_seconds=self._step_seconds)
            writing: asyncio.Future[None] | None = None
            while True:
                step_started, step_cpu = time.perf_counter(), time.thread_time()
                piece = next(pieces, None)
                step = time.perf_counter() - step_started
                busy += step
                longest = max(longest, step)
                longest_cpu = max(longest_cpu, time.thread_time() - step_cpu)
                steps += 1
                if piece is None:
                    break
                if writing is not None:
                    await writing
                writing = loop.run_in_executor(executor, writer.write, piece)
                # Between two steps the event loop runs a few turns, enough for a chat message to go from
                # the socket to its handler to the recipient's socket before the next step.
                for _ in range(SAVE_TURNS_BETWEEN_STEPS):
                    await asyncio.sleep(0)
            if writing is not None:
                await writing
            await loop.run_in_executor(executor, writer.commit)
        except BaseException:
            self._unfinished = asyncio.wrap_future(executor.submit(writer.discard))
            raise
        finally:
            executor.shutdown(wait=False)
        self._last_save_busy = busy
        log.debug(
            "saved the embedded store to %s in %.2f s: serializing on the event loop %.2f s in %d steps, "
            "the longest %.1f ms (%.1f ms of CPU)",
            self._path,
            time.perf_counter() - started,
            busy,
            steps,
            longest * 1000,
            longest_cpu * 1000,
        )

    async def run(self) -> None:
        """Save when the store changed: every ``interval`` seconds or, after a save that kept the event loop
        busy long, late enough that saves take at most SAVE_LOOP_SHARE of the loop's time. Runs until
        cancelled; a save cancelled half-way leaves the file as it was."""
        while True:
            await asyncio.sleep(max(self._interval, self._last_save_busy * (1 / SAVE_LOOP_SHARE - 1)))
            self._store.warn_if_too_large()
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
        log.warning(
            "EMBEDDED STORE: MONGODB_URL is not set, data lives in memory%s",
            f" and is saved to {settings.embedded_data_file}"
            if settings.embedded_data_file
            else " and is LOST when the server stops (set EMBEDDED_DATA_FILE or MONGODB_URL to keep it)",
        )
        store = Store.in_memory(settings.mongodb_db)
    else:
        client: AsyncIOMotorClient[Any] = AsyncIOMotorClient(
            settings.mongodb_url,
            tz_aware=True,
            uuidRepresentation="standard",
            event_listeners=list(command_listeners),
        )
        store = Store(client=client, database=client[settings.mongodb_db])

    keeper: EmbeddedFileKeeper | None = None
    saver: asyncio.Task[None] | None = None
    if store.embedded and settings.embedded_data_file:
        keeper = EmbeddedFileKeeper(
            store=store, path=settings.embedded_data_file, interval=settings.embedded_save_interval_seconds
        )
        await keeper.load()
    await init_beanie(database=store.database, document_models=ALL_DOCUMENTS)
    store.warn_if_too_large()
    if keeper is not None:
        saver = asyncio.create_task(keeper.run(), name="embedded-store-saver")
    try:
        yield store
    finally:
        if keeper is not None and saver is not None:
            # A periodic save under way is given up: the final save below writes everything anyway, so the
            # shutdown takes one save, not up to two.
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
            await keeper.save_if_changed()
        store.client.close()
