"""What a REST route promises: its parameters, body, responses and who may call it.

Every handler carries one ``@operation(...)`` under its route decorator. The OpenAPI document
(``handlers/openapi.py``) is generated from the router and these declarations, never written by hand, and a
test fails when a route has none. Request models are the same pydantic models the handler validates with;
response types are the typed views the services return (TypedDicts or pydantic models).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
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
    OPERATOR = "operator"  # the operator's static token (METRICS_TOKEN), never a user's JWT


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart/form-data body: the file fields accepted (one of them is needed; several are other names
    for the same thing), how many files a request may carry, and any text fields."""

    file_fields: tuple[str, ...]
    text_fields: type[BaseModel] | None = None
    #: files one request carries (None: as many as a form may hold, handlers.files.MAX_FILES_PER_REQUEST)
    max_files: int | None = None


# The statuses a declaration implies, so no handler lists them by hand: a token may be missing, invalid or
# revoked (401) and its account inactive (403); a JSON body may be malformed or nested too deeply (400) or
# too large (413), and any body or query may fail its model (422); an upload may be malformed (400), too large
# or over the quota (413), of a type not allowed (415), over the hourly count (429), or storage fail (502).
_ACCESS_ERRORS: dict[Access, tuple[int, ...]] = {
    Access.PUBLIC: (),
    Access.OPTIONAL: (401, 403),
    Access.USER: (401, 403),
    Access.ADMIN: (401, 403),
    Access.OPERATOR: (401,),
}
_UPLOAD_ERRORS = (400, 413, 415, 429, 502)


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    tags: tuple[str, ...]
    access: Access
    response: Any  # the 2xx body's type; None when the body is not JSON (see ``media_type``)
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    #: the forms of the path parameters, one field each, when they are narrower than "one path segment" (the
    #: handler checks them itself: this documents what it accepts, e.g. ``renter_<id>``)
    path: type[BaseModel] | None = None
    upload: Upload | None = None
    #: the JSON body's fields may be sent as query parameters instead (the spec's plain-parameter POSTs)
    body_in_query: bool = False
    #: error statuses beyond those the declaration implies (401 for a token, 422 for a body, ...)
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    description: str | None = None
    #: other answers that are not the error envelope, with their body's type (None: no body), e.g. the
    #: health check's 503 carrying the same report as its 200, or a redirect
    responses: tuple[tuple[int, Any], ...] = ()

    def error_statuses(self) -> tuple[int, ...]:
        """Every status answered with the error envelope: those implied by the declaration and ``errors``."""
        implied = set(_ACCESS_ERRORS[self.access]) | set(self.errors)
        if self.body is not None or self.query is not None:
            implied |= {400, 422}
        if self.body is not None:
            implied.add(413)  # past REQUEST_BODY_MAX_BYTES
        if self.upload is not None:
            implied |= set(_UPLOAD_ERRORS)
            if self.upload.text_fields is not None:
                implied.add(422)
        return tuple(sorted(implied - {status for status, _ in self.responses}))


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
    path: type[BaseModel] | None = None,
    upload: Upload | None = None,
    body_in_query: bool = False,
    errors: tuple[int, ...] = (),
    media_type: str = "application/json",
    description: str | None = None,
    responses: Mapping[int, Any] | None = None,
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
        path=path,
        upload=upload,
        body_in_query=body_in_query,
        errors=errors,
        media_type=media_type,
        description=description,
        responses=tuple(sorted((responses or {}).items())),
    )

    def declare(handler: HandlerT) -> HandlerT:
        setattr(handler, _OPERATION_ATTRIBUTE, declared)
        return handler

    return declare


def declared_operation(handler: object) -> Operation | None:
    """The contract a handler declares, or None when it has none."""
    found = getattr(handler, _OPERATION_ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None
