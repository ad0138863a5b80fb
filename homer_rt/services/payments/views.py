"""What the payment routes answer: typed views of the JSON the spec's frontend reads, money in rupees."""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from documents.transaction import PaymentStatusName, Transaction, TransactionTypeName


class CheckoutOptions(TypedDict):
    """What the frontend passes to Razorpay's checkout as is: the amount in paise, as checkout takes it."""

    key_id: str
    name: str
    description: str
    order_id: str
    amount: int
    currency: str


class OrderResponse(TypedDict):
    """A created order (or the listing's open one, handed out again)."""

    order_id: str
    amount: int | float  # rupees: whole rupees as integers (750), fractions as two-place decimals
    currency: str
    is_mock: bool
    transaction_id: str
    payment_gateway_data: CheckoutOptions


class VerifyResponse(TypedDict):
    success: Literal[True]
    transaction_id: str
    payment_status: PaymentStatusName
    transaction_type: TransactionTypeName


class WebhookApplied(TypedDict):
    """The event moved the order (or found it already moved): where it stands now."""

    status: Literal["ok"]
    transaction_id: str
    payment_status: PaymentStatusName


class WebhookIgnored(TypedDict):
    """The event changed nothing: Razorpay is answered 200 so that it does not send it again."""

    status: Literal["ignored"]
    reason: NotRequired[str]  # for an event Homer handles: why it did not apply
    event: NotRequired[Any]  # for an event Homer does not handle: its name, echoed as sent


WebhookResponse = WebhookApplied | WebhookIgnored


def verify_response(transaction: Transaction) -> VerifyResponse:
    return {
        "success": True,
        "transaction_id": transaction.id,
        "payment_status": transaction.payment_status.value,
        "transaction_type": transaction.transaction_type.value,
    }


def webhook_applied(transaction: Transaction) -> WebhookApplied:
    return {
        "status": "ok",
        "transaction_id": transaction.id,
        "payment_status": transaction.payment_status.value,
    }
