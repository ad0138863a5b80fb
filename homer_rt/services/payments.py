"""Payments: orders the server prices, verification by signature or webhook, effects applied once.

Every state change is one atomic single-document update guarded on the state it leaves:
- pending/failed -> success: exactly one caller wins and applies the purchase's effect;
- success -> refunded: exactly one caller wins and takes the effect back (a verification fee's refund also
  withdraws the verification it paid for);
- a refund is claimed (refund_requested_at) before the gateway is called, so two admins never refund twice;
- a listing's verification fee has at most one open or paid order, held by a unique key
  (Transaction.purchase_key): a second create-order gets that order back instead of a second charge.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of
from documents.property import Property, PropertyStatus, VerificationTier
from documents.transaction import (
    PaymentStatus,
    Transaction,
    TransactionType,
    released_purchase_key,
    verification_purchase_key,
)
from documents.user import SubscriptionTier, User
from homer_rt.clock import Clock, as_utc
from homer_rt.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable
from homer_rt.money import paise_to_rupees
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AdminActor, AuditLog, Outcome
from homer_rt.services.notifications import NotificationService
from homer_rt.services.payment_gateway import (
    GATEWAY_NAME,
    PaymentGateway,
    require_gateway,
    verify_webhook_signature,
)
from homer_rt.services.verification_grants import withdraw_owner_verification
from homer_rt.settings import Settings

log = logging.getLogger(__name__)

CURRENCY = "INR"
# Optimistic retries for the subscription compare-and-set; contention on one user is a handful at most.
_CAS_ATTEMPTS = 20

# Who the audit log names for what a Razorpay webhook did (a refund made in Razorpay's dashboard, say): no
# admin of ours acted, and the webhook's caller is Razorpay.
WEBHOOK_ACTOR = AdminActor(admin_id="razorpay_webhook", ip_address=None, user_agent=None)

_DESCRIPTIONS = {
    TransactionType.RENTER_SUBSCRIPTION: "Premium Subscription",
    TransactionType.PROPERTY_VERIFICATION: "Property Verification",
}


def _ms(value: datetime) -> datetime:
    """BSON keeps milliseconds: store what reads back identically, so compare-and-set filters match."""
    value = as_utc(value)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


class PaymentService:
    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        gateway: PaymentGateway | None,
        notifications: NotificationService,
        audit: AuditLog,
        feed: AdminFeed | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._gateway = gateway
        self._notifications = notifications
        self._audit = audit
        self._feed = feed

    @property
    def is_mock(self) -> bool:
        return self._gateway is not None and self._gateway.is_mock

    # ------------------------------------------------------------------ orders

    def _price_paise(self, kind: TransactionType) -> int:
        if kind is TransactionType.RENTER_SUBSCRIPTION:
            return self._settings.subscription_price_inr * 100
        return self._settings.property_verification_price_inr * 100

    async def _own_property(self, *, property_id: str, user_id: str) -> Property:
        prop = await Property.get(property_id)
        if prop is None or prop.status == PropertyStatus.DELETED:
            raise NotFound("Property not found", code="property_not_found")
        if prop.owner_id != user_id:
            raise Forbidden("Not authorized for this property", code="not_property_owner")
        return prop

    async def create_order(self, *, user_id: str, type: str, metadata: dict[str, Any]) -> dict[str, Any]:
        gateway = require_gateway(self._gateway)
        try:
            kind = TransactionType(type)
        except ValueError as exc:
            raise BadRequest(
                "type must be renter_subscription or property_verification", code="invalid_payment_type"
            ) from exc
        stored_metadata: dict[str, Any]
        purchase_key: str | None = None
        if kind is TransactionType.PROPERTY_VERIFICATION:
            property_id = metadata.get("property_id")
            if not isinstance(property_id, str) or not property_id:
                raise BadRequest("metadata.property_id is required", code="property_id_required")
            prop = await self._own_property(property_id=property_id, user_id=user_id)
            if prop.is_verified or prop.verification_tier == VerificationTier.VERIFIED:
                raise Conflict("This property is already verified", code="already_verified")
            if prop.verification_tier == VerificationTier.PENDING:
                raise Conflict(
                    "This property's verification is already waiting for review", code="already_pending"
                )
            if prop.verification_fee_paid:
                raise Conflict("The verification fee for this property is already paid", code="already_paid")
            purchase_key = verification_purchase_key(property_id)
            open_order = await self._open_order(purchase_key=purchase_key, user_id=user_id, gateway=gateway)
            if open_order is not None:
                return self._order_view(open_order, key_id=gateway.key_id)
            stored_metadata = {"property_id": property_id}
        else:
            stored_metadata = {"subscription_days": self._settings.subscription_days}

        amount_paise = self._price_paise(kind)
        transaction_id = str(uuid.uuid4())
        order_id = await gateway.create_order(
            amount_paise=amount_paise,
            currency=CURRENCY,
            receipt=transaction_id,
            notes={"user_id": user_id, "purpose": kind.value, "transaction_id": transaction_id},
        )
        now = self._clock.now()
        transaction = Transaction(
            id=transaction_id,
            user_id=user_id,
            transaction_type=kind,
            amount_paise=amount_paise,
            currency=CURRENCY,
            payment_gateway=GATEWAY_NAME,
            order_id=order_id,
            is_mock=gateway.is_mock,
            created_at=now,
            updated_at=now,
            metadata=stored_metadata,
            purchase_key=purchase_key or transaction_id,
        )
        try:
            await transaction.insert()
        except DuplicateKeyError as exc:
            if purchase_key is not None:
                # A concurrent create-order for this listing stored its order first: that one is the listing's
                # order. The gateway order made here is never shown to anyone, so it is never paid.
                winner = await self._open_order(purchase_key=purchase_key, user_id=user_id, gateway=gateway)
                if winner is not None:
                    return self._order_view(winner, key_id=gateway.key_id)
            raise Conflict("Order id collision; try again", code="order_conflict") from exc
        return self._order_view(transaction, key_id=gateway.key_id)

    async def _open_order(
        self, *, purchase_key: str, user_id: str, gateway: PaymentGateway
    ) -> Transaction | None:
        """The listing's order that is still to be paid, to hand out again; None when a new one may be made.

        A failed attempt leaves its order open (Razorpay lets the same order be paid by a later attempt, and
        so does _mark_success), so a failed order is handed out again too: a new order beside it could be
        paid as well. A paid one means the fee is paid (409).
        """
        holder = await Transaction.find_one({"purchase_key": purchase_key})
        if holder is None:
            return None
        if holder.payment_status is PaymentStatus.SUCCESS:
            raise Conflict("The verification fee for this property is already paid", code="already_paid")
        if holder.is_mock != gateway.is_mock:
            # Made in the other payment mode, it can never be verified here: it stops holding the listing.
            await collection_of(Transaction).update_one(
                {
                    "_id": holder.id,
                    "purchase_key": purchase_key,
                    "payment_status": {"$in": [PaymentStatus.PENDING.value, PaymentStatus.FAILED.value]},
                },
                {
                    "$set": {
                        "purchase_key": released_purchase_key(holder.id, "superseded"),
                        "updated_at": self._clock.now(),
                    }
                },
            )
            return None
        if holder.user_id != user_id:
            raise Conflict("Another order for this property is open", code="order_open")
        return holder

    def _order_view(self, transaction: Transaction, *, key_id: str) -> dict[str, Any]:
        """What create-order answers, for a new order or the listing's open one alike."""
        return {
            "order_id": transaction.order_id,
            "amount": paise_to_rupees(transaction.amount_paise),
            "currency": transaction.currency,
            "is_mock": transaction.is_mock,
            "transaction_id": transaction.id,
            "payment_gateway_data": {
                "key_id": key_id,
                "name": self._settings.app_name,
                "description": _DESCRIPTIONS[transaction.transaction_type],
                "order_id": transaction.order_id,
                "amount": transaction.amount_paise,
                "currency": transaction.currency,
            },
        }

    # ------------------------------------------------------------------ verify

    async def verify(
        self, *, user_id: str, order_id: str, payment_id: str, signature: str | None
    ) -> Transaction:
        transaction = await Transaction.find_one({"order_id": order_id})
        if transaction is None:
            raise NotFound("Order not found", code="order_not_found")
        if transaction.user_id != user_id:
            raise Forbidden("This order belongs to another user", code="not_order_owner")
        if transaction.payment_status in (PaymentStatus.SUCCESS, PaymentStatus.REFUNDED):
            # Idempotent: the same order verified again answers with the same transaction.
            return transaction
        gateway = require_gateway(self._gateway)
        if transaction.is_mock != gateway.is_mock:
            raise BadRequest(
                "This order was created in another payment mode and cannot be verified here",
                code="payment_mode_mismatch",
            )
        if not await gateway.verify_payment(order_id=order_id, payment_id=payment_id, signature=signature):
            raise BadRequest("Payment verification failed", code="invalid_signature")
        return await self._mark_success(transaction=transaction, payment_id=payment_id)

    async def _mark_success(self, *, transaction: Transaction, payment_id: str) -> Transaction:
        now = self._clock.now()
        raw = await collection_of(Transaction).find_one_and_update(
            {
                "_id": transaction.id,
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
        if raw is None:
            # Another verify or the webhook won the transition; it applies the effect.
            current = await Transaction.get(transaction.id)
            if current is None:
                raise NotFound("Order not found", code="order_not_found")
            return current
        won: Transaction = Transaction.model_validate(raw)
        await self._apply_effect(won)
        applied = await collection_of(Transaction).find_one_and_update(
            {"_id": won.id, "applied_at": None},
            {"$set": {"applied_at": self._clock.now()}},
            return_document=ReturnDocument.AFTER,
        )
        if applied is None:
            return won
        done: Transaction = Transaction.model_validate(applied)
        return done

    async def _apply_effect(self, transaction: Transaction) -> None:
        if transaction.transaction_type is TransactionType.RENTER_SUBSCRIPTION:
            days = int(transaction.metadata.get("subscription_days", self._settings.subscription_days))
            user = await self._extend_subscription(user_id=transaction.user_id, days=days)
            end = user.subscription_end.date().isoformat() if user.subscription_end else ""
            await self._notifications.notify(
                user_id=transaction.user_id,
                type="payment_success",
                title="You're Premium!",
                message=f"Payment received. Your premium subscription is active until {end}.",
                action_url="/payments/history",
            )
            return
        property_id = str(transaction.metadata.get("property_id", ""))
        await collection_of(Property).update_one(
            {"_id": property_id},
            {
                "$set": {
                    "verification_fee_paid": True,
                    "payment_id": transaction.payment_id,
                    "updated_at": self._clock.now(),
                }
            },
        )
        await self._notifications.notify(
            user_id=transaction.user_id,
            type="payment_success",
            title="Verification fee paid",
            message="Payment received. Submit your property's documents to get the verified badge.",
            action_url=f"/properties/{property_id}",
        )

    async def _extend_subscription(self, *, user_id: str, days: int) -> User:
        """Premium for ``days`` from now, or from the current end when renewing early (renewals stack)."""
        collection = collection_of(User)
        for _ in range(_CAS_ATTEMPTS):
            user = await User.get(user_id)
            if user is None:
                raise NotFound("User not found", code="user_not_found")
            now = self._clock.now()
            active = user.is_premium(now) and user.subscription_end is not None
            base = as_utc(user.subscription_end) if active and user.subscription_end else now
            start = user.subscription_start if active and user.subscription_start else now
            raw = await collection.find_one_and_update(
                {"_id": user_id, "subscription_end": user.subscription_end},
                {
                    "$set": {
                        "subscription_tier": SubscriptionTier.PREMIUM.value,
                        "subscription_start": _ms(start),
                        "subscription_end": _ms(base + timedelta(days=days)),
                        "contacts_used": 0,
                    }
                },
                return_document=ReturnDocument.AFTER,
            )
            if raw is not None:
                extended: User = User.model_validate(raw)
                return extended
        raise Conflict("Subscription is being changed concurrently; try again", code="subscription_busy")

    async def _shorten_subscription(self, *, user_id: str, days: int) -> None:
        collection = collection_of(User)
        for _ in range(_CAS_ATTEMPTS):
            user = await User.get(user_id)
            if user is None:
                return
            now = self._clock.now()
            new_end = (
                _ms(as_utc(user.subscription_end) - timedelta(days=days)) if user.subscription_end else None
            )
            changes: dict[str, Any] = {"subscription_end": new_end}
            if new_end is None or new_end <= now:
                changes["subscription_tier"] = SubscriptionTier.FREE.value
            raw = await collection.find_one_and_update(
                {"_id": user_id, "subscription_end": user.subscription_end},
                {"$set": changes},
                return_document=ReturnDocument.AFTER,
            )
            if raw is not None:
                return
        raise Conflict("Subscription is being changed concurrently; try again", code="subscription_busy")

    # ------------------------------------------------------------------ webhook

    async def handle_webhook(self, *, body: bytes, signature: str | None) -> dict[str, Any]:
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

    async def _webhook_captured(self, payment: dict[str, Any]) -> dict[str, Any]:
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
        return {"status": "ok", "transaction_id": result.id, "payment_status": result.payment_status.value}

    async def _webhook_failed(self, payment: dict[str, Any]) -> dict[str, Any]:
        order_id = payment.get("order_id")
        if not isinstance(order_id, str):
            raise BadRequest("payment entity needs order_id", code="malformed_webhook")
        reason = payment.get("error_description")
        raw = await collection_of(Transaction).find_one_and_update(
            {"order_id": order_id, "payment_status": PaymentStatus.PENDING.value},
            {
                "$set": {
                    "payment_status": PaymentStatus.FAILED.value,
                    "failure_reason": str(reason) if reason else "payment failed",
                    "payment_id": payment.get("id"),
                    "updated_at": self._clock.now(),
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return {"status": "ignored", "reason": "order not pending"}
        failed = Transaction.model_validate(raw)
        await self._notifications.notify(
            user_id=failed.user_id,
            type="payment_failed",
            title="Payment failed",
            message=f"Your payment for {_DESCRIPTIONS[failed.transaction_type]} did not go through.",
            action_url="/payments/history",
        )
        return {"status": "ok", "transaction_id": failed.id, "payment_status": failed.payment_status.value}

    async def _webhook_refunded(self, refund: dict[str, Any]) -> dict[str, Any]:
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
        return {"status": "ok", "transaction_id": result.id, "payment_status": result.payment_status.value}

    # ------------------------------------------------------------------ refunds

    async def refund(self, *, transaction_id: str, actor: AdminActor) -> Transaction:
        """An admin refund: the gateway is called once however many admins click at the same moment.

        Written to the admin audit log whether it succeeds or fails (unexpected failures included).
        """

        async def work() -> Outcome[Transaction]:
            before, after = await self._refund(transaction_id=transaction_id, actor=actor)
            return Outcome(
                after,
                details={
                    "user_id": after.user_id,
                    "transaction_type": after.transaction_type.value,
                    "amount": paise_to_rupees(after.amount_paise),
                    "refund_id": after.refund_id,
                    "is_mock": after.is_mock,
                },
                old_value={"payment_status": before.payment_status.value},
                new_value={"payment_status": after.payment_status.value, "refund_id": after.refund_id},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="transaction_refund",
            entity_type="transaction",
            entity_id=transaction_id,
            details={"transaction_id": transaction_id},
            work=work,
        )

    async def _refund(self, *, transaction_id: str, actor: AdminActor) -> tuple[Transaction, Transaction]:
        transaction = await self.get(transaction_id=transaction_id)
        if transaction.payment_status is PaymentStatus.REFUNDED:
            raise Conflict("This payment is already refunded", code="already_refunded")
        if transaction.payment_status is not PaymentStatus.SUCCESS or not transaction.payment_id:
            raise BadRequest("Only successful payments can be refunded", code="not_refundable")
        gateway = require_gateway(self._gateway)
        if transaction.is_mock != gateway.is_mock:
            raise BadRequest(
                "This payment was made in another payment mode and cannot be refunded here",
                code="payment_mode_mismatch",
            )
        collection = collection_of(Transaction)
        claimed = await collection.find_one_and_update(
            {
                "_id": transaction.id,
                "payment_status": PaymentStatus.SUCCESS.value,
                "refund_requested_at": None,
                # Only once the purchase's effect is in place, so the refund takes back what was given.
                "applied_at": {"$ne": None},
            },
            {"$set": {"refund_requested_at": self._clock.now()}},
            return_document=ReturnDocument.AFTER,
        )
        if claimed is None:
            current = await self.get(transaction_id=transaction_id)
            if current.payment_status is PaymentStatus.REFUNDED:
                raise Conflict("This payment is already refunded", code="already_refunded")
            if current.applied_at is None:
                raise Conflict("This payment is still being processed; try again", code="payment_processing")
            raise Conflict("A refund of this payment is already in progress", code="refund_in_progress")
        try:
            refund_id = await gateway.refund(
                payment_id=transaction.payment_id,
                amount_paise=transaction.amount_paise,
                notes={"transaction_id": transaction.id, "purpose": transaction.transaction_type.value},
            )
        except BaseException:
            # Release the claim so the refund can be tried again once the gateway answers.
            await collection.update_one(
                {"_id": transaction.id, "payment_status": PaymentStatus.SUCCESS.value},
                {"$set": {"refund_requested_at": None}},
            )
            raise
        refunded = await self._mark_refunded(transaction_id=transaction.id, refund_id=refund_id, actor=actor)
        return transaction, refunded

    async def _mark_refunded(
        self, *, transaction_id: str, refund_id: str | None, actor: AdminActor
    ) -> Transaction:
        """``actor`` is who the audit log names for the verification a refunded fee withdraws."""
        now = self._clock.now()
        changes: dict[str, Any] = {
            "payment_status": PaymentStatus.REFUNDED.value,
            "refunded_at": now,
            "updated_at": now,
            # A refunded fee no longer holds its listing: the owner may order (and pay) it again.
            "purchase_key": released_purchase_key(transaction_id, "refunded"),
        }
        if refund_id:
            changes["refund_id"] = refund_id
        raw = await collection_of(Transaction).find_one_and_update(
            {"_id": transaction_id, "payment_status": PaymentStatus.SUCCESS.value},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            # Already refunded (the webhook for our own refund can arrive first): nothing more to undo.
            return await self.get(transaction_id=transaction_id)
        refunded: Transaction = Transaction.model_validate(raw)
        await self._undo_effect(refunded, actor=actor)
        return refunded

    async def _undo_effect(self, transaction: Transaction, *, actor: AdminActor) -> None:
        amount = paise_to_rupees(transaction.amount_paise)
        if transaction.transaction_type is TransactionType.RENTER_SUBSCRIPTION:
            if transaction.applied_at is not None:
                days = int(transaction.metadata.get("subscription_days", self._settings.subscription_days))
                await self._shorten_subscription(user_id=transaction.user_id, days=days)
            message = f"Your premium subscription payment of ₹{amount} was refunded."
        else:
            message = f"Your property verification fee of ₹{amount} was refunded."
        await self._notifications.notify(
            user_id=transaction.user_id,
            type="payment_refunded",
            title="Payment refunded",
            message=message,
            action_url="/payments/history",
        )
        if transaction.transaction_type is TransactionType.PROPERTY_VERIFICATION:
            await self._withdraw_verification(transaction, actor=actor)

    async def _withdraw_verification(self, transaction: Transaction, *, actor: AdminActor) -> None:
        """A refunded fee no longer pays for the listing's verification: what it paid for (the verified badge,
        or a request waiting for review) is withdrawn, with the owner's badge when this listing gave it.

        Runs once per refund (only the caller that moved the payment to refunded gets here), so the owner is
        told once and the audit log has one entry, whether an admin or Razorpay's webhook refunded first.
        """
        if transaction.payment_id is None:
            return  # never paid, so it paid for nothing (and None must not match listings without a payment)
        property_id = str(transaction.metadata.get("property_id", ""))
        now = self._clock.now()
        before_raw = await collection_of(Property).find_one_and_update(
            # Guarded on this payment: a listing it did not pay for keeps what it has.
            {"_id": property_id, "payment_id": transaction.payment_id},
            {
                "$set": {
                    "verification_fee_paid": False,
                    "payment_id": None,
                    "is_verified": False,
                    "verification_tier": VerificationTier.FREE.value,
                    "verification_date": None,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.BEFORE,
        )
        if before_raw is None:
            return
        before = Property.model_validate(before_raw)
        was_verified = before.is_verified or before.verification_tier == VerificationTier.VERIFIED
        was_pending = before.verification_tier == VerificationTier.PENDING
        if not (was_verified or was_pending):
            return  # paid but never submitted: only the fee was taken back
        owner_withdrawn = was_verified and await withdraw_owner_verification(
            owner_id=before.owner_id, property_id=property_id
        )
        what = "the listing is no longer verified" if was_verified else "its verification request left review"
        badge = " Your verified-owner badge came from it and was withdrawn too." if owner_withdrawn else ""
        await self._notifications.notify(
            user_id=before.owner_id,
            type="verification_withdrawn",
            title="Property verification withdrawn",
            message=f'The verification fee for "{before.title}" was refunded, so {what}.{badge} '
            "Pay the fee and submit its documents again to be verified.",
            action_url=f"/properties/{property_id}",
        )
        await self._audit.record(
            actor=actor,
            action_type="verification_withdraw",
            entity_type="property",
            entity_id=property_id,
            details={
                "reason": "fee_refunded",
                "transaction_id": transaction.id,
                "refund_id": transaction.refund_id,
                "owner_id": before.owner_id,
                "owner_verification_withdrawn": owner_withdrawn,
            },
            old_value={
                "verification_tier": before.verification_tier.value,
                "is_verified": before.is_verified,
                "verification_fee_paid": before.verification_fee_paid,
            },
            new_value={
                "verification_tier": VerificationTier.FREE.value,
                "is_verified": False,
                "verification_fee_paid": False,
                **({"is_verified_owner": False} if owner_withdrawn else {}),
            },
        )
        if was_pending and self._feed is not None:
            try:
                await self._feed.publish_counts()
            except Exception:  # the live dashboard count is best effort; the withdrawal is already stored
                log.exception("publishing admin counts failed")

    # ------------------------------------------------------------------ reading

    async def history(self, *, user_id: str, page: int, limit: int) -> list[Transaction]:
        return (
            await Transaction.find({"user_id": user_id})
            .sort("-created_at", "+_id")
            .skip((page - 1) * limit)
            .limit(limit)
            .to_list()
        )

    async def get(self, *, transaction_id: str) -> Transaction:
        transaction = await Transaction.get(transaction_id)
        if transaction is None:
            raise NotFound("Transaction not found", code="transaction_not_found")
        return transaction

    async def paid_verification(self, *, property_id: str, user_id: str) -> Transaction | None:
        """Our own record that this owner paid this property's verification fee (not the client's word)."""
        return await Transaction.find_one(
            {
                "user_id": user_id,
                "transaction_type": TransactionType.PROPERTY_VERIFICATION.value,
                "metadata.property_id": property_id,
                "payment_status": PaymentStatus.SUCCESS.value,
            }
        )

    # ------------------------------------------------------------------ reminders

    async def send_due_reminders(self) -> int:
        """Tell each premium user once per subscription period that it ends within the reminder window."""
        now = self._clock.now()
        horizon = now + timedelta(days=self._settings.subscription_reminder_days)
        due = await User.find(
            {
                "subscription_tier": SubscriptionTier.PREMIUM.value,
                "subscription_end": {"$gt": now, "$lte": horizon},
            }
        ).to_list()
        sent = 0
        for user in due:
            end = user.subscription_end
            if end is None or (
                user.subscription_reminder_sent_for is not None
                and as_utc(user.subscription_reminder_sent_for) == as_utc(end)
            ):
                continue
            # The guard is the period's end itself: a renewal moves it, so the next period is reminded too.
            claimed = await collection_of(User).update_one(
                {"_id": user.id, "subscription_end": end, "subscription_reminder_sent_for": {"$ne": end}},
                {"$set": {"subscription_reminder_sent_for": end}},
            )
            if claimed.modified_count != 1:
                continue
            days_left = max(1, int((as_utc(end) - now).total_seconds() // 86400) + 1)
            await self._notifications.notify(
                user_id=user.id,
                type="subscription_expiring",
                title="Your premium subscription is ending soon",
                message=f"Premium ends on {as_utc(end).date().isoformat()} (in about {days_left} day"
                f"{'s' if days_left != 1 else ''}). Renew to keep premium features.",
                action_url="/subscription",
            )
            sent += 1
        return sent


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    if not isinstance(entity, dict):
        raise BadRequest(f"Webhook payload has no {name} entity", code="malformed_webhook")
    return entity
