"""A refunded verification fee takes back what it paid for: the listing's verification (granted or waiting
for review) and the owner's badge when that listing gave it; the owner is told and the audit log says so,
once, whichever of the admin refund and Razorpay's refund webhook comes first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.notification import Notification
from documents.transaction import Transaction
from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from tests.admin_support import audit_entries, submit_property_verification, upload_document
from tests.factories import ClientFactory, make_admin, make_property, make_settings, register
from tests.fakes.razorpay_server import WEBHOOK_SECRET
from tests.payment_helpers import sign, webhook_body


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    # Mock payments plus a webhook secret, so both refund paths can be driven.
    settings = make_settings(tmp_path, razorpay_webhook_secret=WEBHOOK_SECRET)
    return await aiohttp_client(create_app(settings, clock=AdjustableClock()))


async def _verified_listing(
    client: TestClient[Any, Any], owner: dict[str, Any], admin: dict[str, Any], title: str = "Sunny 2BHK"
) -> tuple[str, str]:
    """A listing whose fee the owner paid and an admin approved; (property_id, fee transaction id)."""
    prop = await make_property(owner_id=owner["user_id"], title=title)
    transaction_id = await submit_property_verification(client, owner, prop.id)
    approved = await client.post(
        "/api/admin/verifications/approve",
        headers=admin["headers"],
        json={"verification_type": "property", "entity_id": prop.id},
    )
    assert approved.status == 200, await approved.text()
    return prop.id, transaction_id


async def _refund(client: TestClient[Any, Any], admin: dict[str, Any], transaction_id: str) -> Any:
    return await client.post(f"/api/admin/transactions/{transaction_id}/refund", headers=admin["headers"])


async def _refund_webhook(client: TestClient[Any, Any], transaction_id: str) -> Any:
    transaction = await Transaction.get(transaction_id)
    assert transaction is not None
    body = webhook_body(
        "refund.processed",
        refund={"id": "rfnd_hook1", "payment_id": transaction.payment_id, "amount": transaction.amount_paise},
    )
    response = await client.post(
        "/api/payments/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Razorpay-Signature": sign(WEBHOOK_SECRET, body)},
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def _listing(client: TestClient[Any, Any], owner: dict[str, Any], property_id: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/verification/my-status?type=property&property_id={property_id}", headers=owner["headers"]
    )
    assert response.status == 200, await response.text()
    status: dict[str, Any] = await response.json()
    return status


async def _me(client: TestClient[Any, Any], user: dict[str, Any]) -> dict[str, Any]:
    me: dict[str, Any] = await (await client.get("/api/users/me", headers=user["headers"])).json()
    return me


async def _withdrawn_notices(owner: dict[str, Any]) -> list[Notification]:
    return await Notification.find({"user_id": owner["user_id"], "type": "verification_withdrawn"}).to_list()


async def test_an_admin_refund_withdraws_the_listing_and_the_badge_it_gave_once(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    property_id, transaction_id = await _verified_listing(client, owner, admin, title="Verified Villa")
    assert (await _listing(client, owner, property_id))["is_verified"] is True
    assert (await _me(client, owner))["is_verified_owner"] is True

    assert (await _refund(client, admin, transaction_id)).status == 200

    listing = await _listing(client, owner, property_id)
    assert listing["is_verified"] is False and listing["status"] == "none"
    assert listing["verification_tier"] == "free" and listing["verification_fee_paid"] is False
    public = await (await client.get(f"/api/properties/{property_id}")).json()
    assert public["is_verified"] is False
    me = await _me(client, owner)
    assert me["is_verified_owner"] is False and me["owner_verification_status"] == "none"
    [notice] = await _withdrawn_notices(owner)
    assert "Verified Villa" in notice.message and "verified-owner badge" in notice.message
    [entry] = await audit_entries(action_type="verification_withdraw", entity_id=property_id)
    assert entry.status == "success" and entry.admin_id == admin["user_id"]
    assert entry.entity_type == "property"
    assert entry.action_details["transaction_id"] == transaction_id
    assert entry.action_details["owner_verification_withdrawn"] is True
    assert entry.old_value == {
        "verification_tier": "verified",
        "is_verified": True,
        "verification_fee_paid": True,
    }

    # Refunding again, and Razorpay's webhook for the same refund afterwards, withdraw nothing more.
    again = await _refund(client, admin, transaction_id)
    assert again.status == 409 and (await again.json())["error"]["code"] == "already_refunded"
    await _refund_webhook(client, transaction_id)
    assert len(await _withdrawn_notices(owner)) == 1
    assert len(await audit_entries(action_type="verification_withdraw")) == 1
    refunds = await audit_entries(action_type="transaction_refund", entity_id=transaction_id)
    assert sorted(e.status for e in refunds) == ["failed", "success"]

    # The listing can be paid for again: a new order, not the refunded one.
    order = await client.post(
        "/api/payments/create-order",
        headers=owner["headers"],
        json={"type": "property_verification", "metadata": {"property_id": property_id}},
    )
    assert order.status == 200, await order.text()
    assert (await order.json())["transaction_id"] != transaction_id


async def test_the_refund_webhook_withdraws_it_and_the_audit_log_names_razorpay(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    property_id, transaction_id = await _verified_listing(client, owner, admin)

    assert (await _refund_webhook(client, transaction_id))["payment_status"] == "refunded"
    assert (await _listing(client, owner, property_id))["is_verified"] is False
    assert (await _me(client, owner))["is_verified_owner"] is False
    [entry] = await audit_entries(action_type="verification_withdraw", entity_id=property_id)
    assert entry.admin_id == "razorpay_webhook" and entry.action_details["refund_id"] == "rfnd_hook1"

    # Razorpay delivers again; an admin then tries to refund what is already refunded.
    await _refund_webhook(client, transaction_id)
    assert (await _refund(client, admin, transaction_id)).status == 409
    assert len(await _withdrawn_notices(owner)) == 1
    assert len(await audit_entries(action_type="verification_withdraw")) == 1


async def test_an_owner_verified_on_their_own_documents_keeps_the_badge(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    url = await upload_document(client, owner, "pan_card")
    submitted = await client.post(
        "/api/verification/owner/submit",
        json={"documents": {"pan_card": {"file_url": url}}},
        headers=owner["headers"],
    )
    assert submitted.status == 200, await submitted.text()
    approved = await client.post(
        f"/api/verification/admin/approve/owner_{owner['user_id']}", headers=admin["headers"]
    )
    assert approved.status == 200
    property_id, transaction_id = await _verified_listing(client, owner, admin)

    assert (await _refund(client, admin, transaction_id)).status == 200
    assert (await _listing(client, owner, property_id))["is_verified"] is False
    me = await _me(client, owner)
    assert me["is_verified_owner"] is True and me["owner_verification_status"] == "verified"
    [notice] = await _withdrawn_notices(owner)
    assert "badge" not in notice.message


async def test_the_badge_stays_while_another_verified_listing_holds_it(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    first_id, first_fee = await _verified_listing(client, owner, admin, title="First")
    second_id, second_fee = await _verified_listing(client, owner, admin, title="Second")

    assert (await _refund(client, admin, first_fee)).status == 200
    assert (await _listing(client, owner, first_id))["is_verified"] is False
    assert (await _listing(client, owner, second_id))["is_verified"] is True
    assert (await _me(client, owner))["is_verified_owner"] is True

    assert (await _refund(client, admin, second_fee)).status == 200
    assert (await _me(client, owner))["is_verified_owner"] is False
    entries = await audit_entries(action_type="verification_withdraw")
    assert sorted(e.action_details["owner_verification_withdrawn"] for e in entries) == [False, True]


async def test_a_refund_while_waiting_for_review_takes_the_listing_out_of_the_queue(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    transaction_id = await submit_property_verification(client, owner, prop.id)
    assert (await _listing(client, owner, prop.id))["status"] == "pending"

    assert (await _refund(client, admin, transaction_id)).status == 200

    assert (await _listing(client, owner, prop.id))["status"] == "none"
    pending = await (await client.get("/api/admin/verifications/pending", headers=admin["headers"])).json()
    assert pending["pending_property_verifications"] == []
    approve = await client.post(
        "/api/admin/verifications/approve",
        headers=admin["headers"],
        json={"verification_type": "property", "entity_id": prop.id},
    )
    assert approve.status == 409
    [notice] = await _withdrawn_notices(owner)
    assert "left review" in notice.message
    [entry] = await audit_entries(action_type="verification_withdraw", entity_id=prop.id)
    assert entry.old_value is not None and entry.old_value["verification_tier"] == "pending"
