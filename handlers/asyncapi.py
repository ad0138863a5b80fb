"""The AsyncAPI 3.0 document of the Socket.IO namespaces, generated from the event catalogue.

Nothing here is written per event: channels, operations and messages come from homer_rt/socket_events.py,
and every payload schema from the pydantic models and typed views it names, in one pydantic pass whose
``$defs`` become ``components/schemas``.

The document describes the server: a client event is an operation the server ``receive``s, answered by its
ack (the operation's ``reply``), and a server event one it ``send``s. Each namespace is a channel whose
address is the namespace; a message's ``name`` is the Socket.IO event name and its payload the event's one
argument. ``GET /api/asyncapi.json`` serves it, built once per app on its first request.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from handlers.contract import Access, operation
from homer_rt import jsoncodec
from homer_rt.realtime import SOCKETIO_PATH
from homer_rt.socket_events import (
    ACK_ERRORS,
    NAMESPACES,
    ClientEvent,
    ConnectAuth,
    ConnectRefusal,
    Namespace,
    ServerEvent,
)

routes = web.RouteTableDef()

ASYNCAPI_PATH = "/api/asyncapi.json"
SCHEMA_REF = "#/components/schemas/{model}"
SERVER = "homer"
BEARER_SCHEME = "bearerToken"
QUERY_SCHEME = "queryToken"
JSON = "application/json"

_DESCRIPTION = """\
The live side of Homer RT: Socket.IO (protocol 5, Engine.IO 4) at `{path}` on the same host as the REST API,
one channel per namespace. Generated from the server's event catalogue.

**Connecting.** Open the namespace with `auth: {{"token": "<JWT>"}}`, the `token` that login and register
answer (an `Authorization: Bearer` header or a `?token=` query parameter on the handshake work too). A refused
connect's `connect_error` carries `{{message, data: {{code, message}}}}`; each channel's `x-socketio-connect`
lists its codes.

**Client events** carry one JSON object and are answered through their ack: `{{"ok": true, "data": ...}}` or
`{{"ok": false, "error": {{"code", "message", ...}}}}`, the same codes and messages REST answers with. Any
event may be answered with:

{errors}

**Server events** carry one JSON object. Messages, receipts and counts reach every connection of the user.
"""


def _version() -> str:
    try:
        return metadata.version("homer-rt")
    except metadata.PackageNotFoundError:
        return "0.0.0"


_Key = tuple[int, JsonSchemaMode]


class _Schemas:
    """Every type the catalogue names, generated in one pydantic pass so each definition has one name."""

    def __init__(self) -> None:
        self._inputs: dict[_Key, tuple[_Key, JsonSchemaMode, TypeAdapter[Any]]] = {}
        self._types: list[Any] = []  # keeps each id valid while generating
        self._generated: dict[_Key, dict[str, Any]] = {}
        self.definitions: dict[str, Any] = {}

    def want(self, annotation: Any, mode: JsonSchemaMode) -> _Key:
        key = (id(annotation), mode)
        if key not in self._inputs:
            self._types.append(annotation)
            self._inputs[key] = (key, mode, TypeAdapter(annotation))
        return key

    def generate(self) -> None:
        generated, top = TypeAdapter.json_schemas(self._inputs.values(), ref_template=SCHEMA_REF)
        self._generated = {key: value for (key, _mode), value in generated.items()}
        self.definitions = dict(sorted(top.get("$defs", {}).items()))

    def __getitem__(self, key: _Key) -> dict[str, Any]:
        return self._generated[key]


def _client_id(namespace: Namespace, event: ClientEvent) -> str:
    return f"{namespace.name}.client.{event.name}"


def _server_id(namespace: Namespace, event: ServerEvent) -> str:
    return f"{namespace.name}.server.{event.name}"


def _message(name: str | None, title: str, summary: str, description: str, payload: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if name is not None:
        found["name"] = name
    found.update(title=title, summary=summary, contentType=JSON)
    if description:
        found["description"] = description
    if payload is not None:
        found["payload"] = payload
    return found


def _ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)}


def build_document() -> dict[str, Any]:
    schemas = _Schemas()
    auth_key = schemas.want(ConnectAuth, "validation")
    refusal_key = schemas.want(ConnectRefusal, "serialization")
    wanted: dict[str, tuple[_Key | None, _Key]] = {}  # message id -> (payload, ack) keys of client events
    for namespace in NAMESPACES:
        for client in namespace.client_events:
            payload = schemas.want(client.payload, "validation") if client.payload is not None else None
            wanted[_client_id(namespace, client)] = (payload, schemas.want(client.ack_type, "serialization"))
        for server in namespace.server_events:
            schemas.want(server.payload, "serialization")
    schemas.generate()

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for namespace in NAMESPACES:
        channel_messages: dict[str, Any] = {}
        for client in namespace.client_events:
            message_id = _client_id(namespace, client)
            payload_key, ack_key = wanted[message_id]
            local, local_ack = f"client.{client.name}", f"client.{client.name}.ack"
            messages[message_id] = _message(
                client.name,
                client.name,
                client.summary,
                client.description,
                schemas[payload_key] if payload_key is not None else None,
            )
            messages[f"{message_id}.ack"] = _message(
                None, f"{client.name} ack", f"The answer to {client.name}", "", schemas[ack_key]
            )
            channel_messages[local] = _ref("components", "messages", message_id)
            channel_messages[local_ack] = _ref("components", "messages", f"{message_id}.ack")
            operations[message_id] = {
                "action": "receive",
                "title": client.name,
                "summary": client.summary,
                "channel": _ref("channels", namespace.name),
                "messages": [_ref("channels", namespace.name, "messages", local)],
                "reply": {
                    "channel": _ref("channels", namespace.name),
                    "messages": [_ref("channels", namespace.name, "messages", local_ack)],
                },
            }
        for server in namespace.server_events:
            message_id = _server_id(namespace, server)
            local = f"server.{server.name}"
            messages[message_id] = _message(
                server.name,
                server.name,
                server.summary,
                server.description,
                schemas[schemas.want(server.payload, "serialization")],
            )
            channel_messages[local] = _ref("components", "messages", message_id)
            operations[message_id] = {
                "action": "send",
                "title": server.name,
                "summary": server.summary,
                "channel": _ref("channels", namespace.name),
                "messages": [_ref("channels", namespace.name, "messages", local)],
            }
        channels[namespace.name] = {
            "address": namespace.path,
            "title": namespace.summary,
            "description": namespace.description,
            "servers": [_ref("servers", SERVER)],
            "messages": channel_messages,
            "x-socketio-connect": {
                "auth": schemas[auth_key],
                "refusal": schemas[refusal_key],
                "refusalCodes": namespace.connect_refusals,
            },
        }

    errors = "\n".join(f"- `{code}`: {meaning}" for code, meaning in ACK_ERRORS.items())
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Homer RT live events",
            "version": _version(),
            "description": _DESCRIPTION.format(path=SOCKETIO_PATH, errors=errors),
        },
        "defaultContentType": JSON,
        "servers": {
            SERVER: {
                "host": "{host}",
                "protocol": "socket.io",
                "protocolVersion": "5",
                "pathname": SOCKETIO_PATH,
                "title": "Homer RT",
                "description": "The server of this document and of the REST API (WebSocket or long-polling).",
                "variables": {"host": {"default": "localhost:8001", "description": "Its host and port"}},
                "security": [
                    _ref("components", "securitySchemes", BEARER_SCHEME),
                    _ref("components", "securitySchemes", QUERY_SCHEME),
                ],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas.definitions,
            "messages": messages,
            "securitySchemes": {
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        "The `token` that login and register answer, sent in the connect packet as "
                        '`auth: {"token": "<JWT>"}` (or as an `Authorization: Bearer` header of the '
                        "handshake)."
                    ),
                },
                QUERY_SCHEME: {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": (
                        "The same token as a query parameter of the handshake, for clients that can set "
                        "neither the connect packet's auth nor headers."
                    ),
                },
            },
        },
    }


class AsyncApiDocument:
    """The document, generated on first use and kept: the catalogue does not change while the app runs."""

    def __init__(self) -> None:
        self._body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            self._body = jsoncodec.dumps(build_document()).encode()
        return self._body


ASYNCAPI = web.AppKey("asyncapi", AsyncApiDocument)


def setup_asyncapi(app: web.Application) -> None:
    app[ASYNCAPI] = AsyncApiDocument()


@routes.get(ASYNCAPI_PATH)
@operation(
    summary="The AsyncAPI 3.0 document of the Socket.IO events",
    tags="docs",
    access=Access.PUBLIC,
    response=dict[str, Any],
)
async def document(request: web.Request) -> web.Response:
    return web.Response(body=request.app[ASYNCAPI].body(), content_type=JSON)
