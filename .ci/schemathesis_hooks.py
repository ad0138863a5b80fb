"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by .ci/schemathesis.py): each generated request is
sent as the caller its operation serves, so authenticated operations are reached, not only refused.

The operation's ``x-access`` (handlers/openapi.py) picks the caller: ``admin`` the seeded admin, ``user``
an owner or a renter in turn, ``optional`` anonymous, an owner or a renter, ``operator`` the METRICS_TOKEN,
``public`` nobody. Every request gets a token of its own from a fresh login, so an operation that ends a
session (logout) never breaks the requests after it.

The admin operations are tested too, and they may delete or deactivate any account they find, the owner's
and the renter's signing in here included (the admin's own is safe: the server refuses to delete, demote or
deactivate an admin's own account). When the owner's or the renter's login is refused, a new account of
that kind is registered and used from then on, so one admin request never turns the rest of the run into
401s.
"""

from __future__ import annotations

import itertools
import os
import secrets
import threading
from typing import Any

import requests
import schemathesis

BASE_URL = os.environ["HOMER_SCHEMATHESIS_URL"]
PASSWORD = os.environ["HOMER_SCHEMATHESIS_PASSWORD"]
OPERATOR_TOKEN = os.environ["HOMER_SCHEMATHESIS_METRICS_TOKEN"]

_accounts = {
    role: os.environ[f"HOMER_SCHEMATHESIS_{role.upper()}_EMAIL"] for role in ("admin", "owner", "renter")
}
_accounts_lock = threading.Lock()
_turns = {
    "user": itertools.cycle(["owner", "renter"]),
    "optional": itertools.cycle([None, "owner", "renter"]),
}
# Login refused: 401 the account was deleted (its email is gone), 403 it was deactivated.
_GONE = (401, 403)


def _post(path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{BASE_URL}{path}", json=body, timeout=30)


def _token(response: requests.Response) -> str:
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def _replace(role: str) -> str:
    """Registers a new owner or renter in place of one an admin operation deleted or deactivated."""
    email = f"schemathesis-{role}-{secrets.token_hex(4)}@example.com"
    phone = f"+9197{secrets.randbelow(10**8):08d}"
    response = _post(
        "/api/auth/register", {"email": email, "phone": phone, "password": PASSWORD, "user_type": role}
    )
    _accounts[role] = email
    return _token(response)


def _login(role: str) -> str:
    with _accounts_lock:
        response = _post("/api/auth/login", {"email": _accounts[role], "password": PASSWORD})
        if response.status_code in _GONE and role != "admin":
            return _replace(role)
        return _token(response)


@schemathesis.auth(refresh_interval=None)
class HomerAuth:
    def get(self, case: Any, context: Any) -> str | None:
        access = case.operation.definition.raw.get("x-access", "public")
        if access == "operator":
            return OPERATOR_TOKEN
        if access == "admin":
            return _login("admin")
        if access in _turns:
            role = next(_turns[access])
            return None if role is None else _login(role)
        return None

    def set(self, case: Any, data: str | None, context: Any) -> None:
        if data is not None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
