"""Mock payments (no RAZORPAY_KEY_ID): orders, verification, effects, idempotency, history, refunds."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.audit_log import AdminAuditLog
from documents.notification import Notification
from documents.property import Property, VerificationTier
from documents.transaction import PaymentStatus, Transaction, TransactionType
from documents.user import User
from homer_rt.app import create_app
from homer_rt.appkeys import PAYMENTS
from homer_rt.clock import AdjustableClock, as_utc
from homer_rt.errors import BadRequest, Conflict
from homer_rt.services.audit import AdminActor
from homer_rt.services.payments.gateway import MockGateway
from tests.factories import (
    ClientFactory,
    make_admin,
    make_property,
    make_settings,
    make_transaction,
    register,
)
from tests.listing_support import set_listing
from tests.payment_helpers import orders_meet, pay_mock


async def test_renter_pays_in_mock_mode_and_becomes_premium(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    created = await client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=renter["headers"]
    )
    assert created.status == 200
    order = await created.json()
    assert order["order_id"].startswith("mock_order_")
    assert order["amount"] == 750
    assert order["currency"] == "INR"
    assert order["is_mock"] is True
    assert order["payment_gateway_data"]["key_id"] == "mock_razorpay_key"
    assert order["payment_gateway_data"]["description"] == "Premium Subscription"

    verified = await client.post(
        "/api/payments/verify",
        json={"order_id": order["order_id"], "payment_id": "mock_pay_1", "signature": "x"},
        headers=renter["headers"],
    )
    assert verified.status == 200
    body = await verified.json()
    assert body["success"] is True

    me = await (await client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "premium"
    end = datetime.fromisoformat(me["subscription_end"])
    assert timedelta(days=89, hours=23) < end - clock.now() <= timedelta(days=90)
    assert me["contacts_used"] == 0

    history = await (await client.get("/api/payments/history", headers=renter["headers"])).json()
    assert len(history) == 1
    entry = history[0]
    assert entry["transaction_id"] == body["transaction_id"]
    assert entry["transaction_type"] == "renter_subscription"
    assert entry["amount"] == 750
    assert entry["payment_status"] == "success"
    assert entry["is_mock"] is True
    assert entry["order_id"] == order["order_id"]
    assert entry["payment_id"] == "mock_pay_1"
    assert entry["metadata"] == {"subscription_days": 90}
    notes = await Notification.find(
        {"user_id": renter["user"]["user_id"], "type": "payment_success"}
    ).to_list()
    assert len(notes) == 1


async def test_create_order_takes_query_parameters_like_the_spec(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    created = await client.post(
        "/api/payments/create-order?type=renter_subscription", headers=renter["headers"]
    )
    assert created.status == 200
    assert (await created.json())["amount"] == 750


async def test_prices_come_from_settings_not_the_client(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    app = create_app(make_settings(tmp_path, subscription_price_inr=999), clock=AdjustableClock())
    client = await aiohttp_client(app)
    renter = await register(client)
    created = await client.post(
        "/api/payments/create-order",
        json={"type": "renter_subscription", "amount": 1, "metadata": {"amount": 1}},
        headers=renter["headers"],
    )
    assert (await created.json())["amount"] == 999


async def test_bad_order_requests_are_clean_4xx(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    anonymous = await client.post("/api/payments/create-order", json={"type": "renter_subscription"})
    assert anonymous.status == 401
    unknown = await client.post(
        "/api/payments/create-order", json={"type": "gold"}, headers=renter["headers"]
    )
    assert unknown.status == 400
    missing = await client.post("/api/payments/create-order", json={}, headers=renter["headers"])
    assert missing.status == 422
    no_property = await client.post(
        "/api/payments/create-order", json={"type": "property_verification"}, headers=renter["headers"]
    )
    assert no_property.status == 400
    assert "detail" in await no_property.json()


async def test_verify_refuses_unknown_and_other_users_orders(client: TestClient[Any, Any]) -> None:
    alice = await register(client)
    mallory = await register(client)
    created = await client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=alice["headers"]
    )
    order_id = (await created.json())["order_id"]

    # The spec's bug: any id containing "subscription" was accepted. Ours only knows orders it created.
    forged = await client.post(
        "/api/payments/verify",
        json={"order_id": "mock_order_subscription_forged", "payment_id": "p"},
        headers=mallory["headers"],
    )
    assert forged.status == 404
    stolen = await client.post(
        "/api/payments/verify", json={"order_id": order_id, "payment_id": "p"}, headers=mallory["headers"]
    )
    assert stolen.status == 403
    me = await (await client.get("/api/users/me", headers=mallory["headers"])).json()
    assert me["subscription_tier"] == "free"


async def test_property_verification_fee_marks_the_property_paid(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    created = await client.post(
        "/api/payments/create-order",
        json={"type": "property_verification", "metadata": {"property_id": property_id}},
        headers=owner["headers"],
    )
    order = await created.json()
    assert order["amount"] == 2000
    assert order["payment_gateway_data"]["description"] == "Property Verification"
    verified = await client.post(
        "/api/payments/verify",
        json={"order_id": order["order_id"], "payment_id": "mock_pay_fee"},
        headers=owner["headers"],
    )
    assert verified.status == 200
    prop = await Property.get(property_id)
    assert prop is not None and prop.verification_fee_paid is True and prop.payment_id == "mock_pay_fee"
    # The owner is not made premium by a verification fee.
    me = await (await client.get("/api/users/me", headers=owner["headers"])).json()
    assert me["subscription_tier"] == "free"

    again = await client.post(
        "/api/payments/create-order",
        json={"type": "property_verification", "metadata": {"property_id": property_id}},
        headers=owner["headers"],
    )
    assert again.status == 409


def _fee_order(property_id: str) -> dict[str, Any]:
    return {"type": "property_verification", "metadata": {"property_id": property_id}}


async def test_concurrent_fee_orders_for_one_listing_are_one_order(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    orders_meet(monkeypatch, MockGateway, parties=3)
    responses = await asyncio.gather(
        *(
            client.post("/api/payments/create-order", json=_fee_order(property_id), headers=owner["headers"])
            for _ in range(3)
        )
    )
    assert [r.status for r in responses] == [200, 200, 200]
    orders = [await r.json() for r in responses]
    assert len({(o["order_id"], o["transaction_id"]) for o in orders}) == 1
    assert await Transaction.find({"metadata.property_id": property_id}).count() == 1
    assert orders[0]["amount"] == 2000 and orders[0]["payment_gateway_data"]["amount"] == 200000


async def test_an_open_fee_order_is_handed_out_again_until_paid(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    first = await client.post(
        "/api/payments/create-order", json=_fee_order(property_id), headers=owner["headers"]
    )
    again = await client.post(
        "/api/payments/create-order", json=_fee_order(property_id), headers=owner["headers"]
    )
    assert again.status == 200
    order = await first.json()
    assert await again.json() == order
    history = await (await client.get("/api/payments/history", headers=owner["headers"])).json()
    assert len(history) == 1

    # Paying it settles the listing: no further order, not even a new one.
    verified = await client.post(
        "/api/payments/verify",
        json={"order_id": order["order_id"], "payment_id": "mock_pay_once"},
        headers=owner["headers"],
    )
    assert verified.status == 200
    paid = await client.post(
        "/api/payments/create-order", json=_fee_order(property_id), headers=owner["headers"]
    )
    assert paid.status == 409 and (await paid.json())["error"]["code"] == "already_paid"
    # Other listings and subscriptions are separate purchases.
    other_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    other = await client.post(
        "/api/payments/create-order", json=_fee_order(other_id), headers=owner["headers"]
    )
    assert other.status == 200 and (await other.json())["order_id"] != order["order_id"]
    subscriptions = [
        await (
            await client.post(
                "/api/payments/create-order", json={"type": "renter_subscription"}, headers=owner["headers"]
            )
        ).json()
        for _ in range(2)
    ]
    assert subscriptions[0]["order_id"] != subscriptions[1]["order_id"]


async def test_verified_or_pending_listings_are_not_charged(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    verified_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    await set_listing(verified_id, is_verified=True, verification_tier=VerificationTier.VERIFIED.value)
    pending_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    await set_listing(pending_id, verification_tier=VerificationTier.PENDING.value)
    for property_id, code in [(verified_id, "already_verified"), (pending_id, "already_pending")]:
        response = await client.post(
            "/api/payments/create-order", json=_fee_order(property_id), headers=owner["headers"]
        )
        assert response.status == 409 and (await response.json())["error"]["code"] == code
    assert await Transaction.find_all().count() == 0


async def test_an_open_order_of_the_other_payment_mode_is_replaced(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    """An order made while the server took real payments cannot be paid in mock mode (or back): a new
    create-order gets a payable order instead of the stale one forever."""
    owner = await register(client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    stale = await make_transaction(
        user_id=owner["user"]["user_id"],
        transaction_type=TransactionType.PROPERTY_VERIFICATION,
        amount_paise=200_000,
        order_id="order_from_real_mode",
        is_mock=False,
        created_at=clock.now(),
        metadata={"property_id": property_id},
        purchase_key=f"property_verification:{property_id}",
    )
    response = await client.post(
        "/api/payments/create-order", json=_fee_order(property_id), headers=owner["headers"]
    )
    assert response.status == 200
    order = await response.json()
    assert order["is_mock"] is True and order["order_id"].startswith("mock_order_")
    again = await client.post(
        "/api/payments/create-order", json=_fee_order(property_id), headers=owner["headers"]
    )
    assert (await again.json())["order_id"] == order["order_id"]
    old = await Transaction.get(stale.id)
    assert old is not None and old.payment_status is PaymentStatus.PENDING


async def test_verification_fee_only_for_your_own_property(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    other = await register(client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    foreign = await client.post(
        "/api/payments/create-order",
        json={"type": "property_verification", "metadata": {"property_id": property_id}},
        headers=other["headers"],
    )
    assert foreign.status == 403
    missing = await client.post(
        "/api/payments/create-order",
        json={"type": "property_verification", "metadata": {"property_id": "nope"}},
        headers=other["headers"],
    )
    assert missing.status == 404


async def test_ten_concurrent_verifies_apply_once(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    created = await client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=renter["headers"]
    )
    order_id = (await created.json())["order_id"]

    async def verify() -> dict[str, Any]:
        response = await client.post(
            "/api/payments/verify",
            json={"order_id": order_id, "payment_id": "mock_pay_x"},
            headers=renter["headers"],
        )
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result

    results = await asyncio.gather(*(verify() for _ in range(10)))
    assert len({r["transaction_id"] for r in results}) == 1
    user = await User.get(renter["user"]["user_id"])
    assert user is not None and user.subscription_end is not None
    # One effect: 90 days, not 900.
    assert as_utc(user.subscription_end) - clock.now() <= timedelta(days=90)
    notes = await Notification.find({"user_id": user.id, "type": "payment_success"}).count()
    assert notes == 1


async def test_verify_again_later_returns_the_same_transaction(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    first = await pay_mock(client, renter["headers"], type="renter_subscription")
    again = await client.post(
        "/api/payments/verify",
        json={"order_id": first["order_id"], "payment_id": "mock_pay_other"},
        headers=renter["headers"],
    )
    assert (await again.json())["transaction_id"] == first["transaction_id"]
    user = await User.get(renter["user"]["user_id"])
    assert user is not None
    history = await (await client.get("/api/payments/history", headers=renter["headers"])).json()
    assert len(history) == 1 and history[0]["payment_id"] != "mock_pay_other"


async def test_history_is_the_callers_newest_first(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    other = await register(client)
    await pay_mock(client, other["headers"], type="renter_subscription")
    first = await pay_mock(client, renter["headers"], type="renter_subscription")
    clock.advance(timedelta(minutes=1))
    second = await pay_mock(client, renter["headers"], type="renter_subscription")
    history = await (await client.get("/api/payments/history", headers=renter["headers"])).json()
    assert [t["transaction_id"] for t in history] == [second["transaction_id"], first["transaction_id"]]


async def test_mock_refund_ends_the_premium_it_bought(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    admin = await make_admin(client)
    paid = await pay_mock(client, renter["headers"], type="renter_subscription")
    actor = AdminActor(admin_id=admin["user"]["user_id"], ip_address="127.0.0.1", user_agent="pytest")
    refunded = await client.app[PAYMENTS].refund(transaction_id=paid["transaction_id"], actor=actor)
    assert refunded.payment_status.value == "refunded"
    assert refunded.refund_id is not None and refunded.refund_id.startswith("mock_rfnd_")
    me = await (await client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "free"
    logs = await AdminAuditLog.find({"entity_id": paid["transaction_id"]}).to_list()
    assert [(log.action_type, log.status.value) for log in logs] == [("transaction_refund", "success")]
    notes = await Notification.find(
        {"user_id": renter["user"]["user_id"], "type": "payment_refunded"}
    ).count()
    assert notes == 1

    with pytest.raises(Conflict):
        await client.app[PAYMENTS].refund(transaction_id=paid["transaction_id"], actor=actor)
    failed_logs = await AdminAuditLog.find({"entity_id": paid["transaction_id"], "status": "failed"}).count()
    assert failed_logs == 1


async def test_refund_of_a_renewal_keeps_the_earlier_period(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    admin = await make_admin(client)
    await pay_mock(client, renter["headers"], type="renter_subscription")
    renewal = await pay_mock(client, renter["headers"], type="renter_subscription")
    actor = AdminActor(admin_id=admin["user"]["user_id"], ip_address=None, user_agent=None)
    await client.app[PAYMENTS].refund(transaction_id=renewal["transaction_id"], actor=actor)
    user = await User.get(renter["user"]["user_id"])
    assert user is not None and user.subscription_end is not None
    assert user.is_premium(clock.now())
    assert as_utc(user.subscription_end) - clock.now() <= timedelta(days=90)


async def test_concurrent_refunds_refund_once(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    admin = await make_admin(client)
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    paid = await pay_mock(
        client, owner["headers"], type="property_verification", metadata={"property_id": property_id}
    )
    actor = AdminActor(admin_id=admin["user"]["user_id"], ip_address=None, user_agent=None)
    results = await asyncio.gather(
        *(client.app[PAYMENTS].refund(transaction_id=paid["transaction_id"], actor=actor) for _ in range(5)),
        return_exceptions=True,
    )
    successes = [r for r in results if not isinstance(r, BaseException)]
    assert len(successes) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    prop = await Property.get(property_id)
    assert prop is not None and prop.verification_fee_paid is False
    notes = await Notification.find({"user_id": owner["user"]["user_id"], "type": "payment_refunded"}).count()
    assert notes == 1


async def test_pending_payments_cannot_be_refunded(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    admin = await make_admin(client)
    await client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=renter["headers"]
    )
    pending = (await (await client.get("/api/payments/history", headers=renter["headers"])).json())[0]
    actor = AdminActor(admin_id=admin["user"]["user_id"], ip_address=None, user_agent=None)
    with pytest.raises(BadRequest):
        await client.app[PAYMENTS].refund(transaction_id=pending["transaction_id"], actor=actor)


async def test_production_without_keys_refuses_payments(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    # Production settings validation needs MongoDB; only the payment decision matters here.
    settings = settings.model_copy(update={"app_env": "production"})
    client = await aiohttp_client(create_app(settings, clock=AdjustableClock()))
    renter = await register(client)
    created = await client.post(
        "/api/payments/create-order", json={"type": "renter_subscription"}, headers=renter["headers"]
    )
    assert created.status == 503
    assert "detail" in await created.json()
