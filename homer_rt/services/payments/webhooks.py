"""Razorpay's webhook: signed events that capture, fail or refund a payment, applied through the same guarded
transitions as verify and refund."""

from __future__ import annotations

import json
import logging
from typing import Any

from documents.transaction import Transaction
from homer_rt.errors import BadRequest, ServiceUnavailable
from homer_rt.services.audit import AdminActor
from homer_rt.services.payments.core import PURCHASE_DESCRIPTIONS
from homer_rt.services.payments.gateway import verify_webhook_signature
from homer_rt.services.payments.refunds import PaymentRefunds
from homer_rt.services.payments.verify import PaymentVerification
from homer_rt.services.payments.views import WebhookResponse, webhook_applied

log = logging.getLogger(__name__)

# Who the audit log names for what a Razorpay webhook did (a refund made in Razorpay's dashboard, say): no
# admin of ours acted, and the webhook's caller is Razorpay.
WEBHOOK_ACTOR = AdminActor(admin_id="razorpay_webhook", ip_address=None, user_agent=None)


class PaymentWebhooks(PaymentVerification, PaymentRefunds):
    async def handle_webhook(self, *, body: bytes, signature: str | None) -> WebhookResponse:
        secret = self._settings.razorpay_webhook_secret
        if not secret:
            raise ServiceUnavailable("Webhooks are not configured (RAZORPAY_WEBHOOK_SECRET)")
        if not signature or not verify_webhook_signature(body=body, signature=signature, secret=secret):
            raise BadRequest("Invalid webhook signature", code="invalid_signature")
        try:
            event = json.loads(body)
        except (ValueError, RecursionError) as exc:  # ValueError: bad JSON or UTF-8; Recursion: too deep
            raise BadRequest("Webhook body is not valid JSON", code="malformed_json") from exc
        if not isinstance(event, dict):
            raise BadRequest("Webhook body must be a JSON object", code="malformed_json")
        name = event.get("event")
        payload = event.get("payload")
        if not isinstance(payload, dict):
            payload = {}
        if name == "payment.captured":
            return await self._webhook_captured(_entity(payload, "payment"))
        if name == "payment.failed":
            return await self._webhook_failed(_entity(payload, "payment"))
        if name == "refund.processed":
            return await self._webhook_refunded(_entity(payload, "refund"))
        return {"status": "ignored", "event": name}

    async def _webhook_captured(self, payment: dict[str, Any]) -> WebhookResponse:
        order_id, payment_id = payment.get("order_id"), payment.get("id")
        if not isinstance(order_id, str) or not isinstance(payment_id, str):
            raise BadRequest("payment entity needs id and order_id", code="malformed_webhook")
        transaction = await Transaction.find_one({"order_id": order_id})
        if transaction is None:
            return {"status": "ignored", "reason": "unknown order"}
        # Applied only for exactly what the order asked: Razorpay always sends both. Ignored, not refused
        # (like an unknown order): the same signed body would come back on every retry a 4xx triggers.
        amount, currency = payment.get("amount"), payment.get("currency")
        if type(amount) is not int or currency != transaction.currency or amount != transaction.amount_paise:
            log.error(
                "webhook: order %s captured amount %r currency %r, the order is %s %s: not applied",
                order_id,
                amount,
                currency,
                transaction.amount_paise,
                transaction.currency,
            )
            return {"status": "ignored", "reason": "amount or currency missing or not the order's"}
        result = await self._mark_success(transaction=transaction, payment_id=payment_id)
        return webhook_applied(result)

    async def _webhook_failed(self, payment: dict[str, Any]) -> WebhookResponse:
        order_id = payment.get("order_id")
        if not isinstance(order_id, str):
            raise BadRequest("payment entity needs order_id", code="malformed_webhook")
        reason, payment_id = payment.get("error_description"), payment.get("id")
        failed = await Transaction.mark_failed(
            order_id,
            reason=str(reason) if reason else "payment failed",
            # Only a string is stored: anything else would fail the transaction's model on every later read.
            payment_id=payment_id if isinstance(payment_id, str) else None,
            now=self._clock.now(),
        )
        if failed is None:
            return {"status": "ignored", "reason": "order not pending"}
        await self._notifications.notify(
            user_id=failed.user_id,
            type="payment_failed",
            title="Payment failed",
            message=f"Your payment for {PURCHASE_DESCRIPTIONS[failed.transaction_type]} did not go through.",
            action_url="/payments/history",
        )
        return webhook_applied(failed)

    async def _webhook_refunded(self, refund: dict[str, Any]) -> WebhookResponse:
        payment_id, refund_id = refund.get("payment_id"), refund.get("id")
        if not isinstance(payment_id, str):
            raise BadRequest("refund entity needs payment_id", code="malformed_webhook")
        transaction = await Transaction.find_one({"payment_id": payment_id})
        if transaction is None:
            return {"status": "ignored", "reason": "unknown payment"}
        result = await self._mark_refunded(
            transaction_id=transaction.id,
            refund_id=str(refund_id) if refund_id else None,
            actor=WEBHOOK_ACTOR,
        )
        return webhook_applied(result)


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    if not isinstance(entity, dict):
        raise BadRequest(f"Webhook payload has no {name} entity", code="malformed_webhook")
    return entity
