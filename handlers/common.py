"""What every REST handler needs: the caller, a validated body or query, and the client's address."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar, get_origin

from aiohttp import web
from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict

from documents.user import User
from homer_rt import jsoncodec
from homer_rt.appkeys import AUTH, CLOCK
from homer_rt.errors import BadRequest, FieldError, Forbidden, Unauthorized, ValidationFailed
from homer_rt.logs import bind_user
from homer_rt.services.audit import AdminActor
from homer_rt.services.auth import Authenticated

ModelT = TypeVar("ModelT", bound=BaseModel)

_AUTHENTICATED = web.RequestKey("authenticated", Authenticated)


class MessageResponse(TypedDict):
    """The spec's answer to an action with nothing else to say: ``{"message": "Logged out successfully"}``."""

    message: str


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticate(request: web.Request) -> Authenticated:
    cached: Authenticated | None = request.get(_AUTHENTICATED)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("Not authenticated", code="not_authenticated")
    result = await request.app[AUTH].authenticate(token)
    request[_AUTHENTICATED] = result
    bind_user(result.user.id)  # into this request's log records and its access log line
    return result


async def current_user(request: web.Request) -> User:
    return (await authenticate(request)).user


async def optional_user(request: web.Request) -> User | None:
    """The caller when a valid token is sent; anonymous otherwise (public routes)."""
    if bearer_token(request) is None:
        return None
    return await current_user(request)


async def require_admin(request: web.Request) -> User:
    user = await current_user(request)
    if not user.is_admin:
        raise Forbidden("Admin access required", code="admin_required")
    return user


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """``web.json_response`` with orjson's encoding (homer_rt.jsoncodec)."""
    return web.json_response(data, status=status, headers=headers, dumps=jsoncodec.dumps)


def now(request: web.Request) -> datetime:
    return request.app[CLOCK].now()


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


def admin_actor(request: web.Request, admin: User) -> AdminActor:
    return AdminActor(
        admin_id=admin.id, ip_address=client_address(request), user_agent=request.headers.get("User-Agent")
    )


_INT64_MAX = 2**63 - 1


def _is_unicode_text(text: str) -> bool:
    """False for a string holding a lone UTF-16 surrogate: JSON's ``"\ud800"`` escape parses to one, and
    neither BSON nor orjson can encode it."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def unstorable_values(value: Any, path: str = "") -> list[FieldError]:
    """What MongoDB cannot store or query, as field errors: integers beyond 64 bits, NaN and infinities
    (which pydantic lets through by default), text with a lone surrogate, and object keys starting with
    ``$`` or holding NUL (an operator injection, or a key BSON cannot encode). mongomock accepts most of
    them, the real server fails."""
    problems: list[FieldError] = []
    if isinstance(value, bool):
        return problems
    if isinstance(value, str):
        if not _is_unicode_text(value):
            problems.append(
                {"field": path or "body", "message": "Text holds an unpaired surrogate", "type": "bad_text"}
            )
    elif isinstance(value, int) and abs(value) > _INT64_MAX:
        problems.append({"field": path or "body", "message": "Number is too large", "type": "int_too_large"})
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(
            {"field": path or "body", "message": "Number must be finite", "type": "finite_number"}
        )
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (key.startswith("$") or "\x00" in key or not _is_unicode_text(key)):
                problems.append({"field": name, "message": "Field name not allowed", "type": "bad_key"})
            else:
                problems.extend(unstorable_values(item, name))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            problems.extend(unstorable_values(item, f"{path}.{index}" if path else str(index)))
    return problems


def check_storable(model: BaseModel) -> None:
    """Refuse (422) a validated model holding a value the store would fail on instead of validation."""
    fields = unstorable_values(model.model_dump())
    if fields:
        raise ValidationFailed.of(fields)


def validate(model: type[ModelT], data: Any) -> ModelT:
    try:
        result = model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error) from error
    check_storable(result)
    return result


def _not_json_number(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise ValueError(f"{text} is out of range")
    return value


async def json_body(request: web.Request) -> Any:
    """The parsed JSON body; {} when there is none. Malformed JSON is a 400, never a 500."""
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_not_json_number, parse_float=_finite_float)
    except RecursionError as exc:
        raise BadRequest("Request body is nested too deeply", code="malformed_json") from exc
    except ValueError as exc:  # also JSONDecodeError and UnicodeDecodeError
        raise BadRequest("Request body is not valid JSON", code="malformed_json") from exc
    check_depth(data)
    return data


MAX_NESTING = 32


def check_depth(data: Any, *, limit: int = MAX_NESTING) -> None:
    """Refuse (400) objects nested deeper than any request needs, before recursive code walks them."""
    level: list[Any] = [data]
    for _ in range(limit + 1):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return
    raise BadRequest(f"Request data is nested more than {limit} levels deep", code="too_deeply_nested")


async def parse_body(request: web.Request, model: type[ModelT]) -> ModelT:
    return validate(model, await json_body(request))


def parse_query(request: web.Request, model: type[ModelT]) -> ModelT:
    return validate(model, dict(request.query))


async def parse_body_or_query(request: web.Request, model: type[ModelT]) -> ModelT:
    """For the spec's endpoints that take plain parameters: JSON body fields win over query ones. A list
    field takes every value of its repeated query parameter (``?attachments=a&attachments=b``)."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object", code="malformed_json")
    query: dict[str, Any] = dict(request.query)
    for name, field in model.model_fields.items():
        if name in request.query and get_origin(field.annotation) is list:
            query[name] = [value for value in request.query.getall(name) if value]  # "?a=" is none
    return validate(model, {**query, **body})
