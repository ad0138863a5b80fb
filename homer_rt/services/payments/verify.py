"""Verifying a payment: the gateway checks the checkout's signature, and the order is marked paid exactly
once (by this call or the webhook), the one winner applying the purchase's effect."""

from __future__ import annotations

from documents.transaction import PaymentStatus, Transaction
from homer_rt.errors import BadRequest, Forbidden, NotFound
from homer_rt.services.payments.effects import PurchaseEffects
from homer_rt.services.payments.gateway import require_gateway


class PaymentVerification(PurchaseEffects):
    async def verify(
        self, *, user_id: str, order_id: str, payment_id: str, signature: str | None
    ) -> Transaction:
        transaction = await Transaction.find_one({"order_id": order_id})
        if transaction is None:
            raise NotFound("Order not found", code="order_not_found")
        if transaction.user_id != user_id:
            raise Forbidden("This order belongs to another user", code="not_order_owner")
        if transaction.payment_status in (PaymentStatus.SUCCESS, PaymentStatus.REFUNDED):
            # Idempotent: the same order verified again answers with the same transaction.
            return transaction
        gateway = require_gateway(self._gateway)
        if transaction.is_mock != gateway.is_mock:
            raise BadRequest(
                "This order was created in another payment mode and cannot be verified here",
                code="payment_mode_mismatch",
            )
        if not await gateway.verify_payment(order_id=order_id, payment_id=payment_id, signature=signature):
            raise BadRequest("Payment verification failed", code="invalid_signature")
        return await self._mark_success(transaction=transaction, payment_id=payment_id)

    async def _mark_success(self, *, transaction: Transaction, payment_id: str) -> Transaction:
        won = await Transaction.mark_success(transaction.id, payment_id=payment_id, now=self._clock.now())
        if won is None:
            # Another verify or the webhook won the transition; it applies the effect.
            current = await Transaction.get(transaction.id)
            if current is None:
                raise NotFound("Order not found", code="order_not_found")
            return current
        await self._apply_effect(won)
        applied = await Transaction.mark_applied(won.id, now=self._clock.now())
        return won if applied is None else applied
