"""/api/payments: orders, verification, the Razorpay webhook and the caller's history."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from documents.transaction import TransactionType, TransactionView
from handlers.common import current_user, json_response, parse_body_or_query, parse_query
from handlers.contract import Access, operation
from handlers.paging import ListPage
from homer_rt.appkeys import PAYMENTS
from homer_rt.services.payments.views import OrderResponse, VerifyResponse, WebhookResponse, verify_response

routes = web.RouteTableDef()


def _listing_for_verification(schema: JsonDict) -> None:
    """What the service checks, documented: a verification fee names its listing."""
    schema["if"] = {"properties": {"type": {"const": TransactionType.PROPERTY_VERIFICATION.value}}}
    listing: JsonDict = {
        "required": ["property_id"],
        "properties": {"property_id": {"type": "string", "minLength": 1}},
    }
    schema["then"] = {"required": ["metadata"], "properties": {"metadata": listing}}


class CreateOrderBody(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra=_listing_for_verification)

    # Any text is read; the service answers 400 invalid_payment_type for another (the schema lists them).
    type: str = Field(
        min_length=1, max_length=50, json_schema_extra={"enum": [kind.value for kind in TransactionType]}
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description='For `property_verification`: `{"property_id": "..."}`'
    )


class VerifyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payment_id: str = Field(min_length=1, max_length=255)
    order_id: str = Field(min_length=1, max_length=255)
    signature: str | None = Field(default=None, max_length=512)


@routes.post("/api/payments/create-order")
@operation(
    summary="Create a payment order",
    tags="payments",
    access=Access.USER,
    body=CreateOrderBody,
    body_in_query=True,
    response=OrderResponse,
    # 400: unknown type or no metadata.property_id; 404: no such listing; 409: the listing is already
    # verified, waiting for review or paid, or another user's order for it is open; 502/504: Razorpay
    # failed or did not answer; 503: payments are not configured on this server
    errors=(400, 404, 409, 502, 503, 504),
    description="The server decides the amount and purpose from `type` (`renter_subscription` or "
    "`property_verification`, the latter with `metadata.property_id` of a listing the caller owns) and "
    "stores them with the order. A listing's verification fee has one open order at a time: asking again "
    "returns the same order. `payment_gateway_data` is what Razorpay's checkout takes (amount in paise); "
    "`amount` is in rupees. In mock mode (`is_mock: true`) nothing is charged.",
)
async def create_order(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, CreateOrderBody)
    order = await request.app[PAYMENTS].create_order(user_id=user.id, type=body.type, metadata=body.metadata)
    return json_response(order)


@routes.post("/api/payments/verify")
@operation(
    summary="Verify a payment",
    tags="payments",
    access=Access.USER,
    body=VerifyBody,
    body_in_query=True,
    response=VerifyResponse,
    # 400: the signature does not prove the payment, or the order was made in the other payment mode;
    # 403: another user's order; 404: no such order; 409: the premium subscription is being changed
    # concurrently; 502/504: Razorpay failed or did not answer; 503: payments are not configured
    errors=(400, 403, 404, 409, 502, 503, 504),
    description="Checks Razorpay checkout's signature for (order_id, payment_id) and marks the order paid "
    "exactly once, applying what it bought (premium days, or the listing's verification fee). Verifying "
    "an order that is already paid or refunded answers its current state again.",
)
async def verify(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, VerifyBody)
    transaction = await request.app[PAYMENTS].verify(
        user_id=user.id, order_id=body.order_id, payment_id=body.payment_id, signature=body.signature
    )
    return json_response(verify_response(transaction))


@routes.post("/api/payments/webhook")
@operation(
    summary="Razorpay webhook",
    tags="payments",
    access=Access.PUBLIC,
    response=WebhookResponse,
    # 400: the signature header is missing or wrong, or the signed body is not an event Homer can read;
    # 404/409: the purchase's user is gone, or its premium subscription is being changed concurrently
    # (Razorpay retries); 413: the body is larger than the server accepts; 503: no webhook secret is set
    errors=(400, 404, 409, 413, 503),
    description="Called by Razorpay, not by the frontend. The body is Razorpay's event JSON "
    '(`{"event": "...", "payload": {"payment": {"entity": {...}}}}` or `{"refund": {"entity": {...}}}`) and '
    "must carry the header **`X-Razorpay-Signature`**: the HMAC-SHA256 (hex) of the exact body bytes with "
    "the server's `RAZORPAY_WEBHOOK_SECRET`. `payment.captured` marks the order paid (only for exactly its "
    "amount and currency), `payment.failed` marks a pending order failed, `refund.processed` marks a payment "
    "refunded; each exactly once, through the same transitions as verify and the admin refund. Events that "
    "change nothing (unknown order, another event) are answered 200 with `status: ignored`, so Razorpay "
    "does not send them again.",
)
async def webhook(request: web.Request) -> web.Response:
    # The signature covers the exact bytes Razorpay sent, so the body is read raw, never re-serialized.
    body = await request.read()
    result = await request.app[PAYMENTS].handle_webhook(
        body=body, signature=request.headers.get("X-Razorpay-Signature")
    )
    return json_response(result)


@routes.get("/api/payments/history")
@operation(
    summary="The caller's payments",
    tags="payments",
    access=Access.USER,
    query=ListPage,
    response=list[TransactionView],
    description="Newest first; amounts in rupees.",
)
async def history(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    transactions = await request.app[PAYMENTS].history(user_id=user.id, page=page.page, limit=page.limit)
    return json_response([t.api_view() for t in transactions])
