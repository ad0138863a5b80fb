"""A request the API describes reaches it, however its query is spelled: aiohttp's HTTP parser answers a
request line past its limit itself (a plain-text 400 the frontend cannot read), so ``homer-rt serve`` reads
lines up to REQUEST_LINE_MAX_BYTES, more than any query whose values keep to their documented lengths."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from handlers.errors import REQUEST_LINE_MAX_BYTES
from handlers.openapi import build_document
from homer_rt.app import create_app
from tests.factories import make_settings
from tests.server_support import free_port, server_process

ADMIN = {"email": "line-admin@example.com", "phone": "+919811122233", "password": "Line-Admin-Password-1"}
# Percent-encoded, a character of UTF-8 takes at most 4 bytes of 3 characters each ("%F0%9F%8F%A0").
MAX_BYTES_PER_CHARACTER = 12


def _longest(schema: dict[str, Any], components: dict[str, Any]) -> int | None:
    """The most characters a query value of this schema has, or None when the schema sets no bound."""
    if "$ref" in schema:
        return _longest(components[schema["$ref"].rpartition("/")[2]], components)
    if "anyOf" in schema:
        bounds = [_longest(option, components) for option in schema["anyOf"]]
        return None if None in bounds else max(b for b in bounds if b is not None)
    if "enum" in schema:
        return max(len(str(value)) for value in schema["enum"])
    if schema.get("type") == "string":
        if schema.get("format") in ("date", "date-time"):
            return 40
        bound: int | None = schema.get("maxLength")
        return bound
    if schema.get("type") in ("integer", "number", "boolean", "null"):
        return 32  # a number's digits, or true/false
    return None


def test_every_documented_query_fits_in_a_request_line(tmp_path: Path) -> None:
    """With every bounded query value at its longest, each character of it at its longest encoding."""
    document = build_document(create_app(make_settings(tmp_path)).router)
    components = document["components"]["schemas"]
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            line = len(method) + len(path) + len(" HTTP/1.1")
            for parameter in operation.get("parameters", []):
                longest = _longest(parameter["schema"], components)
                if longest is not None:
                    line += len(parameter["name"]) + 2 + (longest + 1) * MAX_BYTES_PER_CHARACTER
            assert line < REQUEST_LINE_MAX_BYTES, f"{method.upper()} {path}: up to {line} bytes"
            checked += 1
    assert checked > 50


async def test_a_long_query_is_answered_by_the_api_in_json(tmp_path: Path) -> None:
    """An admin rejects a verification with its reason in the query string, as the spec's POSTs allow: at its
    1,000 characters of non-ASCII text (9,000 bytes percent-encoded, past aiohttp's default 8,190), the
    request reaches the route; one character more is the API's 422 naming the field, not a plain-text 400."""
    env = {"ADMIN_EMAIL": ADMIN["email"], "ADMIN_PHONE": ADMIN["phone"], "ADMIN_PASSWORD": ADMIN["password"]}
    with server_process(free_port(), tmp_path, env=env) as server:
        async with aiohttp.ClientSession() as session:
            await server.wait_ready(session)
            login = {"email": ADMIN["email"], "password": ADMIN["password"]}
            async with session.post(f"{server.url}/api/auth/login", json=login) as response:
                assert response.status == 200
                headers = {"Authorization": f"Bearer {(await response.json())['token']}"}

            async def reject(reason: str) -> tuple[int, str, Any]:
                url = f"{server.url}/api/verification/admin/reject/renter_nobody?reason={quote(reason)}"
                async with session.post(url, headers=headers) as response:
                    return response.status, response.content_type, await response.json()

            status, content_type, answer = await reject("€" * 1000)
            assert len(quote("€" * 1000)) > 8190
            assert (status, content_type) == (404, "application/json")  # no such request, as documented
            status, content_type, answer = await reject("€" * 1001)
            assert (status, content_type) == (422, "application/json")
            assert [field["field"] for field in answer["error"]["fields"]] == ["reason"]
