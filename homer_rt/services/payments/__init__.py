"""Payments: orders the server prices, verification by signature or webhook, effects applied once.

Every state change is one atomic single-document update guarded on the state it leaves:
- pending/failed -> success: exactly one caller wins and applies the purchase's effect;
- success -> refunded: exactly one caller wins and takes the effect back (a verification fee's refund also
  withdraws the verification it paid for);
- a refund is claimed (refund_requested_at) before the gateway is called, so two admins never refund twice;
- a listing's verification fee has at most one open or paid order, held by a unique key
  (Transaction.purchase_key): a second create-order gets that order back instead of a second charge.

PaymentService is assembled from one class per behaviour, each in its own module: core (dependencies),
orders, verify (a payment's signature and its success, once), effects (what a purchase gives and a refund
takes back), refunds, webhooks, queries (history and lookups) and reminders. Each class inherits the
behaviours it calls, so the service's MRO is their dependency graph. The gateways (Razorpay, the offline
mock) are in gateway.
"""

from __future__ import annotations

from homer_rt.services.payments.core import CURRENCY
from homer_rt.services.payments.gateway import (
    GATEWAY_NAME,
    MockGateway,
    PaymentGateway,
    RazorpayGateway,
    build_gateway,
    require_gateway,
    verify_webhook_signature,
)
from homer_rt.services.payments.service import PaymentService
from homer_rt.services.payments.webhooks import WEBHOOK_ACTOR

__all__ = [
    "CURRENCY",
    "GATEWAY_NAME",
    "WEBHOOK_ACTOR",
    "MockGateway",
    "PaymentGateway",
    "PaymentService",
    "RazorpayGateway",
    "build_gateway",
    "require_gateway",
    "verify_webhook_signature",
]
