"""An admin action that fails for an unexpected reason (here: the store failing mid-action) is still in the
audit log as a failed entry, by the error's type only, and the client gets the usual 500 envelope."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.property import Property
from documents.transaction import Transaction
from tests.admin_support import audit_entries, pay_subscription, submit_property_verification
from tests.factories import make_admin, make_property, register

LEAKY_MESSAGE = "connection to mongodb://homer:hunter2@db.internal lost"


class FailingWrites:
    """A collection whose reads work and whose writes fail, as when MongoDB goes away mid-request."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def find_one_and_update(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(LEAKY_MESSAGE)

    async def update_one(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(LEAKY_MESSAGE)


def fail_writes(monkeypatch: pytest.MonkeyPatch, document: type[Any]) -> None:
    collection = collection_of(document)
    monkeypatch.setattr(document, "get_motor_collection", classmethod(lambda cls: FailingWrites(collection)))


async def _assert_internal_error(response: Any) -> None:
    assert response.status == 500
    body = await response.json()
    assert body == {"detail": "Internal server error", "error": {"code": "internal_error"}}


async def _assert_one_failed_entry(action_type: str, entity_id: str) -> None:
    [entry] = await audit_entries(action_type=action_type, entity_id=entity_id)
    assert entry.status == "failed"
    assert entry.error_message == "Internal error (RuntimeError)"
    assert entry.action_details["error_code"] == "internal_error"
    assert "hunter2" not in str(entry.api_view())


async def test_an_admin_console_action_failing_unexpectedly_is_audited(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    fail_writes(monkeypatch, Property)
    response = await client.delete(f"/api/admin/properties/{prop.id}", headers=admin["headers"])
    monkeypatch.undo()
    await _assert_internal_error(response)
    await _assert_one_failed_entry("property_delete", prop.id)
    stored = await Property.get(prop.id)
    assert stored is not None and stored.status.value == "active"


async def test_a_verification_decision_failing_unexpectedly_is_audited(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    await submit_property_verification(client, owner, prop.id)
    fail_writes(monkeypatch, Property)
    response = await client.post(
        "/api/admin/verifications/approve",
        headers=admin["headers"],
        json={"verification_type": "property", "entity_id": prop.id},
    )
    monkeypatch.undo()
    await _assert_internal_error(response)
    await _assert_one_failed_entry("verification_approve", prop.id)


async def test_a_refund_failing_unexpectedly_is_audited(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    transaction_id = await pay_subscription(client, renter)
    fail_writes(monkeypatch, Transaction)
    response = await client.post(f"/api/admin/transactions/{transaction_id}/refund", headers=admin["headers"])
    monkeypatch.undo()
    await _assert_internal_error(response)
    await _assert_one_failed_entry("transaction_refund", transaction_id)
    stored = await Transaction.get(transaction_id)
    assert stored is not None and stored.payment_status.value == "success"
