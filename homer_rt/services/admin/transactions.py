"""Payments as an admin sees them: every transaction, filtered. (Refunds are the payment service's.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from documents.transaction import Transaction
from homer_rt.services.admin.queries import date_range, paginated


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
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if transaction_type and transaction_type != "all":
            query["transaction_type"] = transaction_type
        if payment_status and payment_status != "all":
            query["payment_status"] = payment_status
        if user_id:
            query["user_id"] = user_id
        query.update(date_range("created_at", date_from, date_to))
        total = await Transaction.find(query).count()
        found = (
            await Transaction.find(query).sort("-created_at").skip((page - 1) * limit).limit(limit).to_list()
        )
        return paginated("transactions", [t.api_view() for t in found], total=total, page=page, limit=limit)
