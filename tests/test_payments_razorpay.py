"""Real mode: the razorpay SDK against a local fake Razorpay (orders, signatures, refunds, failures)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from documents.audit_log import AdminAuditLog
from documents.transaction import Transaction
from documents.user import User
from homer_rt.app import create_app
from homer_rt.appkeys import PAYMENTS
from homer_rt.clock import AdjustableClock
from homer_rt.errors import UpstreamError
from homer_rt.services.audit import AdminActor
from homer_rt.services.payments.gateway import RazorpayGateway
from tests.factories import ClientFactory, make_admin, make_property, make_settings, register
from tests.fakes.razorpay_server import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, FakeRazorpay
from tests.payment_helpers import orders_meet, sign

RealClient = Callable[..., Any]


@pytest.fixture
async def fake() -> Any:
    fake = FakeRazorpay()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
async def real_client(
    aiohttp_client: ClientFactory, tmp_path: Path, fake: FakeRazorpay
) -> TestClient[Any, Any]:
    settings = make_settings(
        tmp_path,
        razorpay_key_id=KEY_ID,
        razorpay_key_secret=KEY_SECRET,
        razorpay_webhook_secret=WEBHOOK_SECRET,
        razorpay_base_url=fake.base_url,
        razorpay_timeout_seconds=1.0,
    )
    return await aiohttp_client(create_app(settings, clock=AdjustableClock()))


async def _order(client: TestClient[Any, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=headers
    )
    assert response.status == 200, await response.text()
    order: dict[str, Any] = await response.json()
    return order


async def test_real_order_goes_to_razorpay_with_the_server_price(
    real_client: TestClient[Any, Any], fake: FakeRazorpay
) -> None:
    renter = await register(real_client)
    order = await _order(real_client, renter["headers"])
    assert order["is_mock"] is False
    assert order["order_id"].startswith("order_fake")
    assert order["amount"] == 750
    assert order["payment_gateway_data"]["key_id"] == KEY_ID
    sent = fake.orders[order["order_id"]]
    assert sent["amount"] == 75000 and sent["currency"] == "INR"
    assert sent["notes"]["purpose"] == "renter_subscription"


async def test_signed_payment_is_verified_and_applied(real_client: TestClient[Any, Any]) -> None:
    renter = await register(real_client)
    order = await _order(real_client, renter["headers"])
    payment_id = "pay_fake0001"
    verified = await real_client.post(
        "/api/payments/verify",
        json={
            "order_id": order["order_id"],
            "payment_id": payment_id,
            "signature": sign(KEY_SECRET, f"{order['order_id']}|{payment_id}"),
        },
        headers=renter["headers"],
    )
    assert verified.status == 200, await verified.text()
    assert (await verified.json())["success"] is True
    me = await (await real_client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "premium"
    history = await (await real_client.get("/api/payments/history", headers=renter["headers"])).json()
    assert history[0]["is_mock"] is False and history[0]["payment_status"] == "success"


async def test_bad_signature_is_refused_and_applies_nothing(real_client: TestClient[Any, Any]) -> None:
    renter = await register(real_client)
    order = await _order(real_client, renter["headers"])
    for signature in ["deadbeef", sign("wrong-secret", f"{order['order_id']}|pay_1"), "é" * 64, None]:
        body: dict[str, Any] = {"order_id": order["order_id"], "payment_id": "pay_1"}
        if signature is not None:
            body["signature"] = signature
        response = await real_client.post("/api/payments/verify", json=body, headers=renter["headers"])
        assert response.status == 400
        assert (await response.json())["detail"] == "Payment verification failed"
    me = await (await real_client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "free"
    # A signature for another order does not carry over either.
    other = await _order(real_client, renter["headers"])
    crossed = await real_client.post(
        "/api/payments/verify",
        json={
            "order_id": other["order_id"],
            "payment_id": "pay_1",
            "signature": sign(KEY_SECRET, f"{order['order_id']}|pay_1"),
        },
        headers=renter["headers"],
    )
    assert crossed.status == 400


async def test_mock_orders_are_refused_in_real_mode(real_client: TestClient[Any, Any]) -> None:
    renter = await register(real_client)
    response = await real_client.post(
        "/api/payments/verify",
        json={"order_id": "mock_order_abc", "payment_id": "mock_pay"},
        headers=renter["headers"],
    )
    assert response.status == 404


async def test_razorpay_error_is_a_clean_502(real_client: TestClient[Any, Any], fake: FakeRazorpay) -> None:
    renter = await register(real_client)
    fake.fail_with_status = 500
    response = await real_client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=renter["headers"]
    )
    assert response.status == 502
    body = await response.json()
    assert body["error"]["code"] == "upstream_error" and "detail" in body
    assert await Transaction.find_all().count() == 0


async def test_razorpay_timeout_is_a_clean_504_never_a_hang(
    real_client: TestClient[Any, Any], fake: FakeRazorpay
) -> None:
    renter = await register(real_client)
    fake.delay_seconds = 3.0  # longer than razorpay_timeout_seconds=1
    started = time.monotonic()
    response = await real_client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=renter["headers"]
    )
    assert response.status == 504
    assert (await response.json())["error"]["code"] == "upstream_timeout"
    assert time.monotonic() - started < 2.9
    # The event loop stayed free meanwhile: other requests are served at once after.
    fake.delay_seconds = 0
    assert (await real_client.get("/api/users/me", headers=renter["headers"])).status == 200


async def test_real_refund_calls_razorpay_once_under_concurrency(
    real_client: TestClient[Any, Any], fake: FakeRazorpay
) -> None:
    renter = await register(real_client)
    admin = await make_admin(real_client)
    order = await _order(real_client, renter["headers"])
    await real_client.post(
        "/api/payments/verify",
        json={
            "order_id": order["order_id"],
            "payment_id": "pay_r1",
            "signature": sign(KEY_SECRET, f"{order['order_id']}|pay_r1"),
        },
        headers=renter["headers"],
    )
    transaction = await Transaction.find_one({"order_id": order["order_id"]})
    assert transaction is not None
    actor = AdminActor(admin_id=admin["user"]["user_id"], ip_address="127.0.0.1", user_agent="pytest")
    results = await asyncio.gather(
        *(real_client.app[PAYMENTS].refund(transaction_id=transaction.id, actor=actor) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    assert len(fake.refunds) == 1
    assert fake.refunds[0]["payment_id"] == "pay_r1" and fake.refunds[0]["amount"] == 75000
    refreshed = await Transaction.get(transaction.id)
    assert refreshed is not None and refreshed.refund_id == fake.refunds[0]["id"]
    user = await User.get(renter["user"]["user_id"])
    assert user is not None and user.subscription_tier.value == "free"


async def test_failed_razorpay_refund_is_audited_and_can_be_retried(
    real_client: TestClient[Any, Any], fake: FakeRazorpay
) -> None:
    renter = await register(real_client)
    admin = await make_admin(real_client)
    order = await _order(real_client, renter["headers"])
    await real_client.post(
        "/api/payments/verify",
        json={
            "order_id": order["order_id"],
            "payment_id": "pay_r2",
            "signature": sign(KEY_SECRET, f"{order['order_id']}|pay_r2"),
        },
        headers=renter["headers"],
    )
    transaction = await Transaction.find_one({"order_id": order["order_id"]})
    assert transaction is not None
    actor = AdminActor(admin_id=admin["user"]["user_id"], ip_address=None, user_agent=None)
    fake.fail_with_status = 500
    with pytest.raises(UpstreamError):
        await real_client.app[PAYMENTS].refund(transaction_id=transaction.id, actor=actor)
    failed = await AdminAuditLog.find_one({"entity_id": transaction.id, "status": "failed"})
    assert failed is not None and failed.action_type == "transaction_refund"
    fake.fail_with_status = None
    refunded = await real_client.app[PAYMENTS].refund(transaction_id=transaction.id, actor=actor)
    assert refunded.payment_status.value == "refunded"


async def test_ten_concurrent_signed_verifies_apply_once(real_client: TestClient[Any, Any]) -> None:
    renter = await register(real_client)
    order = await _order(real_client, renter["headers"])
    body = {
        "order_id": order["order_id"],
        "payment_id": "pay_c1",
        "signature": sign(KEY_SECRET, f"{order['order_id']}|pay_c1"),
    }
    responses = await asyncio.gather(
        *(real_client.post("/api/payments/verify", json=body, headers=renter["headers"]) for _ in range(10))
    )
    assert all(r.status == 200 for r in responses)
    ids = {(await r.json())["transaction_id"] for r in responses}
    assert len(ids) == 1
    user = await User.get(renter["user"]["user_id"])
    assert user is not None and user.subscription_end is not None and user.subscription_start is not None
    assert user.subscription_end - user.subscription_start <= timedelta(days=90)


async def test_concurrent_fee_orders_make_one_payable_razorpay_order(
    real_client: TestClient[Any, Any], fake: FakeRazorpay, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(real_client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    body = {"type": "property_verification", "metadata": {"property_id": property_id}}
    orders_meet(monkeypatch, RazorpayGateway, parties=2)
    responses = await asyncio.gather(
        *(
            real_client.post("/api/payments/create-order", json=body, headers=owner["headers"])
            for _ in range(2)
        )
    )
    assert [r.status for r in responses] == [200, 200]
    first, second = [await r.json() for r in responses]
    assert first == second and first["is_mock"] is False
    assert await Transaction.find({"metadata.property_id": property_id}).count() == 1
    # The order both got is the one Razorpay knows at the server's price (the other call's order is
    # never handed out, so it cannot be paid).
    assert fake.orders[first["order_id"]]["amount"] == 200000

    payment_id = "pay_fee1"
    verified = await real_client.post(
        "/api/payments/verify",
        json={
            "order_id": first["order_id"],
            "payment_id": payment_id,
            "signature": sign(KEY_SECRET, f"{first['order_id']}|{payment_id}"),
        },
        headers=owner["headers"],
    )
    assert verified.status == 200, await verified.text()
    again = await real_client.post("/api/payments/create-order", json=body, headers=owner["headers"])
    assert again.status == 409
    assert len(fake.orders) == 2
