"""The Razorpay webhook: signed over the raw body, idempotent, and enough on its own to apply a payment."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.notification import Notification
from documents.transaction import Transaction
from documents.user import User
from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from tests.factories import ClientFactory, make_property, make_settings, register
from tests.fakes.razorpay_server import WEBHOOK_SECRET
from tests.payment_helpers import sign, webhook_body


@pytest.fixture
async def hook_client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    # Mock gateway (no key id) plus a webhook secret: the webhook path is the same in both modes.
    settings = make_settings(tmp_path, razorpay_webhook_secret=WEBHOOK_SECRET)
    return await aiohttp_client(create_app(settings, clock=AdjustableClock()))


async def _post(client: TestClient[Any, Any], body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Razorpay-Signature"] = signature
    return await client.post("/api/payments/webhook", data=body, headers=headers)


async def _pending_order(client: TestClient[Any, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=headers
    )
    order: dict[str, Any] = await response.json()
    return order


def _captured(order_id: str, payment_id: str = "pay_hook1", amount: int = 75000) -> bytes:
    return webhook_body(
        "payment.captured",
        payment={
            "id": payment_id,
            "order_id": order_id,
            "amount": amount,
            "currency": "INR",
            "status": "captured",
        },
    )


async def test_captured_webhook_alone_makes_the_user_premium(hook_client: TestClient[Any, Any]) -> None:
    renter = await register(hook_client)
    order = await _pending_order(hook_client, renter["headers"])
    body = _captured(order["order_id"])
    response = await _post(hook_client, body, sign(WEBHOOK_SECRET, body))
    assert response.status == 200
    assert (await response.json())["payment_status"] == "success"
    me = await (await hook_client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "premium"

    # Razorpay retries deliveries; the client verifies too. Nothing applies twice.
    again = await _post(hook_client, body, sign(WEBHOOK_SECRET, body))
    assert again.status == 200
    verify = await hook_client.post(
        "/api/payments/verify",
        json={"order_id": order["order_id"], "payment_id": "pay_hook1"},
        headers=renter["headers"],
    )
    assert verify.status == 200
    notes = await Notification.find({"user_id": renter["user"]["user_id"], "type": "payment_success"}).count()
    assert notes == 1


async def test_webhook_racing_verify_applies_once(hook_client: TestClient[Any, Any]) -> None:
    renter = await register(hook_client)
    order = await _pending_order(hook_client, renter["headers"])
    body = _captured(order["order_id"])
    results = await asyncio.gather(
        *(_post(hook_client, body, sign(WEBHOOK_SECRET, body)) for _ in range(5)),
        *(
            hook_client.post(
                "/api/payments/verify",
                json={"order_id": order["order_id"], "payment_id": "pay_hook1"},
                headers=renter["headers"],
            )
            for _ in range(5)
        ),
    )
    assert all(r.status == 200 for r in results)
    notes = await Notification.find({"user_id": renter["user"]["user_id"], "type": "payment_success"}).count()
    assert notes == 1


async def test_bad_signatures_are_refused(hook_client: TestClient[Any, Any]) -> None:
    renter = await register(hook_client)
    order = await _pending_order(hook_client, renter["headers"])
    body = _captured(order["order_id"])
    for signature in [None, "", "0" * 64, "é" * 64, sign("another-secret", body)]:
        response = await _post(hook_client, body, signature)
        assert response.status == 400
        assert "detail" in await response.json()
    # A body changed after signing (even re-serialized the same JSON) does not pass.
    tampered = body.replace(b'"amount": 75000', b'"amount":75000')
    assert (await _post(hook_client, tampered, sign(WEBHOOK_SECRET, body))).status == 400
    me = await (await hook_client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "free"


async def test_wrong_amount_is_not_applied(hook_client: TestClient[Any, Any]) -> None:
    renter = await register(hook_client)
    order = await _pending_order(hook_client, renter["headers"])
    body = _captured(order["order_id"], amount=100)
    response = await _post(hook_client, body, sign(WEBHOOK_SECRET, body))
    assert response.status == 200
    assert (await response.json())["status"] == "ignored"
    transaction = await Transaction.find_one({"order_id": order["order_id"]})
    assert transaction is not None and transaction.payment_status.value == "pending"


async def test_capture_without_the_orders_amount_and_currency_is_not_applied(
    hook_client: TestClient[Any, Any],
) -> None:
    """Signed or not, a capture applies only for exactly what the order asked. What is not applied is
    acknowledged (200, ignored) like an unknown order: Razorpay would retry a 4xx with the same body."""
    renter = await register(hook_client)
    order = await _pending_order(hook_client, renter["headers"])
    entity = {"id": "pay_hook1", "order_id": order["order_id"], "status": "captured"}
    unpaid: list[dict[str, Any]] = [
        {},
        {"amount": 75000},
        {"currency": "INR"},
        {"amount": 75000, "currency": "USD"},
        {"amount": 75000, "currency": None},
        {"amount": "75000", "currency": "INR"},
        {"amount": 75000.0, "currency": "INR"},
        {"amount": True, "currency": "INR"},
        {"amount": 750, "currency": "INR"},  # rupees, not paise
    ]
    for fields in unpaid:
        body = webhook_body("payment.captured", payment={**entity, **fields})
        response = await _post(hook_client, body, sign(WEBHOOK_SECRET, body))
        assert response.status == 200, fields
        assert (await response.json())["status"] == "ignored", fields
    transaction = await Transaction.find_one({"order_id": order["order_id"]})
    assert transaction is not None and transaction.payment_status.value == "pending"
    me = await (await hook_client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "free"

    # The same capture with the order's amount (paise) and currency is applied.
    body = _captured(order["order_id"])
    assert (await (await _post(hook_client, body, sign(WEBHOOK_SECRET, body))).json())["status"] == "ok"


async def test_failed_then_refunded(hook_client: TestClient[Any, Any]) -> None:
    renter = await register(hook_client)
    order = await _pending_order(hook_client, renter["headers"])
    failed = webhook_body(
        "payment.failed",
        payment={
            "id": "pay_f1",
            "order_id": order["order_id"],
            "status": "failed",
            "error_description": "Card declined",
        },
    )
    response = await _post(hook_client, failed, sign(WEBHOOK_SECRET, failed))
    assert (await response.json())["payment_status"] == "failed"
    history = await (await hook_client.get("/api/payments/history", headers=renter["headers"])).json()
    assert history[0]["payment_status"] == "failed"

    # A later attempt on the same order can still succeed, as on Razorpay.
    captured = _captured(order["order_id"], payment_id="pay_ok2")
    assert (await (await _post(hook_client, captured, sign(WEBHOOK_SECRET, captured))).json())[
        "payment_status"
    ] == "success"

    refunded = webhook_body(
        "refund.processed", refund={"id": "rfnd_1", "payment_id": "pay_ok2", "amount": 75000}
    )
    for _ in range(2):
        response = await _post(hook_client, refunded, sign(WEBHOOK_SECRET, refunded))
        assert response.status == 200
    transaction = await Transaction.find_one({"order_id": order["order_id"]})
    assert transaction is not None
    assert transaction.payment_status.value == "refunded" and transaction.refund_id == "rfnd_1"
    user = await User.get(renter["user"]["user_id"])
    assert user is not None and user.subscription_tier.value == "free"
    refunds = await Notification.find({"user_id": user.id, "type": "payment_refunded"}).count()
    assert refunds == 1


async def test_unknown_events_and_orders_are_acknowledged(hook_client: TestClient[Any, Any]) -> None:
    other = webhook_body("order.paid", order={"id": "order_x"})
    response = await _post(hook_client, other, sign(WEBHOOK_SECRET, other))
    assert response.status == 200 and (await response.json())["status"] == "ignored"
    unknown = _captured("order_not_ours")
    response = await _post(hook_client, unknown, sign(WEBHOOK_SECRET, unknown))
    assert response.status == 200 and (await response.json())["status"] == "ignored"


async def test_webhook_without_a_configured_secret_is_refused(client: TestClient[Any, Any]) -> None:
    body = _captured("order_x")
    response = await _post(client, body, sign(WEBHOOK_SECRET, body))
    assert response.status == 503


async def test_a_fee_order_whose_attempt_failed_is_handed_out_again(
    hook_client: TestClient[Any, Any],
) -> None:
    """A failed attempt does not close a Razorpay order (a later attempt may still pay it), so the listing's
    order stays the one to pay: a second order beside it could be paid as well."""
    owner = await register(hook_client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    body = {"type": "property_verification", "metadata": {"property_id": property_id}}
    order = await (
        await hook_client.post("/api/payments/create-order", json=body, headers=owner["headers"])
    ).json()
    failed = webhook_body(
        "payment.failed", payment={"id": "pay_f1", "order_id": order["order_id"], "status": "failed"}
    )
    assert (await (await _post(hook_client, failed, sign(WEBHOOK_SECRET, failed))).json())["status"] == "ok"

    retry = await hook_client.post("/api/payments/create-order", json=body, headers=owner["headers"])
    assert retry.status == 200 and (await retry.json())["order_id"] == order["order_id"]
    captured = webhook_body(
        "payment.captured",
        payment={"id": "pay_ok", "order_id": order["order_id"], "amount": 200000, "currency": "INR"},
    )
    assert (await (await _post(hook_client, captured, sign(WEBHOOK_SECRET, captured))).json())[
        "status"
    ] == "ok"
    paid = await hook_client.post("/api/payments/create-order", json=body, headers=owner["headers"])
    assert paid.status == 409
    assert await Transaction.find({"metadata.property_id": property_id}).count() == 1


async def test_a_failed_payment_with_a_non_text_id_keeps_the_history_readable(
    hook_client: TestClient[Any, Any],
) -> None:
    renter = await register(hook_client)
    order = await _pending_order(hook_client, renter["headers"])
    failed = webhook_body("payment.failed", payment={"id": 12345, "order_id": order["order_id"]})
    response = await _post(hook_client, failed, sign(WEBHOOK_SECRET, failed))
    assert response.status == 200 and (await response.json())["payment_status"] == "failed"
    history = await hook_client.get("/api/payments/history", headers=renter["headers"])
    assert history.status == 200
    assert (await history.json())[0]["payment_status"] == "failed"
