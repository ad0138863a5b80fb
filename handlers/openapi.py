"""The OpenAPI 3.1 document, generated from the router and each handler's ``@operation``, and Swagger UI.

Nothing here is written by hand per route: paths and path parameters come from the aiohttp resources (a
``{name:regex}`` segment becomes a ``pattern``), query parameters, bodies and responses from the pydantic
models and typed views each handler declares (handlers/contract.py). All schemas are generated in one pydantic
pass, so two models of the same name in different modules get distinct component names, and their ``$defs``
become ``components/schemas``.

``GET /api/openapi.json`` serves the document, built once per app on its first request; Swagger UI reads it
at ``GET /api/docs`` (handlers/docs.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from importlib import metadata
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import core_schema

from handlers.contract import Access, Handler, Operation, declared_operation, operation
from handlers.files import MAX_FILES_PER_REQUEST
from homer_rt import jsoncodec
from homer_rt.realtime import SOCKETIO_PATH

routes = web.RouteTableDef()

OPENAPI_PATH = "/api/openapi.json"
SCHEMA_REF = "#/components/schemas/{model}"
BEARER_SCHEME = "bearerAuth"
OPERATOR_SCHEME = "operatorToken"
ERROR_COMPONENT = "Error"
JSON = "application/json"
MULTIPART = "multipart/form-data"

# Statuses whose answers carry a header a client acts on.
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer; with error="invalid_token" when the token sent was refused',
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_COMPONENT,
    "description": "Every error: `detail` for people (what the frontend shows), `error.code` for code.",
    "type": "object",
    "required": ["detail", "error"],
    "properties": {
        "detail": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["code"],
            "properties": {
                "code": {"type": "string", "description": "Stable and machine-readable, e.g. `not_found`"},
                "fields": {
                    "description": "On 422: each invalid or missing field",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message", "type"],
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                },
                "retry_after": {
                    "description": "On 429 (and some 503s): seconds to wait, as the Retry-After header",
                    "type": "integer",
                },
                "limit": {
                    "description": "On 403 `contact_limit_reached` and the listing cap: the limit reached",
                    "type": "integer",
                },
                "upgrade_url": {
                    "description": "On 403 `contact_limit_reached`: where to go premium",
                    "type": "string",
                },
                "report_id": {"description": "On 409: the open report already filed", "type": "string"},
                "quota_bytes": {"description": "On 413 past the upload quota: the quota", "type": "integer"},
            },
        },
    },
}

_DESCRIPTION = """\
The REST API of Homer RT, generated from the server's route table and request and response models.

**Authentication.** `POST /api/auth/login` (or register) answers a `token`: send it as
`Authorization: Bearer <token>` (the Authorize button here). Operations marked with a lock need it; those
with an open lock use it when sent.

**Errors.** Every error answers `{"detail": "...", "error": {"code": "..."}}`; a 422 lists the invalid
`fields`, a 429 says how long to wait in `retry_after` and the `Retry-After` header.

**Live updates** (chat messages, typing, read receipts, notifications) arrive over Socket.IO at `/socket.io/`,
documented separately.
"""


@dataclass(frozen=True, slots=True)
class DocumentedRoute:
    method: str
    path: str  # the template, ``/api/chats/{chat_id}``
    handler: Handler
    path_patterns: dict[str, str]  # each path parameter's regular expression


_GROUP_START = re.compile(r"\(\?P<(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")


def _path_patterns(compiled: str, template: str) -> dict[str, str]:
    """Each ``{name}``'s regular expression, read back from the resource's compiled pattern (aiohttp keeps
    no other record of it): the text of the named group, up to its balanced closing parenthesis."""
    wanted = set(re.findall(r"\{([^{}:]+)\}", template))
    found: dict[str, str] = {}
    for start in _GROUP_START.finditer(compiled):
        depth, index, in_class = 1, start.end(), False
        while depth:
            char = compiled[index]
            if char == "\\":
                index += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            index += 1
        if start["name"] in wanted:
            found[start["name"]] = compiled[start.end() : index - 1]
    return found


def documented_routes(router: web.UrlDispatcher) -> list[DocumentedRoute]:
    """Every route the document must show: all but HEAD (aiohttp adds one beside each GET) and the Socket.IO
    engine's path, which is not REST."""
    found = []
    for route in router.routes():
        resource = route.resource
        if route.method == "HEAD" or resource is None or resource.canonical == SOCKETIO_PATH:
            continue
        info = resource.get_info()
        compiled = info.get("pattern")
        patterns = _path_patterns(compiled.pattern, resource.canonical) if compiled is not None else {}
        found.append(DocumentedRoute(route.method, resource.canonical, route.handler, patterns))
    return found


def undeclared_routes(router: web.UrlDispatcher) -> list[str]:
    """``METHOD /path`` of each route whose handler has no ``@operation``: none may exist."""
    return [
        f"{r.method} {r.path}" for r in documented_routes(router) if declared_operation(r.handler) is None
    ]


def _operation_id(handler: Handler) -> str:
    module = handler.__module__.rpartition(".")[2]
    return f"{module}_{handler.__name__}"


def _status_description(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


class _ApiJsonSchema(GenerateJsonSchema):
    """pydantic's JSON schemas, with the API's conventions where pydantic's defaults would say less."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        """Every decimal a request carries is an amount of rupees (design: money is exact): a JSON number
        with at most two decimal places, to the paisa, as the frontend sends it. pydantic would also offer any
        string, which the server reads only when it spells a number; a third decimal place is a 400."""
        found = super().decimal_schema(schema)
        if self.mode != "validation":
            return found
        number: JsonSchemaValue = found["anyOf"][0]
        number.setdefault("multipleOf", 0.01)
        return number

    def encode_default(self, dft: Any) -> Any:
        """A decimal's default as the number it documents (pydantic writes the string ``"0"``)."""
        if isinstance(dft, Decimal):
            return int(dft) if dft == dft.to_integral_value() else float(dft)
        return super().encode_default(dft)


_Key = tuple[int, JsonSchemaMode]  # a type's identity and the mode its schema is generated in


class _Schemas:
    """Collects every type an operation names, then generates all their schemas in one pydantic pass."""

    def __init__(self) -> None:
        self._inputs: dict[_Key, tuple[_Key, JsonSchemaMode, TypeAdapter[Any]]] = {}
        self._types: dict[int, Any] = {}
        self.generated: dict[_Key, dict[str, Any]] = {}
        self.definitions: dict[str, Any] = {}

    def want(self, annotation: Any, mode: JsonSchemaMode) -> _Key:
        key = (id(annotation), mode)
        if key not in self._inputs:
            self._types[id(annotation)] = annotation  # keeps the id valid while generating
            self._inputs[key] = (key, mode, TypeAdapter(annotation))
        return key

    def generate(self) -> None:
        generated, top = TypeAdapter.json_schemas(
            self._inputs.values(), ref_template=SCHEMA_REF, schema_generator=_ApiJsonSchema
        )
        self.generated = {key: value for (key, _mode), value in generated.items()}
        self.definitions = top.get("$defs", {})

    def schema(self, key: _Key) -> dict[str, Any]:
        return self.generated[key]

    def resolved(self, key: _Key) -> dict[str, Any]:
        """The object schema behind a model's ``$ref`` (to list its fields as parameters)."""
        schema = self.generated[key]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            resolved: dict[str, Any] = self.definitions[ref.rpartition("/")[2]]
            return resolved
        return schema


@dataclass(frozen=True, slots=True)
class _Keys:
    query: _Key | None
    body: _Key | None
    path: _Key | None
    text_fields: _Key | None
    response: _Key | None
    responses: dict[int, _Key | None]


def _is_json(media_type: str) -> bool:
    return media_type.split(";")[0].strip() == JSON


def _want(schemas: _Schemas, declared: Operation) -> _Keys:
    def model(found: type[BaseModel] | None) -> _Key | None:
        return schemas.want(found, "validation") if found is not None else None

    response = None
    if declared.response is not None and _is_json(declared.media_type):
        response = schemas.want(declared.response, "serialization")
    return _Keys(
        query=model(declared.query),
        body=model(declared.body),
        path=model(declared.path),
        text_fields=model(declared.upload.text_fields if declared.upload else None),
        response=response,
        responses={
            status: None if body is None else schemas.want(body, "serialization")
            for status, body in declared.responses
        },
    )


def _fields_as_parameters(object_schema: dict[str, Any], *, required: bool) -> list[dict[str, Any]]:
    needed = set(object_schema.get("required", ())) if required else set()
    parameters = []
    for name, schema in object_schema.get("properties", {}).items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in needed,
            "schema": schema,
        }
        if "description" in schema:
            parameter["description"] = schema["description"]
        parameters.append(parameter)
    return parameters


def _security(access: Access) -> list[dict[str, list[str]]]:
    if access is Access.PUBLIC:
        return []
    if access is Access.OPTIONAL:
        return [{BEARER_SCHEME: []}, {}]
    if access is Access.OPERATOR:
        return [{OPERATOR_SCHEME: []}]
    return [{BEARER_SCHEME: []}]


def _success_content(declared: Operation, schemas: _Schemas, keys: _Keys) -> dict[str, Any] | None:
    if keys.response is not None:
        return {declared.media_type: {"schema": schemas.schema(keys.response)}}
    if _is_json(declared.media_type) and declared.response is None:
        return None  # no body
    text = declared.media_type.startswith("text/")
    return {declared.media_type: {"schema": {"type": "string"} if text else {}}}


def _responses(declared: Operation, schemas: _Schemas, keys: _Keys) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": _status_description(declared.status)}
    content = _success_content(declared, schemas, keys)
    if content is not None:
        success["content"] = content
    responses[str(declared.status)] = success
    for status, key in keys.responses.items():
        other: dict[str, Any] = {"description": _status_description(status)}
        if key is not None:
            other["content"] = {JSON: {"schema": schemas.schema(key)}}
        responses[str(status)] = other
    for status in declared.error_statuses():
        error: dict[str, Any] = {
            "description": _status_description(status),
            "content": {JSON: {"schema": {"$ref": SCHEMA_REF.format(model=ERROR_COMPONENT)}}},
        }
        if status in _ERROR_HEADERS:
            error["headers"] = _ERROR_HEADERS[status]
        responses[str(status)] = error
    return dict(sorted(responses.items()))


def _multipart(declared: Operation, schemas: _Schemas, keys: _Keys) -> dict[str, Any]:
    upload = declared.upload
    assert upload is not None
    binary = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
    files = {
        "type": "array",
        "items": binary,
        "minItems": 1,
        "maxItems": upload.max_files or MAX_FILES_PER_REQUEST,
    }
    properties: dict[str, Any] = dict.fromkeys(upload.file_fields, files)
    required: list[str] = []
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if len(upload.file_fields) == 1:
        required += upload.file_fields
    else:  # other names for the same files: one of them is needed
        schema["anyOf"] = [{"required": [name]} for name in upload.file_fields]
    if keys.text_fields is not None:
        text = schemas.resolved(keys.text_fields)
        properties.update(text.get("properties", {}))
        required += text.get("required", [])
    schema["required"] = required
    return {"required": True, "content": {MULTIPART: {"schema": schema}}}


def _path_parameters(route: DocumentedRoute, schemas: _Schemas, path: _Key | None) -> list[dict[str, Any]]:
    """Each path parameter: one path segment matching the route's pattern, or the form the operation declares
    (``@operation(path=...)``), which is narrower."""
    declared: dict[str, Any] = schemas.resolved(path).get("properties", {}) if path is not None else {}
    unknown = set(declared) - set(route.path_patterns)
    if unknown:
        raise ValueError(f"{route.method} {route.path} declares path parameters it does not have: {unknown}")
    parameters = []
    for name, pattern in route.path_patterns.items():
        # "." and ".." never reach a route: clients and aiohttp resolve them as dot-segments.
        schema = declared.get(name, {"type": "string", "pattern": rf"^(?!\.\.?$)(?:{pattern})$"})
        parameter: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
        if "description" in schema:
            parameter["description"] = schema["description"]
        parameters.append(parameter)
    return parameters


def _operation_object(
    route: DocumentedRoute, declared: Operation, schemas: _Schemas, keys: _Keys
) -> dict[str, Any]:
    parameters = _path_parameters(route, schemas, keys.path)
    if keys.query is not None:
        parameters += _fields_as_parameters(schemas.resolved(keys.query), required=True)
    if keys.body is not None and declared.body_in_query:
        parameters += _fields_as_parameters(schemas.resolved(keys.body), required=False)
    found: dict[str, Any] = {
        "operationId": _operation_id(route.handler),
        "summary": declared.summary,
        "tags": list(declared.tags),
    }
    if declared.description:
        found["description"] = declared.description
    if parameters:
        found["parameters"] = parameters
    if keys.body is not None:
        body_schema = schemas.resolved(keys.body)
        found["requestBody"] = {
            "required": bool(body_schema.get("required")) and not declared.body_in_query,
            "content": {JSON: {"schema": schemas.schema(keys.body)}},
        }
    elif declared.upload is not None:
        found["requestBody"] = _multipart(declared, schemas, keys)
    found["responses"] = _responses(declared, schemas, keys)
    found["security"] = _security(declared.access)
    # Which caller the route serves (public, optional, user, admin, operator): security alone cannot tell
    # a user's route from an admin's. Test drivers (.ci/schemathesis_hooks.py) pick their token by it.
    found["x-access"] = declared.access.value
    return found


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item.rpartition("/")[2]
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _used(definitions: dict[str, Any], roots: Any) -> dict[str, Any]:
    """Only the components something refers to: a query model, spread into parameters, is not one."""
    used: set[str] = set()
    pending = list(_references(roots))
    while pending:
        name = pending.pop()
        if name in used or name not in definitions:
            continue
        used.add(name)
        pending += _references(definitions[name])
    return {name: definitions[name] for name in sorted(used)}


def _version() -> str:
    try:
        return metadata.version("homer-rt")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def build_document(router: web.UrlDispatcher) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared route (``undeclared_routes`` lists the others)."""
    declared_routes = [
        (route, declared)
        for route in documented_routes(router)
        if (declared := declared_operation(route.handler)) is not None
    ]
    schemas = _Schemas()
    keys = [_want(schemas, declared) for _, declared in declared_routes]
    schemas.generate()
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for (route, declared), wanted in zip(declared_routes, keys, strict=True):
        paths.setdefault(route.path, {})[route.method.lower()] = _operation_object(
            route, declared, schemas, wanted
        )
        tags.update(dict.fromkeys(declared.tags))
    definitions = {**schemas.definitions, ERROR_COMPONENT: ERROR_SCHEMA}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Homer RT API", "version": _version(), "description": _DESCRIPTION},
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": _used(definitions, paths),
            "securitySchemes": {
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `token` that login and register answer",
                },
                OPERATOR_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The operator's METRICS_TOKEN (not a user's token)",
                },
            },
        },
    }


class OpenApiDocument:
    """The app's document, generated on first use and kept: the router does not change once it serves."""

    def __init__(self) -> None:
        self._body: bytes | None = None

    def body(self, router: web.UrlDispatcher) -> bytes:
        if self._body is None:
            self._body = jsoncodec.dumps(build_document(router)).encode()
        return self._body


OPENAPI = web.AppKey("openapi", OpenApiDocument)


def setup_openapi(app: web.Application) -> None:
    app[OPENAPI] = OpenApiDocument()


@routes.get(OPENAPI_PATH)
@operation(
    summary="This API's OpenAPI 3.1 document",
    tags="docs",
    access=Access.PUBLIC,
    response=dict[str, Any],
)
async def document(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI].body(request.app.router), content_type=JSON)
