"""The OpenAPI document a frontend developer reads at /api/docs: valid OpenAPI 3.1, generated from every route
(none forgotten), with the parameters, bodies, responses and security the server really has; and Swagger UI
served from the package, so the docs work offline."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_schema_validator import OAS31Validator
from openapi_schema_validator import validate as validate_instance
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator import validate as validate_spec
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from handlers.contract import Access, operation
from handlers.docs import DOCS_CSP
from handlers.openapi import OPENAPI, build_document, documented_routes, undeclared_routes
from homer_rt.realtime import SOCKETIO_PATH

PASSWORD = "correct-horse-battery"


async def _document(client: TestClient[Any, Any]) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


def _conforms(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Validates ``instance`` against a schema of the document, its ``#/components`` refs resolved."""
    validate_instance(instance, {**schema, "components": document["components"]}, cls=OAS31Validator)


def _json_schema(operation: dict[str, Any], status: str) -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    return schema


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


async def test_the_served_document_is_valid_openapi_3_1(client: TestClient[Any, Any]) -> None:
    document = await _document(client)
    assert document["openapi"].startswith("3.1")
    validate_spec(document, cls=OpenAPIV31SpecValidator)
    # "Try it out" calls the server that served the page.
    assert document["servers"] == [{"url": "/"}]


async def test_every_route_is_declared_and_documented(client: TestClient[Any, Any]) -> None:
    """A new route without an @operation fails here: nothing reaches the router undocumented."""
    router = client.app.router
    undeclared = undeclared_routes(router)
    assert undeclared == [], "routes without an @operation:\n" + "\n".join(undeclared)
    document = await _document(client)
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routes = {
        (route.method, route.resource.canonical)
        for route in router.routes()
        if route.resource is not None and route.method != "HEAD" and route.resource.canonical != SOCKETIO_PATH
    }
    assert routes - documented == set()
    assert documented == routes
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_the_document_is_generated_once_per_app(client: TestClient[Any, Any]) -> None:
    first = await client.get("/api/openapi.json")
    second = await client.get("/api/openapi.json")
    assert await first.read() == await second.read()
    cache = client.app[OPENAPI]
    assert cache.body(client.app.router) is cache.body(client.app.router)


async def test_docs_page_and_its_assets_are_served_from_the_package(client: TestClient[Any, Any]) -> None:
    page = await client.get("/api/docs")
    assert page.status == 200
    assert page.content_type == "text/html"
    assert page.headers["Content-Security-Policy"] == DOCS_CSP
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    html = await page.text()
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP allows none
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/api/docs/") for url in assets)  # no CDN: works offline
    expected_types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in assets:
        asset = await client.get(url)
        assert asset.status == 200, url
        assert asset.content_type == expected_types[url[url.rindex(".") :]], url
        assert len(await asset.read()) > 0
    bundle = await (await client.get("/api/docs/swagger-ui-bundle.js")).text()
    assert "SwaggerUIBundle" in bundle
    script = await (await client.get("/api/docs/homer-docs.js")).text()
    assert '"/api/openapi.json"' in script


async def test_public_json_operation(client: TestClient[Any, Any]) -> None:
    document = await _document(client)
    login = _operation(document, "post", "/api/auth/login")
    assert login["security"] == []
    assert login["tags"] == ["auth"]
    body = login["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/LoginBody"}
    assert set(document["components"]["schemas"]["LoginBody"]["properties"]) == {"email", "phone", "password"}
    assert login["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SessionResponse"
    }
    error = {"$ref": "#/components/schemas/Error"}
    for status in ("400", "401", "403", "413", "422", "429", "503"):
        assert login["responses"][status]["content"]["application/json"]["schema"] == error, status
    assert "Retry-After" in login["responses"]["429"]["headers"]

    # What the server answers matches what the document says.
    response = await client.post(
        "/api/auth/register",
        json={"email": "doc@example.com", "phone": "+919876500001", "password": PASSWORD},
    )
    assert response.status == 200
    _conforms(document, _json_schema(login, "200"), await response.json())
    refused = await client.post("/api/auth/login", json={"email": "doc@example.com"})
    assert refused.status == 422
    refusal = await refused.json()
    _conforms(document, error, refusal)
    assert refusal["error"]["fields"]


async def test_authenticated_operation_with_query_parameters(client: TestClient[Any, Any]) -> None:
    document = await _document(client)
    listing = _operation(document, "get", "/api/notifications")
    assert listing["security"] == [{"bearerAuth": []}]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert set(parameters) == {"page", "limit", "unread_only"}
    assert all(p["in"] == "query" and p["required"] is False for p in parameters.values())
    assert parameters["limit"]["schema"]["maximum"] == 100
    assert parameters["unread_only"]["schema"]["type"] == "boolean"
    assert {"401", "403", "422"} <= set(listing["responses"])
    # A query model is spread into parameters, never left behind as a component.
    assert "ListQuery" not in document["components"]["schemas"]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

    registered = await client.post(
        "/api/auth/register", json={"email": "n@example.com", "phone": "+919876500002", "password": PASSWORD}
    )
    token = (await registered.json())["token"]
    page = await client.get("/api/notifications", headers={"Authorization": f"Bearer {token}"})
    assert page.status == 200
    _conforms(document, _json_schema(listing, "200"), await page.json())
    anonymous = await client.get("/api/notifications")
    assert anonymous.status == 401
    _conforms(document, {"$ref": "#/components/schemas/Error"}, await anonymous.json())


async def test_path_parameters_multipart_and_non_json_bodies(client: TestClient[Any, Any]) -> None:
    document = await _document(client)
    profile = _operation(document, "get", "/api/users/{user_id}")
    assert profile["security"] == []
    [parameter] = profile["parameters"]
    assert parameter["name"] == "user_id" and parameter["in"] == "path" and parameter["required"] is True
    assert "404" in profile["responses"]

    photo = _operation(document, "post", "/api/users/me/photo")
    form = photo["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["photo"]
    assert form["properties"]["photo"]["items"]["format"] == "binary"
    assert {"400", "413", "415", "429"} <= set(photo["responses"])

    metrics = _operation(document, "get", "/metrics")
    assert list(metrics["responses"]["200"]["content"]) == ["text/plain"]
    assert metrics["security"] == [{"operatorToken": []}]

    health = _operation(document, "get", "/api/health/ready")
    same = {"$ref": "#/components/schemas/ReadinessView"}
    assert health["responses"]["503"]["content"]["application/json"]["schema"] == same

    docs = _operation(document, "get", "/api/docs")
    assert list(docs["responses"]["200"]["content"]) == ["text/html"]


class _ItemQuery(BaseModel):
    page: int = Field(default=1, ge=1)


class _ItemBody(BaseModel):
    message: str = Field(max_length=10)
    attachments: list[str] = Field(default_factory=list)


class _ItemView(TypedDict):
    item_id: str
    count: int


@operation(summary="An item", tags="items", access=Access.OPTIONAL, query=_ItemQuery, response=_ItemView)
async def _get_item(request: web.Request) -> web.Response:
    raise NotImplementedError


@operation(
    summary="Send to an item",
    tags="items",
    access=Access.ADMIN,
    body=_ItemBody,
    body_in_query=True,
    response=list[_ItemView],
    status=201,
    errors=(404, 409),
)
async def _post_item(request: web.Request) -> web.Response:
    raise NotImplementedError


async def _undeclared(request: web.Request) -> web.Response:
    raise NotImplementedError


def test_regex_path_parameters_and_declaration_forms() -> None:
    app = web.Application()
    app.router.add_get(r"/items/{item_id:\d+}/{slug}", _get_item)
    app.router.add_post(r"/items/{item_id:[0-9a-f]{8}}", _post_item)
    app.router.add_get("/forgotten", _undeclared)

    assert undeclared_routes(app.router) == ["GET /forgotten"]
    assert [(r.method, r.path) for r in documented_routes(app.router)] == [
        ("GET", "/items/{item_id}/{slug}"),
        ("POST", "/items/{item_id}"),
        ("GET", "/forgotten"),
    ]  # HEAD beside GET is left out
    document = build_document(app.router)
    validate_spec(document, cls=OpenAPIV31SpecValidator)
    assert "/forgotten" not in document["paths"]

    get = document["paths"]["/items/{item_id}/{slug}"]["get"]
    patterns = {p["name"]: p["schema"]["pattern"] for p in get["parameters"] if p["in"] == "path"}
    assert re.fullmatch(patterns["item_id"], "42") and not re.fullmatch(patterns["item_id"], "4x")
    assert re.fullmatch(patterns["slug"], "any-slug") and not re.fullmatch(patterns["slug"], "a/b")
    assert get["security"] == [{"bearerAuth": []}, {}]  # a token is optional
    assert [p["name"] for p in get["parameters"] if p["in"] == "query"] == ["page"]

    post = document["paths"]["/items/{item_id}"]["post"]
    [path_parameter] = [p for p in post["parameters"] if p["in"] == "path"]
    assert re.fullmatch(path_parameter["schema"]["pattern"], "0123abcd")
    assert not re.fullmatch(path_parameter["schema"]["pattern"], "0123abc")
    # The spec's plain-parameter POSTs: each body field may come as a query parameter instead.
    query = {p["name"]: p for p in post["parameters"] if p["in"] == "query"}
    assert set(query) == {"message", "attachments"} and not any(p["required"] for p in query.values())
    assert post["requestBody"]["required"] is False
    assert post["security"] == [{"bearerAuth": []}]
    assert set(post["responses"]) == {"201", "400", "401", "403", "404", "409", "413", "422"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/_ItemView"},
    }
