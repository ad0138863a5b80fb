"""Refunds: claimed before the gateway is called, so a payment is refunded once however many admins ask, and
written to the admin audit log."""

from __future__ import annotations

from documents.transaction import PaymentStatus, Transaction
from homer_rt.errors import BadRequest, Conflict
from homer_rt.money import paise_to_rupees
from homer_rt.services.audit import AdminActor, Outcome
from homer_rt.services.payments.effects import PurchaseEffects
from homer_rt.services.payments.gateway import require_gateway
from homer_rt.services.payments.queries import PaymentQueries


class PaymentRefunds(PurchaseEffects, PaymentQueries):
    async def refund(self, *, transaction_id: str, actor: AdminActor) -> Transaction:
        """An admin refund: the gateway is called once however many admins click at the same moment.

        Written to the admin audit log whether it succeeds or fails (unexpected failures included).
        """

        async def work() -> Outcome[Transaction]:
            before, after = await self._refund(transaction_id=transaction_id, actor=actor)
            return Outcome(
                after,
                details={
                    "user_id": after.user_id,
                    "transaction_type": after.transaction_type.value,
                    "amount": paise_to_rupees(after.amount_paise),
                    "refund_id": after.refund_id,
                    "is_mock": after.is_mock,
                },
                old_value={"payment_status": before.payment_status.value},
                new_value={"payment_status": after.payment_status.value, "refund_id": after.refund_id},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="transaction_refund",
            entity_type="transaction",
            entity_id=transaction_id,
            details={"transaction_id": transaction_id},
            work=work,
        )

    async def _refund(self, *, transaction_id: str, actor: AdminActor) -> tuple[Transaction, Transaction]:
        transaction = await self.get(transaction_id=transaction_id)
        if transaction.payment_status is PaymentStatus.REFUNDED:
            raise Conflict("This payment is already refunded", code="already_refunded")
        if transaction.payment_status is not PaymentStatus.SUCCESS or not transaction.payment_id:
            raise BadRequest("Only successful payments can be refunded", code="not_refundable")
        gateway = require_gateway(self._gateway)
        if transaction.is_mock != gateway.is_mock:
            raise BadRequest(
                "This payment was made in another payment mode and cannot be refunded here",
                code="payment_mode_mismatch",
            )
        claimed = await Transaction.claim_refund(transaction.id, now=self._clock.now())
        if claimed is None:
            current = await self.get(transaction_id=transaction_id)
            if current.payment_status is PaymentStatus.REFUNDED:
                raise Conflict("This payment is already refunded", code="already_refunded")
            if current.applied_at is None:
                raise Conflict("This payment is still being processed; try again", code="payment_processing")
            raise Conflict("A refund of this payment is already in progress", code="refund_in_progress")
        try:
            refund_id = await gateway.refund(
                payment_id=transaction.payment_id,
                amount_paise=transaction.amount_paise,
                notes={"transaction_id": transaction.id, "purpose": transaction.transaction_type.value},
            )
        except BaseException:
            # Release the claim so the refund can be tried again once the gateway answers.
            await Transaction.release_refund_claim(transaction.id)
            raise
        refunded = await self._mark_refunded(transaction_id=transaction.id, refund_id=refund_id, actor=actor)
        return transaction, refunded

    async def _mark_refunded(
        self, *, transaction_id: str, refund_id: str | None, actor: AdminActor
    ) -> Transaction:
        """``actor`` is who the audit log names for the verification a refunded fee withdraws."""
        refunded = await Transaction.mark_refunded(transaction_id, refund_id=refund_id, now=self._clock.now())
        if refunded is None:
            # Already refunded (the webhook for our own refund can arrive first): nothing more to undo.
            return await self.get(transaction_id=transaction_id)
        await self._undo_effect(refunded, actor=actor)
        return refunded
