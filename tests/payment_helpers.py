"""Helpers shared by the payment, premium and verification tests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient


def sign(secret: str, message: str | bytes) -> str:
    """HMAC-SHA256 hex, as Razorpay signs checkouts ("order_id|payment_id") and webhook bodies."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def webhook_body(event: str, **entities: dict[str, Any]) -> bytes:
    payload = {name: {"entity": entity} for name, entity in entities.items()}
    return json.dumps({"entity": "event", "event": event, "payload": payload}).encode()


async def pay_mock(client: TestClient[Any, Any], headers: dict[str, str], **order: Any) -> dict[str, Any]:
    """Create a mock order and verify it; returns the verify response."""
    created = await client.post("/api/payments/create-order", json=order, headers=headers)
    assert created.status == 200, await created.text()
    order_id = (await created.json())["order_id"]
    verified = await client.post(
        "/api/payments/verify",
        json={"order_id": order_id, "payment_id": f"mock_pay_{order_id[-8:]}", "signature": "mock"},
        headers=headers,
    )
    assert verified.status == 200, await verified.text()
    result: dict[str, Any] = await verified.json()
    result["order_id"] = order_id
    return result


def orders_meet(monkeypatch: pytest.MonkeyPatch, gateway_class: type[Any], parties: int) -> None:
    """Make ``parties`` concurrent create-orders all reach the gateway before any of them goes on to store
    its order: the race a check-then-insert loses, made certain instead of left to scheduling."""
    barrier = asyncio.Barrier(parties)
    create_order = gateway_class.create_order

    async def meet_then_create(self: Any, **kwargs: Any) -> str:
        await barrier.wait()
        order_id: str = await create_order(self, **kwargs)
        return order_id

    monkeypatch.setattr(gateway_class, "create_order", meet_then_create)
