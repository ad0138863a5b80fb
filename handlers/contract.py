"""What a REST route promises: its parameters, body, responses and who may call it.

Every handler carries one ``@operation(...)`` under its route decorator. The OpenAPI document
(``handlers/openapi.py``) is generated from the router and these declarations, never written by hand, and a
test fails when a route has none. Request models are the same pydantic models the handler validates with;
response types are the typed views the services return (TypedDicts or pydantic models).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HandlerT = TypeVar("HandlerT", bound=Handler)


class Access(StrEnum):
    """Who may call a route: it decides the security requirement and the 401/403 responses."""

    PUBLIC = "public"  # no token read
    OPTIONAL = "optional"  # a token, when sent, must be valid (401 otherwise) and changes the answer
    USER = "user"  # a valid bearer token
    ADMIN = "admin"  # a valid bearer token of an admin (403 for others)


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart/form-data body: the file fields accepted (each may repeat) and any text fields."""

    file_fields: tuple[str, ...]
    text_fields: type[BaseModel] | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    tags: tuple[str, ...]
    access: Access
    response: Any  # the 2xx body's type; None when the body is not JSON (see ``media_type``)
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    upload: Upload | None = None
    #: the JSON body's fields may be sent as query parameters instead (the spec's plain-parameter POSTs)
    body_in_query: bool = False
    #: error statuses beyond those the declaration implies (401 for a token, 422 for a body, ...)
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    description: str | None = None


_OPERATION_ATTRIBUTE = "__homer_operation__"


def operation(
    *,
    summary: str,
    tags: tuple[str, ...] | str,
    access: Access,
    response: Any,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    upload: Upload | None = None,
    body_in_query: bool = False,
    errors: tuple[int, ...] = (),
    media_type: str = "application/json",
    description: str | None = None,
) -> Callable[[HandlerT], HandlerT]:
    """Declare a handler's contract. Place it directly under ``@routes.<method>(path)``."""
    declared = Operation(
        summary=summary,
        tags=(tags,) if isinstance(tags, str) else tags,
        access=access,
        response=response,
        status=status,
        body=body,
        query=query,
        upload=upload,
        body_in_query=body_in_query,
        errors=errors,
        media_type=media_type,
        description=description,
    )

    def declare(handler: HandlerT) -> HandlerT:
        setattr(handler, _OPERATION_ATTRIBUTE, declared)
        return handler

    return declare


def declared_operation(handler: object) -> Operation | None:
    """The contract a handler declares, or None when it has none."""
    found = getattr(handler, _OPERATION_ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None
