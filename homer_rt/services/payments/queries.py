"""Reading payments: a user's history, one transaction, and whether a listing's fee is paid."""

from __future__ import annotations

from documents.transaction import PaymentStatus, Transaction, TransactionType
from homer_rt.errors import NotFound
from homer_rt.services.payments.core import PaymentCore


class PaymentQueries(PaymentCore):
    async def history(self, *, user_id: str, page: int, limit: int) -> list[Transaction]:
        return (
            await Transaction.find({"user_id": user_id})
            .sort("-created_at", "+_id")
            .skip((page - 1) * limit)
            .limit(limit)
            .to_list()
        )

    async def get(self, *, transaction_id: str) -> Transaction:
        transaction = await Transaction.get(transaction_id)
        if transaction is None:
            raise NotFound("Transaction not found", code="transaction_not_found")
        return transaction

    async def paid_verification(self, *, property_id: str, user_id: str) -> Transaction | None:
        """Our own record that this owner paid this property's verification fee (not the client's word)."""
        return await Transaction.find_one(
            {
                "user_id": user_id,
                "transaction_type": TransactionType.PROPERTY_VERIFICATION.value,
                "metadata.property_id": property_id,
                "payment_status": PaymentStatus.SUCCESS.value,
            }
        )
