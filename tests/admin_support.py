"""Helpers the admin tests share: payments and verifications made the way the app makes them, the audit
log, a check that no secret leaks, and a live Socket.IO client."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from documents.audit_log import AdminAuditLog
from tests.listing_support import PDF


async def pay_subscription(client: TestClient[Any, Any], user: dict[str, Any]) -> str:
    """A mock premium purchase through the payments API; returns its transaction id."""
    order = await client.post(
        "/api/payments/create-order", headers=user["headers"], json={"type": "renter_subscription"}
    )
    assert order.status == 200, await order.text()
    body = await order.json()
    verified = await client.post(
        "/api/payments/verify",
        headers=user["headers"],
        json={"order_id": body["order_id"], "payment_id": f"mock_pay_{body['transaction_id'][:8]}"},
    )
    assert verified.status == 200, await verified.text()
    return str(body["transaction_id"])


async def audit_entries(**query: Any) -> list[AdminAuditLog]:
    return await AdminAuditLog.find(query).sort("-timestamp").to_list()


SECRET_KEYS = frozenset({"password_hash", "password", "token_version", "token", "jwt_secret"})


def assert_no_secrets(value: Any) -> None:
    """No password hash, token version or token anywhere in a response or audit value: no such key at any
    depth and no bcrypt hash text. (A refused field's *name* may be recorded; its value may not.)"""
    if isinstance(value, dict):
        leaked = SECRET_KEYS & set(value)
        assert not leaked, f"secret keys present: {leaked}"
        for item in value.values():
            assert_no_secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            assert_no_secrets(item)
    elif isinstance(value, str):
        assert "$2b$" not in value, "a bcrypt hash leaked"


class LiveClient:
    """A real Socket.IO client over a websocket, recording every event it receives."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, asyncio.Queue[Any]] = {}
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._record, namespace=namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=namespace)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.setdefault(event, asyncio.Queue()).put_nowait(data)

    async def _on_disconnect(self, reason: Any = None) -> None:
        self.disconnected.set()

    async def connect(self, client: TestClient[Any, Any], token: str) -> LiveClient:
        await self.sio.connect(
            str(client.make_url("/")),
            namespaces=[self.namespace],
            transports=["websocket"],
            auth={"token": token},
            wait_timeout=5,
        )
        return self

    async def next(self, event: str, wait: float = 5.0) -> Any:
        queue = self.events.setdefault(event, asyncio.Queue())
        return await asyncio.wait_for(queue.get(), wait)

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        await self.sio.shutdown()


async def upload_document(client: TestClient[Any, Any], user: dict[str, Any], name: str = "id_proof") -> str:
    form = FormData()
    form.add_field("document_type", name)
    form.add_field("document", PDF, filename=f"{name}.pdf", content_type="application/pdf")
    response = await client.post("/api/verification/upload-document", headers=user["headers"], data=form)
    assert response.status == 200, await response.text()
    return str((await response.json())["data"]["file_url"])


async def submit_renter_verification(client: TestClient[Any, Any], user: dict[str, Any]) -> None:
    url = await upload_document(client, user)
    response = await client.post(
        "/api/verification/renter/submit",
        headers=user["headers"],
        json={
            "documents": {"id_proof": {"file_url": url}},
            "employment_details": {
                "company_name": "Acme",
                "employment_type": "salaried",
                "annual_income": 1_200_000,
            },
        },
    )
    assert response.status == 200, await response.text()


async def submit_property_verification(
    client: TestClient[Any, Any], owner: dict[str, Any], property_id: str
) -> str:
    """Pays the verification fee (mock) and submits documents; returns the fee's transaction id."""
    order = await client.post(
        "/api/payments/create-order",
        headers=owner["headers"],
        json={"type": "property_verification", "metadata": {"property_id": property_id}},
    )
    assert order.status == 200, await order.text()
    body = await order.json()
    verified = await client.post(
        "/api/payments/verify",
        headers=owner["headers"],
        json={"order_id": body["order_id"], "payment_id": f"mock_pay_{body['transaction_id'][:8]}"},
    )
    assert verified.status == 200, await verified.text()
    url = await upload_document(client, owner, "ownership_proof")
    submitted = await client.post(
        "/api/verification/property/submit",
        headers=owner["headers"],
        json={"property_id": property_id, "documents": {"ownership_proof": {"file_url": url}}},
    )
    assert submitted.status == 200, await submitted.text()
    return str(body["transaction_id"])
