"""The payment gateways' former module, kept so the imports that still name it (tests) keep working: the
gateways live in homer_rt.services.payments.gateway."""

from __future__ import annotations

from homer_rt.services.payments.gateway import (
    GATEWAY_NAME,
    MockGateway,
    PaymentGateway,
    RazorpayGateway,
    build_gateway,
    require_gateway,
    verify_webhook_signature,
)

__all__ = [
    "GATEWAY_NAME",
    "MockGateway",
    "PaymentGateway",
    "RazorpayGateway",
    "build_gateway",
    "require_gateway",
    "verify_webhook_signature",
]
