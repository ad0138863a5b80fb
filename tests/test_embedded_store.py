"""The embedded store's data file: a save and a load keep every document with its types, a file in another
layout is refused with a reason, a save during writes keeps what was acknowledged before it began and lets
the event loop run, and the mongomock internals the store layer reads are as it assumes."""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import bson
import mongomock.collection
import mongomock.store
import mongomock_motor
import mongomock_motor.patches
import pytest
from aiohttp.test_utils import TestClient, TestServer
from bson import json_util
from bson.binary import Binary
from bson.decimal128 import Decimal128
from bson.objectid import ObjectId
from pymongo import IndexModel, InsertOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from homer_rt import embedded_indexes
from homer_rt import store as store_module
from homer_rt.app import create_app
from homer_rt.appkeys import STORE
from homer_rt.clock import AdjustableClock
from homer_rt.demo import DEMO_PASSWORD, demo_id, seed_demo
from homer_rt.security import PasswordHasher
from homer_rt.services.lifestyle import MockLifestyleProvider
from homer_rt.store import EmbeddedFileKeeper, Store, open_store
from tests.factories import make_settings

# Checked against these versions; the internals test names them when it fails.
MONGOMOCK_CHECKED = "4.3.0"
MONGOMOCK_MOTOR_CHECKED = "0.0.36"


def stored_bson(store: Store) -> dict[str, list[bytes]]:
    """Every stored document as BSON: equal bytes mean equal values of equal types, NaN included."""
    storage = store.embedded_storage
    assert storage is not None
    return {
        name: [bson.encode(document) for document in storage.documents(name).values()]
        for name in storage.collection_names()
        if storage.count(name)
    }


@pytest.fixture
async def kept_store(tmp_path: Path) -> AsyncIterator[Store]:
    """An embedded store kept in tmp_path/homer.json; its periodic save is far off (tests save themselves)."""
    settings = make_settings(
        tmp_path, embedded_data_file=tmp_path / "homer.json", embedded_save_interval_seconds=3600
    )
    async with open_store(settings) as store:
        yield store


def reopen_settings(tmp_path: Path) -> Any:
    return make_settings(
        tmp_path, embedded_data_file=tmp_path / "homer.json", embedded_save_interval_seconds=3600
    )


VARIED = {
    "_id": "varied",
    "when": datetime(2025, 6, 1, 9, 30, 15, 123456, tzinfo=UTC),
    "before_1970": datetime(1931, 3, 2, 4, 5, 6, tzinfo=UTC),
    "money": Decimal128("12345.67"),
    "big": 2**53 + 1,
    "negative": -(2**40),
    "ratio": 0.1,
    "whole_float": 1037.0,
    "not_a_number": math.nan,
    "infinite": -math.inf,
    "flag": False,
    "nothing": None,
    "text": 'Koramangala 5th Block — ₹32,000 🏠 "quoted" \\ back\nslash',
    "raw": Binary(b"\x00\x01\xff"),
    "object_id": ObjectId("5f1d7a2b9c3e4d5f6a7b8c9d"),
    "nested": {"list": [1, "two", {"three": [datetime(2030, 1, 1, tzinfo=UTC)]}], "empty": {}, "none": []},
}


async def test_a_save_and_a_load_keep_every_collection_and_type(tmp_path: Path) -> None:
    async with open_store(reopen_settings(tmp_path)) as store:
        database = store.database
        await database["oddities"].insert_one(dict(VARIED))
        await database["oddities"].insert_one({"_id": ObjectId("5f1d7a2b9c3e4d5f6a7b8c9e"), "id_kind": "oid"})
        await database["oddities"].insert_one({"_id": {"compound": 1, "key": "x"}, "id_kind": "document"})
        await database["oddities"].insert_one({"_id": 7, "id_kind": "int"})
        hasher = PasswordHasher(rounds=4)
        await seed_demo(
            clock=AdjustableClock(),
            hasher=hasher,
            properties=12,
            messages=40,
            lifestyle=MockLifestyleProvider(),
        )
        before = stored_bson(store)
    # A clean shutdown saved it.

    async with open_store(reopen_settings(tmp_path)) as store:
        assert stored_bson(store) == before
        loaded = await store.database["oddities"].find_one({"_id": "varied"})
        assert loaded is not None
        assert loaded["when"] == datetime(
            2025, 6, 1, 9, 30, 15, 123000, tzinfo=UTC
        )  # milliseconds, as MongoDB
        assert loaded["before_1970"] == VARIED["before_1970"]
        assert isinstance(loaded["money"], Decimal128) and loaded["money"] == Decimal128("12345.67")
        assert loaded["big"] == 2**53 + 1 and isinstance(loaded["whole_float"], float)
        assert math.isnan(loaded["not_a_number"]) and loaded["infinite"] == -math.inf
        assert loaded["text"] == VARIED["text"] and loaded["raw"] == b"\x00\x01\xff"
        assert loaded["object_id"] == VARIED["object_id"]
        assert loaded["nested"]["list"][2]["three"] == [datetime(2030, 1, 1, tzinfo=UTC)]
        assert await store.database["oddities"].find_one({"_id": {"compound": 1, "key": "x"}}) is not None
        # Saving unchanged data writes the same file (nothing is lost or reordered on a round trip).
        text = (tmp_path / "homer.json").read_text()
        assert await store.snapshot() == text


async def test_unique_indexes_refuse_duplicates_after_a_load(tmp_path: Path) -> None:
    settings = reopen_settings(tmp_path)
    async with TestClient(TestServer(create_app(settings, clock=AdjustableClock()))) as client:
        await seed_demo(
            clock=AdjustableClock(),
            hasher=PasswordHasher(rounds=4),
            properties=3,
            lifestyle=MockLifestyleProvider(),
        )
        login = await client.post(
            "/api/auth/login", json={"email": "renter1@demo.homer.in", "password": DEMO_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
        shortlisted = await client.post(
            "/api/shortlists", json={"property_id": demo_id("property:1")}, headers=headers
        )
        assert shortlisted.status == 201

    async with TestClient(TestServer(create_app(settings, clock=AdjustableClock()))) as client:
        taken_email = await client.post(
            "/api/auth/register",
            json={"email": "owner1@demo.homer.in", "phone": "+919812345678", "password": "sunny-balcony-42"},
        )
        assert taken_email.status == 409
        taken_phone = await client.post(
            "/api/auth/register",
            json={"email": "new@example.com", "phone": "+919800000001", "password": "sunny-balcony-42"},
        )
        assert taken_phone.status == 409
        store = client.app[STORE]
        shortlists = store.database["shortlists"]
        (existing,) = [doc async for doc in shortlists.find({})]
        with pytest.raises(DuplicateKeyError):
            await shortlists.insert_one(
                {"user_id": existing["user_id"], "property_id": existing["property_id"], "created_at": 1}
            )


async def test_a_file_in_another_layout_is_refused_with_a_reason(tmp_path: Path) -> None:
    async with open_store(reopen_settings(tmp_path)) as store:
        await store.database["notes"].insert_one({"_id": "n1", "at": datetime(2025, 1, 2, tzinfo=UTC)})
    text = (tmp_path / "homer.json").read_text()
    (tmp_path / "homer.json").write_text(json_util.dumps(json_util.loads(text), indent=2))
    with pytest.raises(ValueError, match="not in the layout the store writes"):
        async with open_store(reopen_settings(tmp_path)):
            pass


async def test_a_cut_short_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    async with open_store(reopen_settings(tmp_path)) as store:
        await store.database["notes"].insert_many([{"_id": f"n{i}"} for i in range(5)])
    text = (tmp_path / "homer.json").read_text()
    (tmp_path / "homer.json").write_text(text[: text.index('{"_id":"n3"}')])
    with pytest.raises(ValueError, match="ends early"):
        async with open_store(reopen_settings(tmp_path)):
            pass


def saved_ids(path: Path, collection: str) -> set[str]:
    return {doc["_id"] for doc in json_util.loads(path.read_text()).get(collection, [])}


async def test_a_save_during_writes_keeps_every_write_acknowledged_before_it_began(
    kept_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "homer.json"
    keeper = EmbeddedFileKeeper(store=kept_store, path=path, interval=3600, step_seconds=0)
    notes = kept_store.database["notes"]
    await notes.insert_many([{"_id": f"before-{i}", "n": 0} for i in range(400)])
    await notes.update_one({"_id": "before-399"}, {"$set": {"n": 1}})
    await notes.delete_one({"_id": "before-0"})

    acknowledged_during: list[str] = []
    saving = asyncio.create_task(keeper.save_if_changed())

    async def write_while_saving() -> None:
        i = 0
        while not saving.done():
            # A few hundred writes interleave with the save's steps; more would only slow the test (each
            # write of the embedded store scans the collection).
            if i < 300:
                await notes.insert_one({"_id": f"during-{i}"})
                await notes.update_one({"_id": f"before-{i % 399 + 1}"}, {"$inc": {"seen_during": 1}})
                acknowledged_during.append(f"during-{i}")
                i += 1
            await asyncio.sleep(0)

    await asyncio.gather(saving, write_while_saving())
    assert saving.result() is True
    assert acknowledged_during, "the writes ran while the save was under way"
    saved = {doc["_id"]: doc for doc in json_util.loads(path.read_text())["notes"]}
    assert {f"before-{i}" for i in range(1, 400)} <= set(saved)
    assert "before-0" not in saved
    assert saved["before-399"]["n"] == 1

    # The writes made during that save changed the store again: the next save has them all.
    assert await keeper.save_if_changed() is True
    assert set(acknowledged_during) <= saved_ids(path, "notes")
    assert await keeper.save_if_changed() is False


async def test_a_save_lets_the_event_loop_run_between_its_steps(
    kept_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = EmbeddedFileKeeper(store=kept_store, path=tmp_path / "homer.json", interval=3600, step_seconds=0)
    await kept_store.database["notes"].insert_many([{"_id": i, "text": "x" * 100} for i in range(1000)])
    serialized = 0
    document_json = store_module._document_json

    def counting_document_json(document: dict[str, Any]) -> bytes:
        nonlocal serialized
        serialized += 1
        return document_json(document)

    monkeypatch.setattr(store_module, "_document_json", counting_document_json)
    saving = asyncio.create_task(keeper.save_if_changed())
    seen_midway: set[int] = set()
    while not saving.done():
        if 0 < serialized < 1000:
            seen_midway.add(serialized)
        await asyncio.sleep(0)
    assert await saving is True
    # This coroutine ran between every two steps of SAVE_CHECK_EVERY documents, not only while the file was
    # being written.
    assert len(seen_midway) >= 1000 // store_module.SAVE_CHECK_EVERY - 1


async def test_a_save_given_up_half_way_leaves_the_file_whole_and_the_next_save_complete(
    kept_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "homer.json"
    keeper = EmbeddedFileKeeper(store=kept_store, path=path, interval=3600, step_seconds=0)
    notes = kept_store.database["notes"]
    await notes.insert_many([{"_id": f"first-{i}"} for i in range(300)])
    assert await keeper.save_if_changed() is True
    first = path.read_bytes()

    await notes.insert_many([{"_id": f"second-{i}"} for i in range(300)])
    saving = asyncio.create_task(keeper.save_if_changed())
    for _ in range(5):
        await asyncio.sleep(0)
    saving.cancel()  # as the shutdown does with a periodic save under way
    with pytest.raises(asyncio.CancelledError):
        await saving
    assert path.read_bytes() == first

    assert await keeper.save_if_changed() is True
    assert saved_ids(path, "notes") == {f"first-{i}" for i in range(300)} | {
        f"second-{i}" for i in range(300)
    }
    assert os.listdir(tmp_path) == ["homer.json"], "the given-up save's temporary file is gone"


async def test_a_store_without_writes_is_not_saved_again(kept_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "homer.json"
    keeper = EmbeddedFileKeeper(store=kept_store, path=path, interval=3600)
    await kept_store.database["notes"].insert_one({"_id": "n"})
    assert await keeper.save_if_changed() is True
    written = path.stat().st_mtime_ns
    await kept_store.database["notes"].find_one({"_id": "n"})
    await kept_store.database["notes"].count_documents({})
    assert await keeper.save_if_changed() is False
    assert path.stat().st_mtime_ns == written
    assert os.listdir(tmp_path) == ["homer.json"], "no temporary file is left behind"


async def test_the_server_says_mongodb_is_the_store_past_the_listings_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(store_module, "EMBEDDED_LISTINGS_WARNING", 5)
    settings = reopen_settings(tmp_path)
    with caplog.at_level(logging.WARNING, logger="homer_rt.store"):
        async with open_store(settings) as store:
            await seed_demo(
                clock=AdjustableClock(),
                hasher=PasswordHasher(rounds=4),
                properties=5,
                lifestyle=MockLifestyleProvider(),
            )
            store.warn_if_too_large()
    assert not [r for r in caplog.records if "MongoDB is the store" in r.getMessage()]
    with caplog.at_level(logging.WARNING, logger="homer_rt.store"):
        async with open_store(settings) as store:
            await seed_demo(
                clock=AdjustableClock(),
                hasher=PasswordHasher(rounds=4),
                properties=6,
                lifestyle=MockLifestyleProvider(),
            )
            store.warn_if_too_large()
            store.warn_if_too_large()
    warnings = [r for r in caplog.records if "MongoDB is the store" in r.getMessage()]
    assert len(warnings) == 1 and "6 listings" in warnings[0].getMessage()


# The reads mongomock-motor offers; everything else it offers may write.
READ_METHODS = {
    "count",
    "count_documents",
    "distinct",
    "estimated_document_count",
    "find_one",
    "index_information",
    "inline_map_reduce",
    "options",
}
INDEX_METHODS = {"create_index", "create_indexes", "drop_index", "drop_indexes", "ensure_index", "reindex"}


async def test_mongomock_internals_are_as_assumed(tmp_path: Path) -> None:
    """What homer_rt.store reads inside mongomock and mongomock-motor. When this fails after an upgrade,
    check the store layer against the new release before changing the test."""
    versions = (
        f"checked with mongomock {MONGOMOCK_CHECKED} and mongomock-motor {MONGOMOCK_MOTOR_CHECKED}; "
        f"installed: mongomock {metadata.version('mongomock')}"
    )
    store = Store.in_memory("internals")
    storage = store.embedded_storage
    assert storage is not None
    notes = store.database["notes"]

    # Every async method mongomock-motor wraps is a read, an index method, or counted as a write.
    wrapped = {
        name
        for name, value in vars(mongomock_motor.AsyncMongoMockCollection.__mro__[1]).items()
        if asyncio.iscoroutinefunction(value)
    }
    assert wrapped == READ_METHODS | INDEX_METHODS | set(store_module._WRITE_METHODS), versions

    # Storage: documents by _id in the CollectionStore's _documents, datetimes naive UTC in milliseconds.
    await notes.insert_one({"_id": "a", "at": datetime(2025, 1, 1, 10, 0, 0, 123456, tzinfo=UTC), "n": 1})
    assert dict(storage.documents("notes")) == {
        "a": {"_id": "a", "at": datetime(2025, 1, 1, 10, 0, 0, 123000), "n": 1}
    }, versions
    assert storage.collection_names() == ["notes"], versions

    # Writes change the stored document in place, each within one call (one event-loop step).
    stored = storage.documents("notes")["a"]
    await notes.update_one({"_id": "a"}, {"$inc": {"n": 1}, "$push": {"tags": "x"}})
    assert storage.documents("notes")["a"] is stored and stored["n"] == 2 and stored["tags"] == ["x"], (
        versions
    )

    # Every write path bumps the counter; reads do not.
    writes: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("insert_one", lambda: notes.insert_one({"_id": "b"})),
        ("insert_many", lambda: notes.insert_many([{"_id": "c"}, {"_id": "d"}])),
        ("update_one", lambda: notes.update_one({"_id": "b"}, {"$set": {"x": 1}})),
        ("update_many", lambda: notes.update_many({}, {"$set": {"y": 1}})),
        ("replace_one", lambda: notes.replace_one({"_id": "c"}, {"z": 1})),
        ("upsert", lambda: notes.update_one({"_id": "e"}, {"$set": {"x": 1}}, upsert=True)),
        ("find_one_and_update", lambda: notes.find_one_and_update({"_id": "b"}, {"$inc": {"x": 1}})),
        ("find_one_and_replace", lambda: notes.find_one_and_replace({"_id": "d"}, {"w": 1})),
        ("find_one_and_delete", lambda: notes.find_one_and_delete({"_id": "e"})),
        (
            "bulk_write",
            # (UpdateOne in bulk_write fails on mongomock with this pymongo; the services do not use it.)
            lambda: notes.bulk_write([InsertOne({"_id": "f"}), InsertOne({"_id": "g"})]),
        ),
        ("delete_one", lambda: notes.delete_one({"_id": "f"})),
        ("delete_many", lambda: notes.delete_many({"x": 5})),
        ("aggregate $out", lambda: _drain(notes.aggregate([{"$match": {}}, {"$out": "copies"}]))),
        ("drop", lambda: store.database["copies"].drop()),
        ("drop_collection", lambda: store.database.drop_collection("other")),
    ]
    for label, write in writes:
        version = store.changes.version
        await write()
        assert store.changes.version > version, f"{label} was not counted as a write; {versions}"
    version = store.changes.version
    await notes.find_one({"_id": "a"})
    await notes.count_documents({})
    await notes.find({}).to_list(None)
    await _drain(notes.aggregate([{"$match": {}}]))
    await notes.create_index("n")
    assert store.changes.version == version, f"a read or an index change counted as a write; {versions}"

    # Documents put into storage before a unique index exists are checked when it is created.
    storage.load({"people": [{"_id": 1, "email": "a@x"}, {"_id": 2, "email": "a@x"}]})
    with pytest.raises(DuplicateKeyError):
        await store.database["people"].create_indexes([IndexModel("email", unique=True)])
    storage.load({"people": [{"_id": 2, "email": "b@x"}]})
    await store.database["people"].create_indexes([IndexModel("email", unique=True)])
    with pytest.raises(DuplicateKeyError):
        await store.database["people"].insert_one({"_id": 3, "email": "a@x"})
    with pytest.raises(BulkWriteError):
        await store.database["people"].insert_many([{"_id": 4, "email": "b@x"}], ordered=False)

    await _check_unique_index_internals(store, versions)


async def _check_unique_index_internals(store: Store, versions: str) -> None:
    """What homer_rt.embedded_indexes replaces and relies on in mongomock and mongomock-motor."""
    # The methods it stands in for keep their signatures, and mongomock-motor looks its error enrichment up by
    # name at every call (so the replacement is the one called).
    expected = {
        "_ensure_uniques": "(self, new_data)",
        "_update": (
            "(self, spec, document, upsert=False, manipulate=False, multi=False, check_keys=False, "
            "hint=None, session=None, collation=None, let=None, array_filters=None, **kwargs)"
        ),
        "create_index": "(self, key_or_list, cache_for=300, session=None, **kwargs)",
        "create_indexes": "(self, indexes, session=None)",
        "__delitem__": "(self, key)",
        "_provide_error_details": "(collection: mongomock.collection.Collection, data: Mapping[str, Any], "
        "exception: Exception) -> Union[Exception, pymongo.errors.DuplicateKeyError]",
    }
    assert {
        name: str(inspect.signature(original)) for name, original in embedded_indexes._ORIGINAL.items()
    } == expected, versions
    assert "_provide_error_details(collection" in inspect.getsource(mongomock_motor.patches), versions
    # An index as mongomock stores it: key pairs and the options, partialFilterExpression kept (by
    # create_indexes here; mongomock's own drops it).
    people = store.database["people_internals"]
    await people.create_indexes(
        [IndexModel([("a", 1), ("b", 1)], unique=True, sparse=True, partialFilterExpression={"s": 1})]
    )
    collection_store = store.embedded_storage._database["people_internals"]  # type: ignore[union-attr]
    [(name, stored_index)] = collection_store.indexes.items()
    index = dict(stored_index)
    assert (name, list(index.pop("key"))) == ("a_1_b_1", [("a", 1), ("b", 1)]), versions
    assert index == {"sparse": True, "unique": True, "partialFilterExpression": {"s": 1}}, versions
    # A check first expires what TTL indexes would (as mongomock's scan does).
    assert isinstance(collection_store._ttl_indexes, dict), versions
    assert callable(collection_store._remove_expired_documents), versions
    # mongomock checks a write with the written document in storage: an insert's new document, an update's
    # stored document changed in place; a refused insert is deleted through the collection store, a refused
    # update's snapshot put back; an unchanged document is not checked.
    checked: list[tuple[Any, bool]] = []
    collection_class: Any = mongomock.collection.Collection
    collection_store_class: Any = mongomock.store.CollectionStore
    spy_original = collection_class._ensure_uniques

    def spy(self: Any, new_data: dict[str, Any]) -> None:
        checked.append((new_data["_id"], storage_of(store, "people_spied").get(new_data["_id"]) is new_data))
        spy_original(self, new_data)

    collection_class._ensure_uniques = spy
    deleted: list[Any] = []
    delete_original = collection_store_class.__delitem__

    def delete_spy(self: Any, key: Any) -> None:
        deleted.append(key)
        delete_original(self, key)

    collection_store_class.__delitem__ = delete_spy
    try:
        people = store.database["people_spied"]  # made now, so mongomock-motor wraps the spy
        await people.create_indexes([IndexModel("email", unique=True)])
        await people.insert_one({"_id": 1, "email": "a@x"})
        await people.insert_one({"_id": 2, "email": "b@x"})
        stored = storage_of(store, "people_spied")[2]
        await people.update_one({"_id": 2}, {"$set": {"name": "B"}})
        await people.update_one({"_id": 2}, {"$set": {"name": "B"}})  # no change
        with pytest.raises(DuplicateKeyError):
            await people.insert_one({"_id": 3, "email": "a@x"})
        with pytest.raises(DuplicateKeyError):
            await people.update_one({"_id": 2}, {"$set": {"email": "a@x"}})
        await people.delete_one({"_id": 1})
    finally:
        collection_class._ensure_uniques = spy_original
        collection_store_class.__delitem__ = delete_original
    assert checked == [(1, True), (2, True), (2, True), (3, True), (2, True)], versions
    assert deleted == [3, 1], versions
    assert storage_of(store, "people_spied")[2] is not stored, versions  # the snapshot, put back
    assert storage_of(store, "people_spied")[2] == {"_id": 2, "email": "b@x", "name": "B"}, versions
    # A dropped collection gets a new document mapping.
    documents = storage_of(store, "people_spied")
    await people.drop()
    assert storage_of(store, "people_spied") is not documents, versions


def storage_of(store: Store, collection: str) -> Any:
    assert store.embedded_storage is not None
    return store.embedded_storage.documents(collection)


async def _drain(cursor: Any) -> list[Any]:
    return [doc async for doc in cursor]


def test_dates_in_the_file_are_readable_and_in_milliseconds() -> None:
    line = store_module._document_json({"_id": "x", "at": datetime(2025, 6, 2, 9, 1, 0, 123000)})
    assert line == b'{"_id":"x","at":{"$date":"2025-06-02T09:01:00.123Z"}}'
    assert store_module._decode(line) == {"_id": "x", "at": datetime(2025, 6, 2, 9, 1, 0, 123000)}
    older = json_util.dumps(
        {"at": datetime(2025, 6, 2, 9, 1, tzinfo=UTC) - timedelta(days=1)},
        json_options=json_util.CANONICAL_JSON_OPTIONS,
    )
    assert store_module._decode(older.encode()) == {"at": datetime(2025, 6, 1, 9, 1)}
