"""GET /api/asyncapi.json: a valid AsyncAPI 3.0 document, generated from the event catalogue, that shows every
namespace, every event both ways with its payload schema, each client event's ack as its reply, and how to
connect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from aiohttp.test_utils import TestClient

from handlers.asyncapi import ASYNCAPI, ASYNCAPI_PATH
from homer_rt.socket_events import NAMESPACES

SCHEMA = Path(__file__).parent / "data" / "asyncapi-3.0.0.schema.json"


async def fetch(client: TestClient[Any, Any]) -> dict[str, Any]:
    response = await client.get(ASYNCAPI_PATH)
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


def resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    found: Any = document
    for part in reference[2:].split("/"):
        found = found[part.replace("~1", "/").replace("~0", "~")]
    return found


def references(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [item for key, item in value.items() if key == "$ref" and isinstance(item, str)] + [
            found for key, item in value.items() if key != "$ref" for found in references(item)
        ]
    if isinstance(value, list):
        return [found for item in value for found in references(item)]
    return []


async def test_the_document_is_valid_asyncapi_3(client: TestClient[Any, Any]) -> None:
    document = await fetch(client)
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [
        f"{list(error.absolute_path)}: {error.message[:200]}" for error in validator.iter_errors(document)
    ]
    assert errors == []
    assert document["asyncapi"] == "3.0.0"
    # What the JSON Schema cannot check: every reference points at something in the document.
    for reference in references(document):
        assert resolve(document, reference) is not None, reference


async def test_the_validator_would_catch_a_broken_document(client: TestClient[Any, Any]) -> None:
    document = await fetch(client)
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    document["operations"]["chat.client.send_message"]["action"] = "publish"  # AsyncAPI 2's word
    assert list(validator.iter_errors(document))


async def test_every_event_of_the_catalogue_is_an_operation_with_its_payload(
    client: TestClient[Any, Any],
) -> None:
    document = await fetch(client)
    schemas = document["components"]["schemas"]
    assert set(document["channels"]) == {namespace.name for namespace in NAMESPACES}
    operations = dict(document["operations"])
    for namespace in NAMESPACES:
        channel = document["channels"][namespace.name]
        assert channel["address"] == namespace.path
        assert set(channel["x-socketio-connect"]["refusalCodes"]) == set(namespace.connect_refusals)
        for client_event in namespace.client_events:
            operation = operations.pop(f"{namespace.name}.client.{client_event.name}")
            assert operation["action"] == "receive"
            assert resolve(document, operation["channel"]["$ref"]) is channel or operation["channel"] == {
                "$ref": f"#/channels/{namespace.name}"
            }
            [message_ref] = operation["messages"]
            assert message_ref["$ref"].startswith(f"#/channels/{namespace.name}/messages/")
            message = resolve(document, resolve(document, message_ref["$ref"])["$ref"])
            assert message["name"] == client_event.name
            if client_event.payload is None:
                assert "payload" not in message
            else:
                assert message["payload"] == {"$ref": f"#/components/schemas/{client_event.payload.__name__}"}
            [reply_ref] = operation["reply"]["messages"]
            assert reply_ref["$ref"].startswith(f"#/channels/{namespace.name}/messages/")
            ack = resolve(document, resolve(document, reply_ref["$ref"])["$ref"])
            ok, error = ack["payload"]["anyOf"]
            assert error == {"$ref": "#/components/schemas/AckError"}
            ok_schema = resolve(document, ok["$ref"])
            assert ok_schema["properties"]["ok"]["const"] is True
            data = ok_schema["properties"]["data"]
            assert data == {"$ref": f"#/components/schemas/{client_event.ack.__name__}"}
        for server_event in namespace.server_events:
            operation = operations.pop(f"{namespace.name}.server.{server_event.name}")
            assert operation["action"] == "send"
            assert "reply" not in operation
            [message_ref] = operation["messages"]
            message = resolve(document, resolve(document, message_ref["$ref"])["$ref"])
            assert message["name"] == server_event.name
            assert message["payload"] == {"$ref": f"#/components/schemas/{server_event.payload.__name__}"}
    assert operations == {}, "no operation the catalogue does not list"

    # The schemas are the models': limits and required fields included.
    send = schemas["SendMessageEvent"]
    assert set(send["required"]) == {"chat_id"}
    assert send["properties"]["attachments"]["maxItems"] == 10
    message_view = schemas["MessageView"]
    assert set(message_view["required"]) == {
        "message_id",
        "seq",
        "chat_id",
        "sender_id",
        "sender_type",
        "message",
        "timestamp",
        "is_read",
        "attachments",
        "client_msg_id",
    }
    assert set(schemas["TypingAck"]["required"]) == {"chat_id", "forwarded"}, (
        "retry_after is sometimes absent"
    )
    assert schemas["SessionEndedEvent"]["properties"]["reason"]["enum"] == [
        "session_revoked",
        "session_expired",
        "account_inactive",
        "admin_required",
    ]


async def test_connecting_is_described_with_its_token_and_refusals(client: TestClient[Any, Any]) -> None:
    document = await fetch(client)
    [server] = document["servers"].values()
    assert server["protocol"] == "socket.io" and server["pathname"] == "/socket.io/"
    schemes = [resolve(document, scheme["$ref"]) for scheme in server["security"]]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes[0].items()
    assert {"type": "httpApiKey", "name": "token", "in": "query"}.items() <= schemes[1].items()
    connect = document["channels"]["admin"]["x-socketio-connect"]
    auth = resolve(document, connect["auth"]["$ref"])
    assert auth["required"] == ["token"]
    refusal = resolve(document, connect["refusal"]["$ref"])
    assert set(refusal["required"]) == {"message", "data"}
    assert "admin_required" in connect["refusalCodes"]
    assert "admin_required" not in document["channels"]["chat"]["x-socketio-connect"]["refusalCodes"]


async def test_the_route_is_in_the_openapi_document_and_built_once(client: TestClient[Any, Any]) -> None:
    openapi = await (await client.get("/api/openapi.json")).json()
    assert openapi["paths"][ASYNCAPI_PATH]["get"]["security"] == []
    first = await (await client.get(ASYNCAPI_PATH)).read()
    assert first == await (await client.get(ASYNCAPI_PATH)).read()
    assert client.app[ASYNCAPI].body() is client.app[ASYNCAPI].body()
