"""A local fake of the Razorpay REST API (the few endpoints Homer RT calls), for real-mode tests.

It checks Basic auth like Razorpay, answers in Razorpay's shapes, and can be told to fail (HTTP 500 with
Razorpay's error body) or to answer slower than the client's timeout.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

KEY_ID = "rzp_test_homer"
KEY_SECRET = "test_key_secret_0123456789"
WEBHOOK_SECRET = "test_webhook_secret_0123456789"


@dataclass
class FakeRazorpay:
    key_id: str = KEY_ID
    key_secret: str = KEY_SECRET
    fail_with_status: int | None = None
    delay_seconds: float = 0.0
    base_url: str = ""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/v1/orders", self._create_order)
        app.router.add_get("/v1/orders/{order_id}", self._fetch_order)
        app.router.add_post("/v1/payments/{payment_id}/refund", self._refund)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        expected = "Basic " + base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return _error(401, "BAD_REQUEST_ERROR", "The api key provided is invalid")
        if self.fail_with_status is not None:
            return _error(self.fail_with_status, "SERVER_ERROR", "The server encountered an error")
        response: web.StreamResponse = await handler(request)
        return response

    def _next(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):010d}"

    async def _create_order(self, request: web.Request) -> web.Response:
        body = await request.json()
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return _error(400, "BAD_REQUEST_ERROR", "The amount must be atleast INR 1.00")
        order = {
            "id": self._next("order"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": body.get("currency", "INR"),
            "receipt": body.get("receipt"),
            "status": "created",
            "attempts": 0,
            "notes": body.get("notes", {}),
            "created_at": 1700000000,
        }
        self.orders[order["id"]] = order
        return web.json_response(order)

    async def _fetch_order(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
        return web.json_response(order)

    async def _refund(self, request: web.Request) -> web.Response:
        body = await request.json()
        refund = {
            "id": self._next("rfnd"),
            "entity": "refund",
            "amount": body.get("amount"),
            "currency": "INR",
            "payment_id": request.match_info["payment_id"],
            "notes": body.get("notes", {}),
            "status": "processed",
            "created_at": 1700000000,
        }
        self.refunds.append(refund)
        return web.json_response(refund)


def _error(status: int, code: str, description: str) -> web.Response:
    return web.json_response({"error": {"code": code, "description": description}}, status=status)
