"""The transactions collection: the spec's Transaction model, money as integer paise.

One document per payment order the server created. The order id is unique, so a purpose, amount and
owner are fixed at create time and every later step (verify, webhook, refund) looks them up here.

Every change to a stored transaction is one of the guarded operations below (``Transaction.mark_success``
and the rest): each is a single atomic update whose filter names the state it leaves, so of concurrent
callers exactly one changes the document and the others get None back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from beanie import Document
from pydantic import Field
from pymongo import IndexModel, ReturnDocument
from typing_extensions import TypedDict

from documents.base import collection_of, new_id
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


TransactionTypeName = Literal["renter_subscription", "property_verification"]
PaymentStatusName = Literal["pending", "success", "failed", "refunded"]


class TransactionView(TypedDict):
    """The spec's convert_transaction_to_dict shape (``Transaction.api_view``)."""

    transaction_id: str
    user_id: str
    transaction_type: TransactionTypeName
    amount: int | float  # rupees: whole rupees as integers (750), fractions as two-place decimals
    currency: str
    payment_gateway: str
    payment_id: str | None
    order_id: str
    payment_status: PaymentStatusName
    is_mock: bool
    created_at: str
    updated_at: str
    refunded_at: str | None
    # What the order was for: {"property_id"} for a verification fee, {"subscription_days"} for premium.
    metadata: dict[str, Any]


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
    # prefix says which). Never null.
    purchase_key: str = Field(default_factory=new_id)

    class Settings:
        name = "transactions"
        indexes = [
            IndexModel("order_id", unique=True),
            IndexModel("purchase_key", unique=True),
            IndexModel([("user_id", 1), ("created_at", -1)]),
            IndexModel("payment_id"),
            IndexModel([("payment_status", 1), ("created_at", -1)]),
            IndexModel([("transaction_type", 1), ("created_at", -1)]),
            IndexModel([("metadata.property_id", 1), ("payment_status", 1)]),
        ]

    @property
    def transaction_id(self) -> str:
        return self.id

    def api_view(self) -> TransactionView:
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

    # ------------------------------------------------------------------ guarded operations

    @classmethod
    async def supersede(cls, transaction_id: str, *, purchase_key: str, now: datetime) -> None:
        """The order stops holding its listing's ``purchase_key`` (it was made in the other payment mode).

        Guard: still holding that key and still unpaid (pending or failed), so a paid order keeps it.
        """
        await collection_of(cls).update_one(
            {
                "_id": transaction_id,
                "purchase_key": purchase_key,
                "payment_status": {"$in": [PaymentStatus.PENDING.value, PaymentStatus.FAILED.value]},
            },
            {
                "$set": {
                    "purchase_key": released_purchase_key(transaction_id, "superseded"),
                    "updated_at": now,
                }
            },
        )

    @classmethod
    async def mark_success(cls, transaction_id: str, *, payment_id: str, now: datetime) -> Transaction | None:
        """pending/failed -> success, with the payment that paid it; None when it was not pending or failed.

        Guard: the status it leaves, so of concurrent verifies and webhooks exactly one wins, and that one
        applies the purchase's effect.
        """
        raw = await collection_of(cls).find_one_and_update(
            {
                "_id": transaction_id,
                # A failed attempt does not close a Razorpay order: a later attempt may still pay it.
                "payment_status": {"$in": [PaymentStatus.PENDING.value, PaymentStatus.FAILED.value]},
            },
            {
                "$set": {
                    "payment_status": PaymentStatus.SUCCESS.value,
                    "payment_id": payment_id,
                    "failure_reason": None,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def mark_applied(cls, transaction_id: str, *, now: datetime) -> Transaction | None:
        """Record that the purchase's effect is in place; None when it was already recorded.

        Guard: ``applied_at`` still unset, so the first record stands.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"_id": transaction_id, "applied_at": None},
            {"$set": {"applied_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def mark_failed(
        cls, order_id: str, *, reason: str, payment_id: str | None, now: datetime
    ) -> Transaction | None:
        """pending -> failed, with the attempt's payment and reason; None when the order was not pending.

        Guard: pending only, so a failure reported late never undoes a success or a refund.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"order_id": order_id, "payment_status": PaymentStatus.PENDING.value},
            {
                "$set": {
                    "payment_status": PaymentStatus.FAILED.value,
                    "failure_reason": reason,
                    "payment_id": payment_id,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def claim_refund(cls, transaction_id: str, *, now: datetime) -> Transaction | None:
        """Claim the right to call the gateway's refund; None when the payment may not be refunded now.

        Guard: successful, not already claimed, and its effect in place (so the refund takes back what was
        given): of concurrent refunds exactly one calls the gateway.
        """
        raw = await collection_of(cls).find_one_and_update(
            {
                "_id": transaction_id,
                "payment_status": PaymentStatus.SUCCESS.value,
                "refund_requested_at": None,
                "applied_at": {"$ne": None},
            },
            {"$set": {"refund_requested_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def release_refund_claim(cls, transaction_id: str) -> None:
        """Give the refund claim back (the gateway call failed), so the refund can be tried again.

        Guard: still successful; a payment refunded meanwhile (by the webhook) keeps its claim.
        """
        await collection_of(cls).update_one(
            {"_id": transaction_id, "payment_status": PaymentStatus.SUCCESS.value},
            {"$set": {"refund_requested_at": None}},
        )

    @classmethod
    async def mark_refunded(
        cls, transaction_id: str, *, refund_id: str | None, now: datetime
    ) -> Transaction | None:
        """success -> refunded; None when it was not successful (already refunded, say).

        Guard: the status it leaves, so of an admin's refund and Razorpay's webhook exactly one wins and
        takes the purchase's effect back. The order releases its ``purchase_key``: a refunded verification
        fee no longer holds its listing, so the owner may order (and pay) it again.
        """
        changes: dict[str, Any] = {
            "payment_status": PaymentStatus.REFUNDED.value,
            "refunded_at": now,
            "updated_at": now,
            "purchase_key": released_purchase_key(transaction_id, "refunded"),
        }
        if refund_id:
            changes["refund_id"] = refund_id
        raw = await collection_of(cls).find_one_and_update(
            {"_id": transaction_id, "payment_status": PaymentStatus.SUCCESS.value},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)


def verification_purchase_key(property_id: str) -> str:
    """The key a listing's open or paid verification-fee order holds (``Transaction.purchase_key``)."""
    return f"{TransactionType.PROPERTY_VERIFICATION.value}:{property_id}"


def released_purchase_key(transaction_id: str, why: str) -> str:
    """The key an order takes when it stops holding its listing: refunded, or superseded by a new order."""
    return f"{why}:{transaction_id}"
