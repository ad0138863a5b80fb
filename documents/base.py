"""Shared pieces of every document: string UUID ids (the spec's *_id columns) and their generator, and the
one way to the raw collection behind a document class."""

from __future__ import annotations

import uuid
from typing import Any

from beanie import Document
from motor.motor_asyncio import AsyncIOMotorCollection


def new_id() -> str:
    return str(uuid.uuid4())


def collection_of(document: type[Document]) -> AsyncIOMotorCollection[Any]:
    """The raw collection of a document class, for the atomic single-document updates (``$inc`` with a
    guard, ``find_one_and_update``) Beanie's own API does not express. Every such access goes through here:
    the move from motor to PyMongo's async API (Beanie 2's ``get_pymongo_collection``) is a change to this
    function, not to every service."""
    return document.get_motor_collection()
