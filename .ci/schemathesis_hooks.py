"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by .ci/schemathesis.py): each generated request is
sent as the caller its operation serves, so authenticated operations are reached, not only refused.

The operation's ``x-access`` (handlers/openapi.py) picks the caller: ``admin`` the seeded admin, ``user``
an owner or a renter in turn, ``optional`` anonymous, an owner or a renter, ``operator`` the METRICS_TOKEN,
``public`` nobody. Every request gets a token of its own from a fresh login, so an operation that ends a
session (logout) never breaks the requests after it.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import requests
import schemathesis

BASE_URL = os.environ["HOMER_SCHEMATHESIS_URL"]
ACCOUNTS = {
    role: (os.environ[f"HOMER_SCHEMATHESIS_{role.upper()}_EMAIL"], os.environ["HOMER_SCHEMATHESIS_PASSWORD"])
    for role in ("admin", "owner", "renter")
}
OPERATOR_TOKEN = os.environ["HOMER_SCHEMATHESIS_METRICS_TOKEN"]

_turns = {
    "user": itertools.cycle(["owner", "renter"]),
    "optional": itertools.cycle([None, "owner", "renter"]),
}


def _login(role: str) -> str:
    email, password = ACCOUNTS[role]
    body = {"email": email, "password": password}
    response = requests.post(f"{BASE_URL}/api/auth/login", json=body, timeout=30)
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


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
