"""The transactions collection: the spec's Transaction model, money as integer paise.

One document per payment order the server created. The order id is unique, so a purpose, amount and
owner are fixed at create time and every later step (verify, webhook, refund) looks them up here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from documents.base import new_id
from homer_rt.clock import iso
from homer_rt.money import paise_to_rupees


class TransactionType(StrEnum):
    RENTER_SUBSCRIPTION = "renter_subscription"
    PROPERTY_VERIFICATION = "property_verification"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    REFUNDED = "refunded"


class Transaction(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    user_id: str
    transaction_type: TransactionType
    amount_paise: int
    currency: str = "INR"

    payment_gateway: str = "razorpay"
    payment_id: str | None = None
    order_id: str
    payment_status: PaymentStatus = PaymentStatus.PENDING
    is_mock: bool = False

    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)

    failure_reason: str | None = None
    # Set once the purchase's effect (premium days, fee paid) has been applied: the idempotency record.
    applied_at: datetime | None = None
    # Claimed by the one refund that may call the gateway; cleared again when that call fails.
    refund_requested_at: datetime | None = None
    refunded_at: datetime | None = None
    refund_id: str | None = None
    # Unique (see the index): a listing's verification fee has one order at a time that is open or paid,
    # keyed ``property_verification:<property_id>``, so a second create-order finds it instead of charging
    # twice. Every other order, and a fee order once refunded or superseded, holds a key of its own (its
    # prefix says which). Never null: the index is sparse only so orders stored before the key existed fit.
    purchase_key: str = Field(default_factory=new_id)

    class Settings:
        name = "transactions"
        indexes = [
            IndexModel("order_id", unique=True),
            IndexModel("purchase_key", unique=True, sparse=True),
            IndexModel([("user_id", 1), ("created_at", -1)]),
            IndexModel("payment_id"),
            IndexModel([("payment_status", 1), ("created_at", -1)]),
            IndexModel([("transaction_type", 1), ("created_at", -1)]),
            IndexModel([("metadata.property_id", 1), ("payment_status", 1)]),
        ]

    @property
    def transaction_id(self) -> str:
        return self.id

    def api_view(self) -> dict[str, Any]:
        """The spec's convert_transaction_to_dict shape; the amount in rupees."""
        return {
            "transaction_id": self.id,
            "user_id": self.user_id,
            "transaction_type": self.transaction_type.value,
            "amount": paise_to_rupees(self.amount_paise),
            "currency": self.currency,
            "payment_gateway": self.payment_gateway,
            "payment_id": self.payment_id,
            "order_id": self.order_id,
            "payment_status": self.payment_status.value,
            "is_mock": self.is_mock,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "refunded_at": iso(self.refunded_at),
            "metadata": self.metadata,
        }


def verification_purchase_key(property_id: str) -> str:
    """The key a listing's open or paid verification-fee order holds (``Transaction.purchase_key``)."""
    return f"{TransactionType.PROPERTY_VERIFICATION.value}:{property_id}"


def released_purchase_key(transaction_id: str, why: str) -> str:
    """The key an order takes when it stops holding its listing: refunded, or superseded by a new order."""
    return f"{why}:{transaction_id}"
