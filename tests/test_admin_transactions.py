"""Admin transactions: the filtered list, and refunds through the payment service's one code path."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from documents.notification import Notification
from documents.transaction import PaymentStatus, Transaction, TransactionType
from documents.user import User
from tests.admin_support import assert_no_secrets, audit_entries, pay_subscription
from tests.factories import make_admin, make_transaction, register


async def test_transaction_routes_refuse_anonymous_and_non_admins(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    transaction_id = await pay_subscription(client, renter)
    refund = f"/api/admin/transactions/{transaction_id}/refund"
    assert (await client.get("/api/admin/transactions")).status == 401
    assert (await client.get("/api/admin/transactions", headers=renter["headers"])).status == 403
    assert (await client.post(refund)).status == 401
    assert (await client.post(refund, headers=renter["headers"])).status == 403
    stored = await Transaction.get(transaction_id)
    assert stored is not None and stored.payment_status == PaymentStatus.SUCCESS


async def test_list_transactions_filters_by_type_status_user_and_date(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    first = await register(client)
    second = await register(client)
    paid = await pay_subscription(client, first)
    await pay_subscription(client, second)
    old = datetime.now(UTC) - timedelta(days=10)
    await make_transaction(
        user_id=second["user_id"],
        transaction_type=TransactionType.PROPERTY_VERIFICATION,
        amount_paise=200_000,
        order_id="order_old_failed",
        payment_status=PaymentStatus.FAILED,
        created_at=old,
    )
    headers = admin["headers"]

    async def listed(**params: str) -> dict[str, Any]:
        response = await client.get("/api/admin/transactions", headers=headers, params=params)
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    everything = await listed()
    assert everything["total_count"] == 3
    assert everything["transactions"][-1]["order_id"] == "order_old_failed"  # newest first
    assert (await listed(user_id=first["user_id"]))["transactions"][0]["transaction_id"] == paid
    assert (await listed(payment_status="failed"))["total_count"] == 1
    assert (await listed(transaction_type="renter_subscription"))["total_count"] == 2
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert (await listed(date_from=since))["total_count"] == 2
    assert (await listed(date_to=since))["total_count"] == 1
    paged = await listed(limit="2")
    assert paged["has_more"] is True and len(paged["transactions"]) == 2
    assert everything["transactions"][0]["amount"] == 750
    bad = await client.get("/api/admin/transactions", headers=headers, params={"date_from": "last week"})
    assert bad.status == 422


async def test_refund_ends_premium_notifies_and_audits(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    transaction_id = await pay_subscription(client, renter)
    assert (await client.get("/api/users/me", headers=renter["headers"])).status == 200

    response = await client.post(
        f"/api/admin/transactions/{transaction_id}/refund",
        headers={**admin["headers"], "User-Agent": "console"},
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["transaction"]["payment_status"] == "refunded"
    assert body["transaction"]["refunded_at"] is not None

    me = await (await client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "free"
    user = await User.get(renter["user_id"])
    assert user is not None and not user.is_premium(datetime.now(UTC))
    notes = await Notification.find({"user_id": renter["user_id"], "type": "payment_refunded"}).to_list()
    assert len(notes) == 1

    entries = await audit_entries(entity_type="transaction", entity_id=transaction_id)
    assert len(entries) == 1 and entries[0].status == "success"
    assert entries[0].admin_id == admin["user_id"] and entries[0].user_agent == "console"
    assert_no_secrets(entries[0].model_dump())

    again = await client.post(f"/api/admin/transactions/{transaction_id}/refund", headers=admin["headers"])
    assert again.status == 409
    failed = await audit_entries(entity_type="transaction", entity_id=transaction_id, status="failed")
    assert len(failed) == 1


async def test_refund_refuses_unsuccessful_and_unknown_transactions(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    order = await client.post(
        "/api/payments/create-order", headers=renter["headers"], json={"type": "renter_subscription"}
    )
    pending_id = (await order.json())["transaction_id"]
    pending = await client.post(f"/api/admin/transactions/{pending_id}/refund", headers=admin["headers"])
    assert pending.status == 400
    missing = await client.post("/api/admin/transactions/nope/refund", headers=admin["headers"])
    assert missing.status == 404
    stored = await Transaction.get(pending_id)
    assert stored is not None and stored.payment_status == PaymentStatus.PENDING


async def test_concurrent_refunds_refund_once(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    other_admin = await make_admin(client)
    renter = await register(client)
    transaction_id = await pay_subscription(client, renter)
    path = f"/api/admin/transactions/{transaction_id}/refund"
    responses = await asyncio.gather(
        *(client.post(path, headers=a["headers"]) for a in (admin, other_admin, admin, other_admin))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409, 409, 409]
    notes = await Notification.find({"user_id": renter["user_id"], "type": "payment_refunded"}).to_list()
    assert len(notes) == 1
    entries = await audit_entries(entity_type="transaction", entity_id=transaction_id)
    assert sorted(e.status for e in entries) == ["failed", "failed", "failed", "success"]
