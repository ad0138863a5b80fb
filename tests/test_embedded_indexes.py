"""Unique indexes in the embedded store (homer_rt.embedded_indexes): checked by key, with mongomock's outcome.

A duplicate is refused on insert and on an update that changes the key, sparse and partial indexes are
honoured, a refused write leaves no trace, a delete frees the key; a random mix of writes ends exactly as it
ends with mongomock's own scanning checks; and a check scans nothing."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import mongomock
import mongomock.store
import mongomock_motor
import pytest
from pymongo import IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from homer_rt import embedded_indexes
from homer_rt.store import Store


def embedded_collection(name: str = "things") -> Any:
    """A collection of a fresh embedded store, as the app opens it (unique indexes checked by key)."""
    return Store.in_memory("indexes").database[name]


def plain_mongomock_collection(name: str = "things") -> Any:
    """The same through mongomock-motor alone: mongomock's own checks, which scan the collection."""
    server: Any = mongomock.store.ServerStore()  # type: ignore[no-untyped-call]
    client: Any = mongomock_motor.AsyncMongoMockClient(
        mock_mongo_client=mongomock.MongoClient(tz_aware=True, _store=server)
    )
    return client["indexes"][name]


async def refused(write: Awaitable[Any]) -> DuplicateKeyError:
    with pytest.raises(DuplicateKeyError) as raised:
        await write
    assert raised.value.code == 11000
    return raised.value


async def contents(collection: Any) -> list[dict[str, Any]]:
    return [document async for document in collection.find({}, sort=[("_id", 1)])]


async def test_a_duplicate_is_refused_on_insert_and_on_an_update_that_takes_the_key() -> None:
    things = embedded_collection()
    await things.create_indexes([IndexModel([("chat_id", 1), ("seq", 1)], unique=True)])
    await things.insert_one({"_id": 1, "chat_id": "c", "seq": 1})
    await things.insert_one({"_id": 2, "chat_id": "c", "seq": 2})
    await things.insert_one({"_id": 3, "chat_id": "d", "seq": 1})  # same seq, other chat

    error = await refused(things.insert_one({"_id": 4, "chat_id": "c", "seq": 1}))
    assert error.details is not None and error.details["keyValue"] == {"chat_id": "c", "seq": 1}
    await refused(things.update_one({"_id": 2}, {"$set": {"seq": 1}}))
    await refused(things.replace_one({"_id": 3}, {"chat_id": "c", "seq": 2}))
    await refused(things.find_one_and_update({"_id": 3}, {"$set": {"chat_id": "c"}}))
    await refused(things.update_one({"_id": 9}, {"$set": {"chat_id": "c", "seq": 2}}, upsert=True))
    with pytest.raises(BulkWriteError):
        await things.insert_many([{"_id": 5, "chat_id": "e", "seq": 1}, {"_id": 6, "chat_id": "c", "seq": 2}])

    # An update that leaves the key alone, or moves it to a free one, goes through.
    await things.update_one({"_id": 1}, {"$set": {"text": "edited"}})
    await things.update_one({"_id": 2}, {"$inc": {"seq": 1}})
    assert await contents(things) == [
        {"_id": 1, "chat_id": "c", "seq": 1, "text": "edited"},
        {"_id": 2, "chat_id": "c", "seq": 3},
        {"_id": 3, "chat_id": "d", "seq": 1},
        {"_id": 5, "chat_id": "e", "seq": 1},
    ]
    # The seq 2 was freed by the move: it can be taken again.
    await things.insert_one({"_id": 7, "chat_id": "c", "seq": 2})


async def test_a_refused_write_leaves_no_trace() -> None:
    things = embedded_collection()
    await things.create_indexes([IndexModel("email", unique=True), IndexModel("phone", unique=True)])
    await things.insert_one({"_id": 1, "email": "a@x", "phone": "1"})
    await things.insert_one({"_id": 2, "email": "b@x", "phone": "2"})
    before = await contents(things)

    # Free email, taken phone: refused as a whole, neither key held by the refused write.
    await refused(things.insert_one({"_id": 3, "email": "c@x", "phone": "1"}))
    await refused(things.update_one({"_id": 2}, {"$set": {"email": "d@x", "phone": "1"}}))
    assert await contents(things) == before
    await things.insert_one({"_id": 3, "email": "c@x", "phone": "3"})
    await things.insert_one({"_id": 4, "email": "d@x", "phone": "4"})
    # Document 2 still holds what it held: its keys are still taken.
    await refused(things.insert_one({"_id": 5, "email": "b@x", "phone": "5"}))
    await refused(things.insert_one({"_id": 5, "email": "e@x", "phone": "2"}))


async def test_a_delete_or_a_drop_frees_the_key() -> None:
    things = embedded_collection()
    await things.create_indexes([IndexModel("email", unique=True)])
    await things.insert_one({"_id": 1, "email": "a@x"})
    await things.delete_one({"_id": 1})
    await things.insert_one({"_id": 2, "email": "a@x"})
    await things.find_one_and_delete({"_id": 2})
    await things.insert_one({"_id": 1, "email": "a@x"})  # the first id again, with its key

    await things.drop()
    await things.create_indexes([IndexModel("email", unique=True)])
    await things.insert_one({"_id": 3, "email": "a@x"})
    await refused(things.insert_one({"_id": 4, "email": "a@x"}))


async def test_a_sparse_index_lets_documents_without_the_key_be() -> None:
    things = embedded_collection()
    await things.create_indexes(
        [IndexModel("purchase_key", unique=True, sparse=True), IndexModel("n", unique=True)]
    )
    await things.insert_one({"_id": 1, "n": 1})
    await things.insert_one({"_id": 2, "n": 2, "purchase_key": None})
    await things.insert_one({"_id": 3, "n": 3, "purchase_key": "k"})
    await refused(things.insert_one({"_id": 4, "n": 4, "purchase_key": "k"}))
    await things.update_one({"_id": 3}, {"$unset": {"purchase_key": ""}})
    await things.insert_one({"_id": 4, "n": 4, "purchase_key": "k"})
    # A non-sparse index counts a missing key as null: one document may lack it.
    await things.insert_one({"_id": 5})
    await refused(things.insert_one({"_id": 6}))
    await refused(things.update_one({"_id": 1}, {"$unset": {"n": ""}}))
    await things.delete_one({"_id": 5})
    await things.update_one({"_id": 1}, {"$unset": {"n": ""}})


async def test_a_partial_index_holds_only_the_documents_its_filter_selects() -> None:
    reports = embedded_collection("reports")
    open_only = {"status": "open"}
    await reports.create_indexes(
        [IndexModel([("chat_id", 1), ("reporter_id", 1)], unique=True, partialFilterExpression=open_only)]
    )
    info = await reports.index_information()
    assert info["chat_id_1_reporter_id_1"]["partialFilterExpression"] == open_only

    mine = {"chat_id": "c", "reporter_id": "r"}
    await reports.insert_one({"_id": 1, **mine, "status": "open"})
    await refused(reports.insert_one({"_id": 2, **mine, "status": "open"}))
    await reports.insert_one({"_id": 2, **mine, "status": "resolved"})  # outside the index
    await reports.insert_one({"_id": 3, "chat_id": "c", "reporter_id": "other", "status": "open"})
    await refused(reports.update_one({"_id": 2}, {"$set": {"status": "open"}}))  # into the index
    await reports.update_one({"_id": 1}, {"$set": {"status": "resolved"}})
    await reports.update_one({"_id": 2}, {"$set": {"status": "open"}})
    await reports.insert_one({"_id": 4, **mine, "status": "resolved"})
    assert [report["status"] for report in await contents(reports)] == [
        "resolved",
        "open",
        "open",
        "resolved",
    ]


async def test_a_partial_index_created_over_stored_documents_checks_only_those_it_selects() -> None:
    store = Store.in_memory("indexes")
    assert store.embedded_storage is not None
    mine = {"chat_id": "c", "reporter_id": "r"}
    store.embedded_storage.load(
        {"reports": [{"_id": 1, **mine, "status": "resolved"}, {"_id": 2, **mine, "status": "open"}]}
    )
    index = IndexModel(
        [("chat_id", 1), ("reporter_id", 1)], unique=True, partialFilterExpression={"status": "open"}
    )
    await store.database["reports"].create_indexes([index])
    await refused(store.database["reports"].insert_one({"_id": 3, **mine, "status": "open"}))

    store.embedded_storage.load({"reports": [{"_id": 3, **mine, "status": "open"}]})
    with pytest.raises(DuplicateKeyError):
        await store.database["reports"].create_indexes([index])


async def test_documents_loaded_into_storage_are_checked_against() -> None:
    store = Store.in_memory("indexes")
    assert store.embedded_storage is not None
    people = store.database["people"]
    await people.create_indexes([IndexModel("email", unique=True)])
    await people.insert_one({"_id": 1, "email": "a@x"})
    store.embedded_storage.load({"people": [{"_id": 2, "email": "b@x"}]})
    await refused(people.insert_one({"_id": 3, "email": "b@x"}))


async def test_a_check_scans_nothing() -> None:
    """mongomock counted the documents holding the written key with a scan of the collection per unique
    index per write; the only scan left is the one mongomock's update makes to find what it updates."""
    things = embedded_collection()
    await things.create_indexes(
        [IndexModel("email", unique=True), IndexModel([("a", 1), ("b", 1)], unique=True)]
    )
    for number in range(50):
        await things.insert_one({"_id": number, "email": f"{number}@x", "a": number, "b": 0})

    scans: list[Any] = []
    mongomock_collection = vars(things)["_AsyncMongoMockCollection__collection"]  # what mongomock-motor wraps
    iter_documents = mongomock_collection._iter_documents

    def counted(filter: Any) -> Any:
        scans.append(filter)
        return iter_documents(filter)

    mongomock_collection._iter_documents = counted
    try:
        await things.insert_one({"_id": 50, "email": "50@x", "a": 50, "b": 0})
        await refused(things.insert_one({"_id": 51, "email": "49@x", "a": 51, "b": 0}))
        assert scans == []
        await things.update_one({"_id": 3}, {"$set": {"email": "new@x", "b": 1}})
        await refused(things.update_one({"_id": 4}, {"$set": {"email": "new@x"}}))
        assert scans == [{"_id": 3}, {"_id": 4}]  # finding the document to update, nothing else
    finally:
        del mongomock_collection._iter_documents


# ---- the same outcome as mongomock's own checks --------------------------------------------------

VALUES: list[Any] = [
    None,
    1,
    2,
    1.0,
    True,
    "a",
    "b",
    datetime(2025, 1, 1),
    [1, 2],
    [2],
    [],
    {"x": 1},
    {"x": [1]},
]


def random_document(rng: random.Random, *, plain: bool) -> dict[str, Any]:
    """A document for the indexes below; ``plain``: no arrays or subdocuments where the keys are."""
    document: dict[str, Any] = {}
    for field in ("a", "b", "c"):
        if rng.random() < 0.7:
            document[field] = rng.choice(VALUES[:8] if plain or rng.random() < 0.8 else VALUES)
    if rng.random() < 0.6:
        document["status"] = rng.choice(["open", "resolved"])
    roll = rng.random()
    if roll < 0.5:
        document["m"] = {"k": rng.choice(VALUES[:7])}
    elif roll < 0.6 and not plain:
        document["m"] = rng.choice([None, "scalar", [{"k": 1}, {"k": 2}], {}])
    document["n"] = rng.randrange(4)
    return document


def random_write(rng: random.Random, collection: Any, *, plain: bool) -> Callable[[], Awaitable[Any]]:
    target = {"_id": rng.randrange(12)}
    document = random_document(rng, plain=plain)
    choices: list[Callable[[], Awaitable[Any]]] = [
        lambda: collection.insert_one({"_id": rng.randrange(12), **document}),
        lambda: collection.insert_one({"_id": rng.randrange(12), **document}),
        lambda: collection.update_one(target, {"$set": document}),
        lambda: collection.update_one(target, {"$set": {"status": rng.choice(["open", "resolved"])}}),
        lambda: collection.update_one(target, {"$unset": {rng.choice(["a", "b", "m", "status"]): ""}}),
        lambda: collection.update_one(target, {"$inc": {"n": 1}}),
        lambda: collection.update_one(target, {"$set": document}, upsert=True),
        lambda: collection.replace_one(target, document),
        lambda: collection.update_many({"n": rng.randrange(4)}, {"$set": {"a": rng.choice(VALUES[:7])}}),
        lambda: collection.find_one_and_update(target, {"$set": {"b": rng.choice(VALUES[:7])}}),
        lambda: collection.delete_one(target),
        lambda: recreate_index(collection, *rng.choice(INDEXES[:2])),
        lambda: collection.insert_many(
            [{"_id": 100 + rng.randrange(12), **random_document(rng, plain=plain)} for _ in range(3)],
            ordered=False,
        ),
    ]
    return rng.choice(choices)


INDEXES: list[tuple[Any, dict[str, Any]]] = [
    ("a", {"unique": True}),
    ([("b", 1), ("c", 1)], {"unique": True, "sparse": True}),
    ([("m.k", 1), ("c", 1)], {"unique": True, "partialFilterExpression": {"status": "open"}}),
    ("n", {}),
]


async def recreate_index(collection: Any, keys: Any, options: dict[str, Any]) -> Any:
    """Drop an index and create it again: the documents written meanwhile are checked when it is."""
    name = "a_1" if keys == "a" else "b_1_c_1"
    await collection.drop_index(name)
    await collection.insert_one({"_id": 200 + len(await contents(collection)), "a": 1, "b": 1, "c": 1})
    return await collection.create_index(keys, **options)


async def outcome(write: Callable[[], Awaitable[Any]]) -> Any:
    try:
        result = await write()
    except PyMongoError as error:
        return (type(error).__name__, getattr(error, "code", None), str(getattr(error, "details", None)))
    except Exception as error:  # mongomock's own refusals of a value (the same on both sides)
        return (type(error).__name__, str(error))
    raw = getattr(result, "raw_result", None)
    if isinstance(raw, dict):
        return repr({key: value for key, value in raw.items() if key != "connectionId"})
    return repr(getattr(result, "inserted_id", getattr(result, "inserted_ids", result)))


@pytest.mark.parametrize("plain", [True, False], ids=["plain keys", "any keys"])
@pytest.mark.parametrize("seed", range(4))
async def test_writes_end_as_they_end_with_mongomocks_own_checks(seed: int, plain: bool) -> None:
    embedded, reference = embedded_collection(), plain_mongomock_collection()
    for collection in (embedded, reference):
        for keys, options in INDEXES:
            await collection.create_index(keys, **options)
    # The same random writes on both: each one's outcome (result or error, with the details) and the stored
    # documents after it are the same.
    rngs = (random.Random(seed), random.Random(seed))
    for step in range(400):
        results = [
            await outcome(random_write(rng, collection, plain=plain))
            for rng, collection in zip(rngs, (embedded, reference), strict=True)
        ]
        assert results[0] == results[1], f"seed {seed}, write {step}"
        assert await contents(embedded) == await contents(reference), f"seed {seed}, write {step}"
        if step % 20 == 19:
            assert_filing_is_current(embedded)


def assert_filing_is_current(collection: Any) -> None:
    """The kept filing of each unique index is what filing the stored documents afresh gives."""
    collection_store = vars(collection)["_AsyncMongoMockCollection__collection"]._store
    filing = embedded_indexes._FILINGS.get(collection_store)
    if filing is None or filing.documents is not collection_store._documents:
        return  # none kept: the next check files afresh
    for index in filing.indexes.values():
        fresh = embedded_indexes._IndexFiling(index.spec, collection_store._documents)
        assert index.filed == fresh.filed
        assert (index.by_key, index.not_plain) == (fresh.by_key, fresh.not_plain)
        assert fresh.clean or not index.clean
