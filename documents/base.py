"""Shared pieces of every document: string UUID ids (the spec's *_id columns) and their generator."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
