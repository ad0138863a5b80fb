"""Payments as an admin sees them: every transaction, filtered. (Refunds are the payment service's.)"""

from __future__ import annotations

from datetime import datetime

from documents.transaction import Transaction
from homer_rt.services.admin.queries import find_page, page_fields, transaction_filter
from homer_rt.services.admin.views import TransactionPage


class AdminTransactions:
    async def list_transactions(
        self,
        *,
        transaction_type: str | None,
        payment_status: str | None,
        user_id: str | None,
        date_from: datetime | None,
        date_to: datetime | None,
        page: int,
        limit: int,
    ) -> TransactionPage:
        query = transaction_filter(
            transaction_type=transaction_type,
            payment_status=payment_status,
            user_id=user_id,
            date_from=date_from,
            date_to=date_to,
        )
        total, found = await find_page(Transaction, query, sort="-created_at", page=page, limit=limit)
        return {
            "transactions": [t.api_view() for t in found],
            **page_fields(total=total, page=page, limit=limit),
        }
