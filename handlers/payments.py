"""/api/payments: orders, verification, the Razorpay webhook and the caller's history."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from handlers.common import current_user, json_response, parse_body_or_query, parse_query
from handlers.paging import ListPage
from homer_rt.appkeys import PAYMENTS
from homer_rt.services.payments.views import verify_response

routes = web.RouteTableDef()


class CreateOrderBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(min_length=1, max_length=50)
    metadata: dict[str, Any] = Field(default_factory=dict)


class VerifyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payment_id: str = Field(min_length=1, max_length=255)
    order_id: str = Field(min_length=1, max_length=255)
    signature: str | None = Field(default=None, max_length=512)


@routes.post("/api/payments/create-order")
async def create_order(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, CreateOrderBody)
    order = await request.app[PAYMENTS].create_order(user_id=user.id, type=body.type, metadata=body.metadata)
    return json_response(order)


@routes.post("/api/payments/verify")
async def verify(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body_or_query(request, VerifyBody)
    transaction = await request.app[PAYMENTS].verify(
        user_id=user.id, order_id=body.order_id, payment_id=body.payment_id, signature=body.signature
    )
    return json_response(verify_response(transaction))


@routes.post("/api/payments/webhook")
async def webhook(request: web.Request) -> web.Response:
    # The signature covers the exact bytes Razorpay sent, so the body is read raw, never re-serialized.
    body = await request.read()
    result = await request.app[PAYMENTS].handle_webhook(
        body=body, signature=request.headers.get("X-Razorpay-Signature")
    )
    return json_response(result)


@routes.get("/api/payments/history")
async def history(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = parse_query(request, ListPage)
    transactions = await request.app[PAYMENTS].history(user_id=user.id, page=page.page, limit=page.limit)
    return json_response([t.api_view() for t in transactions])
