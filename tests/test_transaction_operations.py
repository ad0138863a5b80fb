"""The guarded operations on a stored transaction: of concurrent callers exactly one changes it, and no
operation moves a payment out of a state it does not name (a late failure never undoes a success)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from documents.transaction import (
    PaymentStatus,
    Transaction,
    TransactionType,
    verification_purchase_key,
)
from homer_rt.appkeys import CLOCK


async def stored_order(client: TestClient[Any, Any], *, purchase_key: str | None = None) -> Transaction:
    now = client.app[CLOCK].now()
    transaction = Transaction(
        user_id="user-1",
        transaction_type=TransactionType.PROPERTY_VERIFICATION,
        amount_paise=50000,
        order_id=f"order_{uuid.uuid4().hex}",
        created_at=now,
        updated_at=now,
        metadata={"property_id": "property-1"},
    )
    if purchase_key is not None:
        transaction.purchase_key = purchase_key
    await transaction.insert()
    return transaction


async def test_one_of_concurrent_successes_wins(client: TestClient[Any, Any]) -> None:
    order = await stored_order(client)
    now = client.app[CLOCK].now()
    results = await asyncio.gather(
        *(Transaction.mark_success(order.id, payment_id=f"pay_{n}", now=now) for n in range(5))
    )
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    stored = await Transaction.get(order.id)
    assert stored is not None and stored.payment_status is PaymentStatus.SUCCESS
    assert stored.payment_id == winners[0].payment_id


async def test_a_failed_attempt_can_still_be_paid_but_a_late_failure_never_undoes_a_success(
    client: TestClient[Any, Any],
) -> None:
    order = await stored_order(client)
    now = client.app[CLOCK].now()
    failed = await Transaction.mark_failed(order.order_id, reason="declined", payment_id="pay_1", now=now)
    assert failed is not None and failed.payment_status is PaymentStatus.FAILED
    assert failed.failure_reason == "declined"

    paid = await Transaction.mark_success(order.id, payment_id="pay_2", now=now)
    assert paid is not None and paid.payment_status is PaymentStatus.SUCCESS and paid.failure_reason is None

    assert await Transaction.mark_failed(order.order_id, reason="late", payment_id="pay_1", now=now) is None
    stored = await Transaction.get(order.id)
    assert stored is not None and stored.payment_status is PaymentStatus.SUCCESS
    assert stored.payment_id == "pay_2"


async def test_a_refund_is_claimed_once_and_only_after_the_purchase_took_effect(
    client: TestClient[Any, Any],
) -> None:
    key = verification_purchase_key("property-1")
    order = await stored_order(client, purchase_key=key)
    now = client.app[CLOCK].now()
    await Transaction.mark_success(order.id, payment_id="pay_1", now=now)
    assert await Transaction.claim_refund(order.id, now=now) is None  # effect not applied yet

    applied = await Transaction.mark_applied(order.id, now=now)
    assert applied is not None and applied.applied_at is not None
    assert await Transaction.mark_applied(order.id, now=now) is None  # the first record stands

    claims = await asyncio.gather(*(Transaction.claim_refund(order.id, now=now) for _ in range(5)))
    assert sum(claim is not None for claim in claims) == 1

    await Transaction.release_refund_claim(order.id)  # the gateway failed: it may be tried again
    assert await Transaction.claim_refund(order.id, now=now) is not None

    refunded = await Transaction.mark_refunded(order.id, refund_id="rfnd_1", now=now)
    assert refunded is not None and refunded.payment_status is PaymentStatus.REFUNDED
    assert refunded.refund_id == "rfnd_1" and refunded.purchase_key != key  # the listing is free again
    assert await Transaction.mark_refunded(order.id, refund_id="rfnd_2", now=now) is None

    await Transaction.release_refund_claim(order.id)  # refunded meanwhile: the claim stays
    stored = await Transaction.get(order.id)
    assert stored is not None and stored.refund_requested_at is not None and stored.refund_id == "rfnd_1"


async def test_only_an_unpaid_order_holding_the_key_is_superseded(client: TestClient[Any, Any]) -> None:
    key = verification_purchase_key("property-1")
    order = await stored_order(client, purchase_key=key)
    now = client.app[CLOCK].now()

    await Transaction.supersede(order.id, purchase_key="someone-else's-key", now=now)
    unchanged = await Transaction.get(order.id)
    assert unchanged is not None and unchanged.purchase_key == key

    await Transaction.mark_success(order.id, payment_id="pay_1", now=now)
    await Transaction.supersede(order.id, purchase_key=key, now=now)
    paid = await Transaction.get(order.id)
    assert paid is not None and paid.purchase_key == key  # a paid order keeps its listing

    other = await stored_order(client, purchase_key=verification_purchase_key("property-2"))
    await Transaction.supersede(other.id, purchase_key=other.purchase_key, now=now)
    released = await Transaction.get(other.id)
    assert released is not None and released.purchase_key == f"superseded:{other.id}"
