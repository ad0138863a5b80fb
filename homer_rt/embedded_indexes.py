"""Unique indexes in the embedded store, checked by key instead of by scanning the collection.

mongomock checks the unique secondary indexes of a collection after every insert and after every update that
changed a document (``Collection._ensure_uniques``): for each index it counts the documents matching the
written document's key values, with a scan of the whole collection. A write to a collection of n documents
with k unique indexes cost k scans of n documents, so the documents avoided unique indexes. Here each unique
index of each collection of the embedded store keeps its documents filed by their key values, and a check
counts only the documents filed under the written document's values, with the filter mongomock would run.
The outcome is mongomock's, exactly:

- Every document that can match the written values is counted. A document whose key values are plain
  (hashable scalars, reached through subdocuments or missing) matches only values equal to its own, so it is
  filed under them. Any other (an array, a subdocument, a value behind an array or behind a scalar) is
  counted on every check of that index. A written document whose own key values are not plain is checked
  by mongomock's scan.
- Every counted document is matched with mongomock's filter (``filter_applies``, partialFilterExpression
  included), so filing never finds a match mongomock would not; sparse indexes skip a document whose key
  values are all missing by mongomock's own test; the error is mongomock's (DuplicateKeyError, code 11000).
- A refused write is undone by mongomock (the insert removed, the update's snapshot put back) and leaves the
  filing as it was: a document is filed only once every index accepted it.
- An update that left a document's key values as they were, and did not bring it into a partial index,
  needs no check: the document was accepted with those values, and no plain document can have taken them
  since (its own check would have counted this one). This holds while the index has no non-plain document
  and no two plain ones share values, as a duplicate stored before the index existed could (so then every
  update is checked).

How the filing stays true: a document is (re)filed by the check that accepted its write and unfiled by the
collection store's delete (``CollectionStore.__delitem__``: deletes, TTL expiry, a refused insert). A
dropped collection (a new document mapping), a changed set of unique indexes, an update that failed
half-way (mongomock leaves what it changed) or documents put into storage by the data-file loader
(``forget``) rebuild it: one pass over the collection.

For the embedded store only, also: mongomock-motor's enrichment of a DuplicateKeyError (which key collided)
finds the colliding document by key too, and partial unique indexes are honoured: mongomock's
``create_indexes`` drops ``partialFilterExpression``, and ``create_index`` checks the documents already stored
against the whole index instead of its partial filter.

homer_rt.store installs this (``install``) and enables it for the databases it opens (``enable``); other
mongomock databases in the process behave as mongomock does. Tested in tests/test_embedded_indexes.py,
against mongomock's own checks among others; what it relies on inside mongomock is checked by
tests/test_embedded_store.py::test_mongomock_internals_are_as_assumed.
"""

from __future__ import annotations

import weakref
from typing import Any

import mongomock.collection
import mongomock.filtering
import mongomock.helpers
import mongomock.store
import mongomock_motor.patches
from mongomock import DuplicateKeyError, OperationFailure

# mongomock is untyped: its classes are reached as Any.
_Collection: Any = mongomock.collection.Collection
_IndexModel: Any = vars(mongomock.collection)["IndexModel"]  # pymongo's, as mongomock checks it
_CollectionStore: Any = mongomock.store.CollectionStore
_motor_patches: Any = mongomock_motor.patches
_filter_applies: Any = mongomock.filtering.filter_applies
_helpers: Any = mongomock.helpers
# Values a filter does not match by equality alone: arrays and subdocuments, and patterns (mongomock's
# _RE_TYPES: compiled regular expressions, bson Regex).
_NOT_PLAIN_TYPES: tuple[type, ...] = (list, tuple, dict, *mongomock.filtering._RE_TYPES)

_ORIGINAL: dict[str, Any] = {}

# The databases (mongomock DatabaseStores) whose unique indexes are checked by key.
_ENABLED: weakref.WeakSet[Any] = weakref.WeakSet()
# Each collection store's filing, while one is kept.
_FILINGS: weakref.WeakKeyDictionary[Any, _Filing] = weakref.WeakKeyDictionary()

_DUPLICATE = "E11000 Duplicate Key Error"
_NOT_FILED: Any = object()
# A subdocument that is missing: its fields are missing (mongomock matches them to null). Never changed.
_MISSING_SUBDOCUMENT: dict[str, Any] = {}


def _is_plain(value: Any) -> bool:
    """True for a value mongomock's filter matches by equality alone, and that can be filed by hash."""
    if isinstance(value, _NOT_PLAIN_TYPES):
        return False
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _stored_key(document: dict[str, Any], fields: list[str]) -> tuple[Any, ...] | None:
    """The key values a stored document is filed under (a missing field is None), or None when they are not
    plain: a document mongomock could match by something other than equality of each value."""
    values = []
    for path in fields:
        value: Any = document
        parts = path.split(".")
        for part in parts[:-1]:
            if not isinstance(value, dict):  # an array or a scalar on the path
                return None
            value = value.get(part, _MISSING_SUBDOCUMENT)
        if not isinstance(value, dict):
            return None
        value = value.get(parts[-1])
        if not _is_plain(value):
            return None
        values.append(value)
    return tuple(values)


def _written_values(document: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The key values mongomock checks a written document by (its ``find_kwargs``)."""
    values = {}
    for path in fields:
        try:
            values[path] = _helpers.get_value_by_dot(document, path)
        except KeyError:
            values[path] = None
    return values


def _plain_key(values: dict[str, Any]) -> tuple[Any, ...] | None:
    key = tuple(values.values())
    return key if all(_is_plain(value) for value in key) else None


def _id_in_store(document: dict[str, Any]) -> Any:
    """The key mongomock stores a document under."""
    document_id = document["_id"]
    return _helpers.hashdict(document_id) if isinstance(document_id, dict) else document_id


class _IndexFiling:
    """One unique index's documents by key values: plain ones under their values, the others aside."""

    def __init__(self, spec: dict[str, Any], documents: Any) -> None:
        self.spec = spec
        self.fields: list[str] = [field for field, _ in spec["key"]]
        self.sparse = bool(spec.get("sparse"))
        self.partial: dict[str, Any] | None = spec.get("partialFilterExpression")
        # Key values -> the one document id filed there, or a set of them.
        self.by_key: dict[tuple[Any, ...], Any] = {}
        self.not_plain: set[Any] = set()
        # Document id -> its key values, or None when they are not plain.
        self.filed: dict[Any, tuple[Any, ...] | None] = {}
        # The filed documents the partial filter does not select (none without a partial filter).
        self.outside: set[Any] = set()
        # No two plain documents in the index (matching its partial filter) share key values.
        self.clean = True
        members: set[tuple[Any, ...]] = set()
        for document_id, document in documents.items():
            key = _stored_key(document, self.fields)
            member = self.is_member(document)
            self.file(document_id, key, member)
            if key is not None and member and not (self.sparse and all(value is None for value in key)):
                if key in members:
                    self.clean = False
                members.add(key)

    def is_member(self, document: dict[str, Any]) -> bool:
        return self.partial is None or bool(_filter_applies(self.partial, document))

    def file(self, document_id: Any, key: tuple[Any, ...] | None, member: bool) -> None:
        self.forget(document_id)
        self.filed[document_id] = key
        if not member:
            self.outside.add(document_id)
        if key is None:
            self.not_plain.add(document_id)
            return
        present = self.by_key.get(key)
        if present is None:
            self.by_key[key] = document_id
        elif isinstance(present, set):
            present.add(document_id)
        else:
            self.by_key[key] = {present, document_id}

    def forget(self, document_id: Any) -> None:
        key = self.filed.pop(document_id, _NOT_FILED)
        if key is _NOT_FILED:
            return
        self.outside.discard(document_id)
        if key is None:
            self.not_plain.discard(document_id)
            return
        present = self.by_key.get(key)
        if isinstance(present, set):
            present.discard(document_id)
            if len(present) == 1:
                self.by_key[key] = next(iter(present))
        elif present == document_id:
            del self.by_key[key]

    def candidates(self, key: tuple[Any, ...], document_id: Any) -> set[Any]:
        """Every document that can match ``key``: those filed under it, the not plain ones, and the written
        one (not filed yet)."""
        present = self.by_key.get(key)
        found = set(present) if isinstance(present, set) else set() if present is None else {present}
        found |= self.not_plain
        found.add(document_id)
        return found

    def unchanged(self, document_id: Any, key: tuple[Any, ...], member: bool) -> bool:
        """True when an update kept the document's filed key values and did not bring it into the index."""
        if not self.clean or self.not_plain:
            return False
        was = self.filed.get(document_id, _NOT_FILED)
        return was is not _NOT_FILED and was == key and (document_id not in self.outside or not member)


class _Filing:
    """One collection's unique indexes, filed, for the document mapping they were built from."""

    def __init__(self, documents: Any) -> None:
        self.documents = documents
        self.indexes: dict[str, _IndexFiling] = {}

    def forget(self, document_id: Any) -> None:
        for index in self.indexes.values():
            index.forget(document_id)


def _filing(store: Any, unique: list[tuple[str, dict[str, Any]]]) -> tuple[_Filing, bool]:
    """The collection's filing for its current documents and unique indexes, and whether any of it was
    (re)built just now, from the documents as they are: a document being written is filed as written (the
    caller forgets the filing if that write is refused and put back)."""
    filing = _FILINGS.get(store)
    built = False
    if filing is None or filing.documents is not store._documents:
        filing = _FILINGS[store] = _Filing(store._documents)
    names = {name for name, _ in unique}
    for name in [name for name in filing.indexes if name not in names]:
        del filing.indexes[name]
    for name, spec in unique:
        index = filing.indexes.get(name)
        if index is None or (index.spec is not spec and index.spec != spec):
            filing.indexes[name] = _IndexFiling(spec, store._documents)
            built = True
    return filing, built


def _current_filing(store: Any, unique: list[tuple[str, dict[str, Any]]]) -> _Filing | None:
    """The collection's filing if it is kept for its current documents and unique indexes; never builds."""
    filing = _FILINGS.get(store)
    if filing is None or filing.documents is not store._documents or len(filing.indexes) != len(unique):
        return None
    for name, spec in unique:
        index = filing.indexes.get(name)
        if index is None or (index.spec is not spec and index.spec != spec):
            return None
    return filing


def _unique_indexes(store: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(name, spec) for name, spec in store.indexes.items() if spec.get("unique")]


def _count_matching(
    collection: Any, index: _IndexFiling, values: dict[str, Any], query: dict[str, Any], document_id: Any
) -> int:
    """How many stored documents match ``query`` (the written values, with the partial filter when there is
    one): mongomock's scan, or the documents filed under the values when they are plain."""
    key = _plain_key(values)
    if key is None:
        return len(list(collection._iter_documents(query)))
    documents = collection._store._documents
    count = 0
    for candidate in index.candidates(key, document_id):
        document = documents.get(candidate)
        if document is not None and _filter_applies(query, document):
            count += 1
    return count


def _ensure_uniques(self: Any, new_data: dict[str, Any]) -> None:
    """``Collection._ensure_uniques``: refuse a written document (already in storage) whose key values another
    document of a unique index holds."""
    if self._db_store not in _ENABLED:
        _ORIGINAL["_ensure_uniques"](self, new_data)
        return
    store = self._store
    unique = _unique_indexes(store)
    if not unique:
        _FILINGS.pop(store, None)  # nothing to keep filed; a unique index created later is filed afresh
        return
    try:
        if store._ttl_indexes:
            store._remove_expired_documents()  # as mongomock's scan does first
        filing, built = _filing(store, unique)
        document_id = _id_in_store(new_data)
        accepted: list[tuple[_IndexFiling, tuple[Any, ...] | None, bool]] = []
        for name, _ in unique:
            index = filing.indexes[name]
            values = _written_values(new_data, index.fields)
            stored = _stored_key(new_data, index.fields)
            if index.sparse and set(values.values()) == {None}:
                accepted.append((index, stored, False))
                continue
            member = index.is_member(new_data)
            accepted.append((index, stored, member))
            if stored is not None and index.unchanged(document_id, stored, member):
                continue
            query = values if index.partial is None else {"$and": [index.partial, values]}
            if _count_matching(self, index, values, query, document_id) > 1:
                if built:  # it filed this document as written, which mongomock is about to undo
                    _FILINGS.pop(store, None)
                raise DuplicateKeyError(_DUPLICATE, 11000)
        if store._documents.get(document_id) is new_data:  # not expired meanwhile
            for index, key, member in accepted:
                index.file(document_id, key, member)
    except DuplicateKeyError:
        raise  # mongomock undoes the write: the filing is as it was
    except BaseException:
        _FILINGS.pop(store, None)  # mongomock may keep the write: file afresh next time
        raise


def _update(self: Any, *args: Any, **kwargs: Any) -> Any:
    """``Collection._update``: an update that fails other than on a unique index may leave a document
    changed (mongomock changes documents in place and puts a snapshot back only for those two errors)."""
    try:
        return _ORIGINAL["_update"](self, *args, **kwargs)
    except DuplicateKeyError:
        raise
    except BaseException:
        if self._db_store in _ENABLED:
            _FILINGS.pop(self._store, None)
        raise


def _delitem(self: Any, key: Any) -> None:
    """``CollectionStore.__delitem__``: a deleted document leaves its filing."""
    _ORIGINAL["__delitem__"](self, key)
    filing = _FILINGS.get(self)
    if filing is not None:
        filing.forget(key)


def _provide_error_details(collection: Any, data: dict[str, Any], exception: Exception) -> Exception:
    """mongomock-motor's DuplicateKeyError enrichment (the first unique index whose written values some stored
    document matches, partial filters aside), finding that document by key."""
    if collection._db_store not in _ENABLED or not isinstance(exception, DuplicateKeyError):
        return _ORIGINAL["_provide_error_details"](collection, data, exception)  # type: ignore[no-any-return]
    store = collection._store
    unique = _unique_indexes(store)
    if not unique:
        return exception
    filing = _current_filing(store, unique)
    if filing is None:
        # Building one here would file the refused document as written, before mongomock puts it back.
        return _ORIGINAL["_provide_error_details"](collection, data, exception)  # type: ignore[no-any-return]
    if store._ttl_indexes:
        store._remove_expired_documents()
    for name, spec in unique:
        index = filing.indexes[name]
        values = _written_values(data, index.fields)
        if index.sparse and set(values.values()) == {None}:
            continue
        document_id = _id_in_store(data) if "_id" in data else None
        if _count_matching(collection, index, values, values, document_id):
            return DuplicateKeyError(
                _DUPLICATE, 11000, {"keyValue": values, "keyPattern": dict(spec["key"])}, None
            )
    return exception


def _create_indexes(self: Any, indexes: Any, session: Any = None) -> Any:
    """``Collection.create_indexes``, passing on each index's partialFilterExpression (mongomock drops it)."""
    if self._db_store not in _ENABLED:
        return _ORIGINAL["create_indexes"](self, indexes, session)
    for index in indexes:
        if not isinstance(index, _IndexModel):
            raise TypeError(f"{index} is not an instance of pymongo.operations.IndexModel")
    return [
        self.create_index(
            index.document["key"].items(),
            session=session,
            expireAfterSeconds=index.document.get("expireAfterSeconds"),
            unique=index.document.get("unique", False),
            sparse=index.document.get("sparse", False),
            name=index.document.get("name"),
            partialFilterExpression=index.document.get("partialFilterExpression"),
        )
        for index in indexes
    ]


def _create_index(
    self: Any, key_or_list: Any, cache_for: int = 300, session: Any = None, **kwargs: Any
) -> Any:
    """``Collection.create_index``; a partial unique index checks only the stored documents its filter
    selects (mongomock checks them all), and a unique index is filed at once (not by the first write)."""
    if self._db_store not in _ENABLED:
        return _ORIGINAL["create_index"](self, key_or_list, cache_for, session, **kwargs)
    if kwargs.get("unique") and kwargs.get("partialFilterExpression") is not None and not session:
        name = _create_partial_unique_index(self, key_or_list, **kwargs)
    else:
        name = _ORIGINAL["create_index"](self, key_or_list, cache_for, session, **kwargs)
    unique = _unique_indexes(self._store)
    if unique:
        _filing(self._store, unique)
    return name


def _create_partial_unique_index(collection: Any, key_or_list: Any, **kwargs: Any) -> str:
    """What mongomock's create_index does, with the check of stored documents limited to the partial
    filter's."""
    index_list = _helpers.create_index_list(key_or_list)
    kwargs.pop("unique")
    is_sparse = kwargs.pop("sparse", False)
    index_name: str = kwargs.pop("name", _helpers.gen_index_name(index_list))
    index_dict: dict[str, Any] = {"key": index_list}
    if is_sparse:
        index_dict["sparse"] = True
    index_dict["unique"] = True
    if kwargs.get("expireAfterSeconds") is not None:
        index_dict["expireAfterSeconds"] = kwargs["expireAfterSeconds"]
    partial = index_dict["partialFilterExpression"] = kwargs["partialFilterExpression"]
    existing = collection._store.indexes.get(index_name)
    if existing and index_dict != existing:
        raise OperationFailure(f"Index with name: {index_name} already exists with different options")
    seen: set[tuple[Any, ...]] = set()
    unhashable: list[tuple[Any, ...]] = []
    for document in list(collection._store.documents):
        if not _filter_applies(partial, document):
            continue
        values = []
        for field, _ in index_list:
            try:
                values.append(_helpers.get_value_by_dot(document, field))
            except KeyError:
                if is_sparse:
                    continue
                values.append(None)
        if is_sparse and not values:
            continue
        key = tuple(values)
        try:
            if key in seen:
                raise DuplicateKeyError(_DUPLICATE, 11000)
            seen.add(key)
        except TypeError:  # not hashable
            if key in unhashable:
                raise DuplicateKeyError(_DUPLICATE, 11000) from None
            unhashable.append(key)
    collection._store.create_index(index_name, index_dict)
    return index_name


def install() -> None:
    """Patch mongomock and mongomock-motor (once); nothing changes for a database until ``enable``."""
    if _ORIGINAL:
        return
    _ORIGINAL.update(
        _ensure_uniques=_Collection._ensure_uniques,
        _update=_Collection._update,
        create_index=_Collection.create_index,
        create_indexes=_Collection.create_indexes,
        __delitem__=_CollectionStore.__delitem__,
        _provide_error_details=_motor_patches._provide_error_details,
    )
    _Collection._ensure_uniques = _ensure_uniques
    _Collection._update = _update
    _Collection.create_index = _create_index
    _Collection.create_indexes = _create_indexes
    _CollectionStore.__delitem__ = _delitem
    _motor_patches._provide_error_details = _provide_error_details


def enable(database_store: Any) -> None:
    """Check the unique indexes of this mongomock database (a ``DatabaseStore``) by key."""
    install()
    _ENABLED.add(database_store)


def forget(collection_store: Any) -> None:
    """Documents were put into this collection's storage directly: file them afresh at the next check."""
    _FILINGS.pop(collection_store, None)
