"""Where writes to the store are spelled: only beside the documents.

Every change to a stored document is a named operation in documents/ whose docstring states its guard (the
filter that keeps it right under concurrency). A service that spelled its own ``{"$set": ...}`` would write
a field in a second place, with a guard no one reviews beside the others, so the update operators and the
raw collections' write methods appear nowhere else.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("homer_rt", "handlers", "storage")

# MongoDB's update operators. (Their modifiers, $each, $slice, $sort and $position, only appear inside $push
# or $addToSet, which are caught.)
UPDATE_OPERATORS = frozenset(
    {
        "$set",
        "$unset",
        "$setOnInsert",
        "$inc",
        "$mul",
        "$min",
        "$max",
        "$rename",
        "$currentDate",
        "$push",
        "$pull",
        "$pullAll",
        "$addToSet",
        "$pop",
        "$bit",
    }
)
# The raw collection's methods that change documents (inserts of new documents are the document's own insert).
WRITE_METHODS = frozenset(
    {
        "update_one",
        "update_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "replace_one",
        "delete_one",
        "delete_many",
        "bulk_write",
    }
)
ALLOWED = (
    REPO / "documents",
    # The embedded store layer: it names the collection methods it wraps.
    REPO / "homer_rt" / "store.py",
)


def _sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        if not any(path == allowed or allowed in path.parents for allowed in ALLOWED)
    ]


def _raw_writes(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.Constant) and node.value in UPDATE_OPERATORS:
            found.append(f"{name}:{node.lineno}: {node.value}")
        elif isinstance(node, ast.Attribute) and node.attr in WRITE_METHODS:
            found.append(f"{name}:{node.lineno}: .{node.attr}")
    return sorted(found)


def test_updates_are_spelled_only_beside_the_documents() -> None:
    sources = _sources()
    assert len(sources) > 50  # the walk found the code it guards
    raw_writes = [
        write for path in sources for write in _raw_writes(path.read_text(), str(path.relative_to(REPO)))
    ]
    assert raw_writes == []


def test_the_guard_sees_a_raw_update() -> None:
    """The check itself: a service spelling its own update is caught, by operator and by method; a query
    operator or a docstring naming an update operator is not an update."""
    service = (
        "async def touch(users, user_id):\n"
        '    """Sets last_login with ``$set``."""\n'
        "    await users.update_one({'_id': user_id, 'active': {'$ne': False}}, {'$set': {'seen': 1}})\n"
    )
    assert _raw_writes(service, "service.py") == ["service.py:3: $set", "service.py:3: .update_one"]
