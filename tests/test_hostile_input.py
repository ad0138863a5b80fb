"""Bad input never hurts: every route and every socket event answers hostile input with a clean 4xx.

The REST sweep walks every route registered in the app (a new route is swept without touching this file),
fills its path placeholders with real ids and with hostile strings, and sends it garbage bodies, garbage
query strings and wrong multipart forms as an anonymous caller, a normal user and an admin. Every answer
must be below 500, and every 4xx must be JSON with a non-empty ``detail``. The socket sweep emits every
event each namespace defines with hostile payloads and checks the ack envelope and that the connection
still works afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import inspect
import json
import pkgutil
import re
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from pydantic import BaseModel

import handlers
import handlers.sockets
import homer_rt.services
from homer_rt.app import create_app
from homer_rt.appkeys import CHATS, NOTIFICATIONS, SETTINGS
from homer_rt.realtime import FRAME_CAP_FACTOR
from homer_rt.settings import Settings
from tests.chat_support import WAIT, base_url, live
from tests.factories import listing_body, make_admin, make_property, make_settings, register


def _routes() -> list[tuple[str, str]]:
    """(method, canonical path) of every route the app serves, HEAD folded into GET."""
    app = create_app(make_settings(Path("/nonexistent-hostile-sweep")))
    found = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.method not in ("HEAD", "OPTIONS")
        and not route.resource.canonical.startswith("/socket.io")
    }
    return sorted(found, key=lambda item: (item[1], item[0]))


ROUTES = _routes()


def _model_fields() -> tuple[list[str], list[str]]:
    """Every field name any REST validation model declares (body and query alike), and the names of the
    fields that are nested objects in create bodies, so garbage reaches real validators, not only extras."""
    names: set[str] = set()
    # Some request models live with their service (listing create/update/search), so both are read.
    modules = [f"handlers.{info.name}" for info in pkgutil.iter_modules(handlers.__path__)]
    modules += [f"homer_rt.services.{info.name}" for info in pkgutil.iter_modules(homer_rt.services.__path__)]
    for module_name in modules:
        module = importlib.import_module(module_name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                names.update(obj.model_fields)
    return sorted(names), sorted(names | {"page", "limit", "q", "since", "start_date", "end_date"})


BODY_FIELDS, QUERY_FIELDS = _model_fields()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # With a webhook secret the webhook route validates what it is sent instead of answering 503; with a
    # metrics token /metrics checks the caller's instead of answering 404.
    return make_settings(
        tmp_path,
        razorpay_webhook_secret="hostile-sweep-webhook-secret",
        metrics_token="hostile-sweep-metrics-token",
    )


LONG = "x" * 5000
HOSTILE_SEGMENTS = [
    str(uuid.uuid4()),
    "..%2f..",
    LONG,
    "%00",
    "$where",
    "%7B%22%24gt%22%3A%20%22%22%7D",
    "%FF%FE",
    "%E2%80%AE%F0%9F%98%80",
]

# One value per type confusion: each body sends it in every field any model knows.
HOSTILE_VALUES: list[Any] = [
    "123",
    {"$gt": ""},
    [1, "a", None],
    None,
    1e308,
    -1,
    10**40,
    "NaN",
    "-Infinity",
    "y" * 3000,
    "nul\u0000 \u202e\U0001f600 ü",
    "lone \ud800 surrogate",  # valid JSON ("\ud800"), but no UTF-8 encoding exists for it
    "0001-01-01T00:00:00+05:30",  # a datetime with no UTC equivalent (year 0)
    "9999-12-31T23:59:59-05:00",  # and one past year 9999 in UTC
    True,
    {},
    [],
]

RAW_BODIES: list[tuple[str, str]] = [
    ("application/json", '{"title": '),
    ("application/json", "[1, 2, 3]"),
    ("application/json", '"just a string"'),
    ("application/json", "null"),
    ("application/json", "1e999"),
    ("application/json", "{" + ", ".join(f'"{name}": NaN' for name in BODY_FIELDS) + "}"),
    ("application/json", "{" + ", ".join(f'"{name}": -Infinity' for name in BODY_FIELDS) + "}"),
    ("application/json", "{" + ", ".join(f'"{name}": 1e999' for name in BODY_FIELDS) + "}"),
    (
        "application/json",
        "{" + ", ".join(f'"{name}": {{"$gt": 1, "a\\u0000b": 2}}' for name in BODY_FIELDS) + "}",
    ),
    ("application/json", "\xff\xfe not utf-8"),
    ("application/json", "[" * 30_000 + "]" * 30_000),
    ("application/json", '{"metadata": ' * 20_000 + "1" + "}" * 20_000),
    ("text/plain", "hello"),
    ("application/x-www-form-urlencoded", "a=1&b=2"),
]

QUERIES: list[str] = [
    "page=-1&limit=1000000000",
    "page=abc&limit=abc",
    "limit=1&limit=2&page=1&page=x",
    "&".join(f"{name}=not-a-date" for name in QUERY_FIELDS),
    "&".join(f"{name}=%24where" for name in QUERY_FIELDS),
    "&".join(f"{name}=-1" for name in QUERY_FIELDS),
    "&".join(f"{name}=1{'0' * 40}" for name in QUERY_FIELDS),
    "&".join(f"{name}=inf" for name in QUERY_FIELDS),
    "&".join(f"{name}=0001-01-01T00:00:00%2B05:30" for name in QUERY_FIELDS),
    "&".join(f"{name}=9999-12-31T23:59:59-05:00" for name in QUERY_FIELDS),
    "q=" + LONG,
    "search=" + LONG,
    "%00=%00&page=%00",
    "page=%ZZ&limit=%FF&q=%E2%80",
    "page[$gt]=1&limit[]=2&type=property&property_id[$ne]=x",
]

BAD_AUTHORIZATIONS = [
    "Bearer not-a-jwt",
    "Bearer " + "a" * 5000,
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOnsiJGd0IjoiIn19.",  # alg none, sub {"$gt": ""}
    "Bearer a.b.c",
    "Basic dXNlcjpwYXNz",
    "Bearer",
]

UPLOAD_ROUTES = {path for _, path in ROUTES if "upload" in path or "photo" in path or "attachments" in path}


def _multipart_bodies() -> list[Any]:
    wrong_name = FormData()
    wrong_name.add_field("not_the_field", b"\x89PNG\r\n\x1a\n" + b"0" * 64, filename="a.png")
    text_only = FormData()
    for name in ("file", "files", "photo", "document", "document_type", "image"):
        text_only.add_field(name, "plain text, not a file")
    junk_type = FormData()
    for name in ("file", "files", "photo", "document"):
        junk_type.add_field(name, b"MZ\x90\x00 not an image", filename="../../evil.exe")
    return [wrong_name, text_only, junk_type]


async def _world(client: TestClient[Any, Any]) -> dict[str, Any]:
    """An owner with a listing, a renter with a chat about it (which notifies the owner), a report on the
    chat, an admin, and a bystander whose id the admin routes may act on."""
    owner = await register(client, user_type="owner", full_name="Olivia Owner")
    renter = await register(client, user_type="renter", full_name="Ravi Renter")
    bystander = await register(client, user_type="renter", full_name="Bea Bystander")
    admin = await make_admin(client)
    prop = await make_property(owner_id=owner["user"]["user_id"], rent_paise=3_500_000)
    response = await client.post(
        "/api/chats/initiate",
        json={"property_id": prop.id, "initial_message": "Is it available?"},
        headers=renter["headers"],
    )
    assert response.status == 200, await response.text()
    chat_id = (await response.json())["chat_id"]
    response = await client.post(
        f"/api/chats/{chat_id}/report", json={"reason": "rude replies"}, headers=renter["headers"]
    )
    assert response.status == 200, await response.text()
    report_id = (await response.json())["report_id"]
    note = await client.app[NOTIFICATIONS].notify(
        user_id=renter["user"]["user_id"], type="system", title="Hello", message="Welcome"
    )
    return {
        "identities": {"anonymous": {}, "user": renter["headers"], "admin": admin["headers"]},
        "owner": owner["headers"],
        "ids": {
            "user_id": bystander["user"]["user_id"],
            "property_id": prop.id,
            "chat_id": chat_id,
            "report_id": report_id,
            "notification_id": note.id,
            "owner": owner["user"]["user_id"],
            "renter": renter["user"]["user_id"],
            "area": "properties",
            "name": "missing.jpg",
        },
    }


def _fill(path: str, ids: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    """The path with real ids (a random one where none exists), one placeholder replaced by ``hostile``."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if hostile is not None and hostile[0] == name:
            return hostile[1]
        return ids.get(name, str(uuid.uuid4()))

    return re.sub(r"\{(\w+)\}", value, path)


async def _check(response: Any, what: str) -> None:
    assert response.status < 500, f"{what} -> {response.status}: {await response.text()}"
    if 400 <= response.status < 500 and response.method != "HEAD":
        assert response.content_type == "application/json", f"{what} -> {response.status} non-JSON"
        body = await response.json()
        assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], (
            f"{what} -> {response.status} without detail: {body}"
        )


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_route_survives_hostile_input(client: TestClient[Any, Any], method: str, path: str) -> None:
    world = await _world(client)
    ids: dict[str, str] = world["ids"]
    identities: dict[str, dict[str, str]] = world["identities"]
    placeholders = re.findall(r"\{(\w+)\}", path)
    real_url = _fill(path, ids)

    async def send(url: str, who: str, *, content_type: str | None = None, **kwargs: Any) -> Any:
        headers = dict(identities[who])
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = await client.request(method, url, headers=headers, **kwargs)
        await _check(response, f"{method} {url[:120]} as {who} {str(kwargs)[:120]}")
        return response

    # Who is refused at the door is not worth sweeping further: anonymous on a private route, a normal
    # user on an admin route. Their refusals were checked for shape above.
    callers = []
    for who in identities:
        response = await send(real_url, who)
        if not (who == "anonymous" and response.status == 401) and not (
            who == "user" and response.status == 403 and "/admin" in path
        ):
            callers.append(who)

    for authorization in BAD_AUTHORIZATIONS:
        response = await client.request(method, real_url, headers={"Authorization": authorization})
        await _check(response, f"{method} {real_url} with Authorization {authorization[:40]}")

    for who in callers:
        # The least privileged caller the route lets in gets every combination; a more privileged one a
        # sample (its requests take the same validation path), which keeps the sweep to a few seconds.
        full = who == callers[0]
        for name in placeholders:
            for segment in HOSTILE_SEGMENTS:
                await send(_fill(path, ids, (name, segment)), who)
        for query in QUERIES if full else QUERIES[:3]:
            await send(f"{real_url}?{query}", who)
        if method == "GET":
            continue
        for content_type, raw in RAW_BODIES if full else RAW_BODIES[:3]:
            await send(real_url, who, data=raw.encode("utf-8", "surrogateescape"), content_type=content_type)
        for hostile in HOSTILE_VALUES if full else HOSTILE_VALUES[:4]:
            await send(real_url, who, json={name: hostile for name in BODY_FIELDS})
            if not isinstance(hostile, dict):  # a whole body that is not an object, with a garbage query
                await send(f"{real_url}?{QUERIES[3]}", who, json=hostile)
        if path in UPLOAD_ROUTES:
            for form in _multipart_bodies():
                await send(real_url, who, data=form)
            await send(real_url, who, data=b"--nope\r\n\r\n", content_type="multipart/form-data; boundary=b")
            await send(real_url, who, data=b"x", content_type="multipart/form-data")

    # Nothing the garbage did may leave a stored object unreadable.
    for url, who in (
        ("/api/users/me", "user"),
        (f"/api/users/{ids['user_id']}", "user"),
        (f"/api/admin/users/{ids['user_id']}", "admin"),
        (f"/api/properties/{ids['property_id']}", "anonymous"),
        ("/api/chats", "user"),
        ("/api/notifications", "user"),
        ("/api/shortlists", "user"),
        ("/api/admin/reports", "admin"),
        ("/api/admin/properties", "admin"),
        ("/api/admin/users", "admin"),
    ):
        response = await client.get(url, headers=identities[who])
        logged_out = path == "/api/auth/logout" and who != "anonymous"
        assert response.status < 500 and (response.status != 401 or logged_out), (
            f"after {method} {path}: GET {url} -> {response.status} {await response.text()}"
        )


def test_sweep_covers_every_route() -> None:
    """The sweep is built from the router itself; this guards the filter that builds it."""
    paths = {path for _, path in ROUTES}
    assert "/api/admin/users/{user_id}" in paths and "/uploads/{area}/{owner}/{name}" in paths
    assert len(ROUTES) >= 60


# --- Socket.IO -------------------------------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = {"chat_id": "x"}
    for _ in range(depth):
        value = {"chat_id": value}
    return value


HOSTILE_PAYLOADS: list[Any] = [
    None,
    "a string",
    ["a", "list"],
    123,
    True,
    {},
    {"chat_id": None},
    {"chat_id": {"$gt": ""}},
    {"chat_id": ["x"]},
    {"chat_id": 12},
    {"chat_id": LONG},
    {"chat_id": str(uuid.uuid4())},
    {"chat_id": "..%2f.."},
    {"notification_id": {"$gt": ""}},
    {"notification_id": str(uuid.uuid4())},
    {"notification_id": LONG},
    {"message": {"$gt": ""}, "chat_id": "$where"},
    {"chats": "x"},
    {"chats": {"a": "b"}},
    {"chats": {LONG: 10**40}},
    {"since": "not-a-date"},
    {"since": 1e308},
    {"limit": -1, "chat_id": "x"},
    {"up_to": "NaN", "chat_id": "x"},
    {"is_typing": "yes", "chat_id": "x"},
    {"attachments": "x" * 20_000, "chat_id": "x"},
    {"message": "m" * 30_000, "chat_id": "x", "client_msg_id": "c" * 1000},
    {"$where": "1", "chat_id": {"$ne": None}},
    {"chats": {"$gt": 1}},
    {"chats": {"a": 10**40}, "up_to": 10**40, "limit": 10**40},
    {"since": "9999-99-99"},
    {"since": "0001-01-01T00:00:00+05:30"},
    {"since": "9999-12-31T23:59:59-05:00"},
    {
        "chat_id": "x",
        "chats": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
    },
    _nested(200),
]


def _events(module_name: str) -> list[str]:
    module = importlib.import_module(f"handlers.sockets.{module_name}")
    events: set[str] = set()
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ == module.__name__:
            events.update(
                name[3:]
                for name in vars(cls)
                if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
            )
    return sorted(events)


def _assert_envelope(ack: Any, what: str) -> None:
    assert isinstance(ack, dict), f"{what}: ack {ack!r}"
    if ack.get("ok") is True:
        assert "data" in ack, f"{what}: {ack}"
        return
    assert ack.get("ok") is False, f"{what}: {ack}"
    error = ack.get("error")
    assert isinstance(error, dict), f"{what}: {ack}"
    assert isinstance(error.get("code"), str) and error["code"], f"{what}: {ack}"
    assert isinstance(error.get("message"), str) and error["message"], f"{what}: {ack}"
    assert error["code"] != "internal_error", f"{what}: {ack}"


async def _call(sio: socketio.AsyncClient, event: str, payload: Any, namespace: str, what: str) -> Any:
    try:
        return await sio.call(event, payload, namespace=namespace, timeout=WAIT)
    except socketio.exceptions.TimeoutError:
        raise AssertionError(f"{what}: no ack within {WAIT}s") from None


@pytest.mark.parametrize(
    ("namespace", "module_name", "as_admin", "valid"),
    [
        ("/chat", "chat", False, ("sync", {"chats": {}})),
        ("/notifications", "notifications", False, ("mark_all_read", None)),
        ("/admin", "admin", True, ("get_counts", None)),
    ],
)
async def test_socket_events_survive_hostile_payloads(
    client: TestClient[Any, Any], namespace: str, module_name: str, as_admin: bool, valid: tuple[str, Any]
) -> None:
    world = await _world(client)
    headers = world["identities"]["admin" if as_admin else "user"]
    token = headers["Authorization"].split(" ", 1)[1]
    events = _events(module_name)
    assert events, module_name
    async with live(base_url(client), token, namespace=namespace) as user:
        for event in events:
            for payload in HOSTILE_PAYLOADS:
                what = f"{namespace} {event} {json.dumps(payload)[:80]}"
                _assert_envelope(await _call(user.sio, event, payload, namespace, what), what)
            # Several arguments where one is expected, and none at all.
            what = f"{namespace} {event} with three arguments"
            _assert_envelope(await _call(user.sio, event, ("one", "two", "three"), namespace, what), what)
        event, payload = valid
        ack = await user.call(event, payload)
        assert ack["ok"] is True, ack


# --- One field at a time ---------------------------------------------------------------------------------

# (method, path, caller, a body the route accepts). Each field (and each field of a nested object) is
# swapped in turn for every hostile value while the rest stays valid, so the garbage reaches the code
# behind validation, not only the first validator.
VALID_BODIES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("POST", "/api/properties/create", "owner", listing_body()),
    ("PUT", "/api/properties/{property_id}", "owner", {**listing_body(), "status": "inactive"}),
    (
        "POST",
        "/api/auth/register",
        "anonymous",
        {
            "email": "new@example.com",
            "phone": "+919999988888",
            "password": "long-enough-pw",
            "user_type": "renter",
            "full_name": "New Person",
        },
    ),
    ("POST", "/api/auth/login", "anonymous", {"email": "nobody@example.com", "password": "whatever-pw"}),
    (
        "POST",
        "/api/auth/change-password",
        "user",
        {"old_password": "wrong-password", "new_password": "x" * 12},
    ),
    (
        "PUT",
        "/api/users/me",
        "user",
        {
            "full_name": "Ravi",
            "gender": "male",
            "date_of_birth": "1990-01-02",
            "renter_preferences": {"a": 1},
            "profile_visibility": True,
            "profile_photo_url": None,  # a real value must be the caller's own upload
        },
    ),
    (
        "POST",
        "/api/chats/initiate",
        "user",
        {"property_id": "{property_id}", "initial_message": "Hello again"},
    ),
    (
        "POST",
        "/api/chats/{chat_id}/messages",
        "user",
        {"message": "Hi", "attachments": [], "client_msg_id": "c-1"},
    ),
    ("POST", "/api/chats/{chat_id}/report", "user", {"reason": "spam messages"}),
    ("POST", "/api/shortlists", "user", {"property_id": "{property_id}", "notes": "near work"}),
    ("PUT", "/api/shortlists/{property_id}", "user", {"notes": "still near work"}),
    (
        "POST",
        "/api/payments/create-order",
        "user",
        {"type": "renter_subscription", "metadata": {"plan": "m"}},
    ),
    (
        "POST",
        "/api/payments/verify",
        "user",
        {"payment_id": "pay_1", "order_id": "order_1", "signature": "s"},
    ),
    (
        "POST",
        "/api/verification/renter/submit",
        "user",
        {
            "documents": {"aadhaar": {"file_url": "/uploads/verification/u/a.pdf"}},
            "employment_details": {
                "company_name": "Acme",
                "designation": "Dev",
                "employment_type": "salaried",
                "annual_income": 1200000,
                "years_of_experience": 3,
            },
        },
    ),
    (
        "PUT",
        "/api/admin/users/{user_id}",
        "admin",
        {"full_name": "Bea", "user_type": "renter", "is_active": True, "profile_visibility": True},
    ),
    (
        "PUT",
        "/api/admin/properties/{property_id}",
        "admin",
        {"title": "Renamed flat", "rent": 26000, "status": "active"},
    ),
    ("POST", "/api/admin/reports/{report_id}/resolve", "admin", {"action": "dismiss", "note": "ok"}),
    (
        "POST",
        "/api/admin/verifications/reject",
        "admin",
        {"verification_type": "renter", "entity_id": "{user_id}", "reason": "blurry"},
    ),
]


def _mutations(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    variants: list[tuple[str, dict[str, Any]]] = []
    for key, original in body.items():
        for hostile in HOSTILE_VALUES:
            variants.append((key, {**body, key: hostile}))
        if isinstance(original, dict):
            for inner in original:
                for hostile in HOSTILE_VALUES:
                    variants.append((f"{key}.{inner}", {**body, key: {**original, inner: hostile}}))
    return variants


@pytest.mark.parametrize(
    ("method", "path", "who", "body"), VALID_BODIES, ids=[f"{m} {p}" for m, p, _, _ in VALID_BODIES]
)
async def test_each_field_swapped_for_garbage(
    client: TestClient[Any, Any], method: str, path: str, who: str, body: dict[str, Any]
) -> None:
    world = await _world(client)
    ids: dict[str, str] = world["ids"]
    identities = {**world["identities"], "owner": world["owner"]}
    headers = identities[who]
    url = _fill(path, ids)
    template = json.loads(
        json.dumps(body).replace("{property_id}", ids["property_id"]).replace("{user_id}", ids["user_id"])
    )
    for field, variant in _mutations(template):
        response = await client.request(method, url, json=variant, headers=headers)
        await _check(response, f"{method} {url} as {who} with {field}={str(variant)[:100]}")
    for read_url, reader in (
        ("/api/users/me", "user"),
        (f"/api/admin/users/{ids['user_id']}", "admin"),
        (f"/api/properties/{ids['property_id']}", "owner"),
        (f"/api/chats/{ids['chat_id']}", "user"),
        ("/api/shortlists", "user"),
        ("/api/payments/history", "user"),
        ("/api/verification/my-status", "user"),
    ):
        response = await client.get(read_url, headers=identities[reader])
        assert response.status < 500, f"after {method} {path}: GET {read_url} -> {await response.text()}"


# --- Door checks and the guards the sweep relies on --------------------------------------------------------

ADMIN_ROUTES = [(m, p) for m, p in ROUTES if "/admin" in p]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p in ADMIN_ROUTES])
async def test_every_admin_route_is_401_anonymous_and_403_for_users(
    client: TestClient[Any, Any], method: str, path: str
) -> None:
    """Derived from the router, so admin routes outside /api/admin (verification review) and new ones are
    held to what tests/test_admin_access.py checks in depth for /api/admin."""
    user = await register(client)
    url = _fill(path, {})
    anonymous = await client.request(method, url, json={})
    assert anonymous.status == 401 and (await anonymous.json())["detail"]
    signed_in = await client.request(method, url, json={}, headers=user["headers"])
    assert signed_in.status == 403
    assert (await signed_in.json())["error"]["code"] == "admin_required"


async def test_values_the_store_cannot_hold_are_422_naming_the_field(client: TestClient[Any, Any]) -> None:
    # mongomock stores these happily; MongoDB fails on them, so validation must refuse them first.
    world = await _world(client)
    user = world["identities"]["user"]
    too_big = await client.get(f"/api/chats/{world['ids']['chat_id']}?before_seq=1{'0' * 30}", headers=user)
    assert too_big.status == 422
    assert (await too_big.json())["error"]["fields"][0]["field"] == "before_seq"
    operator = await client.put("/api/users/me", json={"renter_preferences": {"$where": "1"}}, headers=user)
    assert operator.status == 422
    assert (await operator.json())["error"]["fields"][0]["field"] == "renter_preferences.$where"
    not_a_number = await client.post(
        "/api/payments/create-order",
        data=b'{"type": "renter_subscription", "metadata": {"amount": NaN}}',
        headers={**user, "Content-Type": "application/json"},
    )
    assert not_a_number.status == 400
    assert (await not_a_number.json())["error"]["code"] == "malformed_json"


async def test_null_profile_visibility_is_refused_and_the_account_stays_usable(
    client: TestClient[Any, Any],
) -> None:
    world = await _world(client)
    user = world["identities"]["user"]
    response = await client.put("/api/users/me", json={"profile_visibility": None}, headers=user)
    assert response.status == 422
    me = await client.get("/api/users/me", headers=user)
    assert me.status == 200 and (await me.json())["profile_visibility"] is True


async def test_admin_cannot_set_an_unstorable_rent(client: TestClient[Any, Any]) -> None:
    world = await _world(client)
    url = f"/api/admin/properties/{world['ids']['property_id']}"
    response = await client.put(url, json={"rent": 1e308}, headers=world["identities"]["admin"])
    assert response.status == 422
    listing = await client.get(url.replace("/admin", ""))
    assert listing.status == 200 and (await listing.json())["rent"] == 35000


def _user_token(world: dict[str, Any]) -> str:
    return str(world["identities"]["user"]["Authorization"].split(" ", 1)[1])


async def test_extra_socket_arguments_are_a_validation_error(client: TestClient[Any, Any]) -> None:
    world = await _world(client)
    async with live(base_url(client), _user_token(world)) as user:
        ack = await user.call("join_chat", ({"chat_id": world["ids"]["chat_id"]}, "extra"))
        assert ack == {
            "ok": False,
            "error": {"code": "validation_failed", "message": ack["error"]["message"]},
        }
        joined = await user.call("join_chat", {"chat_id": world["ids"]["chat_id"]})
        assert joined["ok"] is True


async def test_a_socket_frame_past_the_transport_cap_drops_only_that_connection(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    """A payload over SOCKETIO_MAX_PAYLOAD_BYTES is an error ack (test_chat_socket); a frame FRAME_CAP_FACTOR
    times larger is cut by the transport and closes that websocket (nothing is buffered or acked): the
    client learns it is disconnected instead of waiting, and the server keeps serving everyone else."""
    world = await _world(client)
    token, url = _user_token(world), base_url(client)
    async with live(url, token) as bystander, live(url, token) as hostile:
        dropped = asyncio.Event()
        hostile.sio.on("disconnect", lambda *args: dropped.set(), namespace="/chat")
        huge = {
            "chat_id": world["ids"]["chat_id"],
            "message": "m" * (settings.socketio_max_payload_bytes * FRAME_CAP_FACTOR + 1),
        }
        await hostile.sio.emit("send_message", huge, namespace="/chat")
        await asyncio.wait_for(dropped.wait(), WAIT)
        assert not hostile.sio.connected
        ack = await bystander.call("join_chat", {"chat_id": world["ids"]["chat_id"]})
        assert ack["ok"] is True
        page = await client.get(f"/api/chats/{world['ids']['chat_id']}", headers=world["identities"]["user"])
        assert all(len(m["message"]) < 1000 for m in (await page.json())["messages"])


async def test_unknown_events_are_answered_not_left_to_time_out(client: TestClient[Any, Any]) -> None:
    world = await _world(client)
    async with live(base_url(client), _user_token(world)) as user:
        for event in ("no_such_event", "connected", "user_id", "authorize", "x" * 500):
            ack = await user.call(event, {"chat_id": world["ids"]["chat_id"]})
            assert ack["ok"] is False and ack["error"]["code"] == "unknown_event", (event, ack)


async def test_raw_packets_a_client_library_would_never_send(client: TestClient[Any, Any]) -> None:
    """Reserved event names, non-string names and JSON nested past the recursion limit, written straight
    onto the websocket: each gets an error ack, and the connection (and its presence) carries on."""
    world = await _world(client)
    token = _user_token(world)
    url = base_url(client).replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    async with client.session.ws_connect(url) as ws:

        async def receive_text() -> str:
            while True:
                message = await asyncio.wait_for(ws.receive(), WAIT)
                assert message.type == aiohttp.WSMsgType.TEXT, message
                if message.data == "2":  # engine.io ping
                    await ws.send_str("3")
                    continue
                return str(message.data)

        async def ack_for(packet_id: int, payload: str) -> Any:
            await ws.send_str(f"42/chat,{packet_id}{payload}")
            while True:
                text = await receive_text()
                prefix = f"43/chat,{packet_id}"
                if text.startswith(prefix):
                    return json.loads(text[len(prefix) :])[0]

        assert (await receive_text()).startswith("0")
        await ws.send_str("40/chat," + json.dumps({"token": token}))
        while not (await receive_text()).startswith("40/chat,"):
            pass
        presence = await client.app[CHATS].presence_of(world["ids"]["renter"])
        assert presence["online"] is True
        for packet_id, payload, code in (
            (1, '["disconnect"]', "unknown_event"),
            (2, '["connect", {}, {"token": "x"}]', "unknown_event"),
            (3, "[42, {}]", "unknown_event"),
            (4, '["sync", ' + "[" * 30_000 + "]" * 30_000 + "]", "malformed_payload"),
            (5, "[null]", "unknown_event"),
        ):
            ack = await ack_for(packet_id, payload)
            assert ack["ok"] is False and ack["error"]["code"] == code, (payload[:40], ack)
        assert (await client.app[CHATS].presence_of(world["ids"]["renter"]))["online"] is True

        async def error_code_of_ack(packet_id: int) -> str:
            prefix = f"43/chat,{packet_id}"
            while not (text := await receive_text()).startswith(prefix):
                pass
            return str(json.loads(text[len(prefix) :])[0]["error"]["code"])

        # A binary event announcing a million attachments: refused at its head, its frames never held.
        await ws.send_str('451000000-/chat,7["send_message",{"_placeholder":true,"num":0}]')
        await ws.send_bytes(b"\x00" * 1000)
        assert await asyncio.wait_for(error_code_of_ack(7), WAIT) == "binary_not_accepted"
        # A namespace with a query in an oversized packet's head is answered on the namespace itself.
        await ws.send_str("42/chat?x=1,8" + json.dumps(["sync", {"pad": "x" * (65 * 1024)}]))
        assert await asyncio.wait_for(error_code_of_ack(8), WAIT) == "payload_too_large"
        ack = await ack_for(6, '["sync", {"chats": {}}]')
        assert ack["ok"] is True


async def test_signed_webhooks_with_garbage_inside_are_4xx_or_ignored(client: TestClient[Any, Any]) -> None:
    """A correctly signed body can still hold anything; the signature only proves who sent it."""
    secret = client.app[SETTINGS].razorpay_webhook_secret
    assert secret
    bodies = [raw for _, raw in RAW_BODIES] + [
        json.dumps({"event": event, "payload": payload})
        for event in ("payment.captured", "payment.failed", "refund.processed", {"$gt": ""}, None)
        for payload in (
            None,
            "x",
            {"payment": None},
            {"payment": {"entity": {"order_id": {"$gt": ""}, "id": 1, "amount": "NaN"}}},
            {"payment": {"entity": {"order_id": "order_x", "id": "pay_x", "amount": 10**40}}},
            {"refund": {"entity": {"payment_id": ["x"], "amount": -1}}},
        )
    ]
    for raw in bodies:
        data = raw.encode("utf-8", "surrogateescape")
        signature = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        response = await client.post(
            "/api/payments/webhook",
            data=data,
            headers={"X-Razorpay-Signature": signature, "Content-Type": "application/json"},
        )
        await _check(response, f"signed webhook {raw[:80]}")
