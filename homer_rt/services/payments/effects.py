"""What a purchase gives and a refund takes back: premium days for a subscription, the fee-paid mark (and, on
refund, the verification it paid for) for a listing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from documents.property import Property, VerificationTier
from documents.transaction import Transaction, TransactionType
from documents.user import User
from homer_rt.clock import as_utc
from homer_rt.errors import Conflict, NotFound
from homer_rt.money import paise_to_rupees
from homer_rt.services.audit import AdminActor
from homer_rt.services.payments.core import PaymentCore
from homer_rt.services.verification.grants import withdraw_owner_verification

log = logging.getLogger(__name__)

# Optimistic retries for the subscription compare-and-set; contention on one user is a handful at most.
_CAS_ATTEMPTS = 20


def _ms(value: datetime) -> datetime:
    """BSON keeps milliseconds: store what reads back identically, so compare-and-set filters match."""
    value = as_utc(value)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


class PurchaseEffects(PaymentCore):
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
        await Property.record_verification_fee(
            property_id, payment_id=transaction.payment_id, now=self._clock.now()
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
        for _ in range(_CAS_ATTEMPTS):
            user = await User.get(user_id)
            if user is None:
                raise NotFound("User not found", code="user_not_found")
            now = self._clock.now()
            active = user.is_premium(now) and user.subscription_end is not None
            base = as_utc(user.subscription_end) if active and user.subscription_end else now
            start = user.subscription_start if active and user.subscription_start else now
            extended = await User.extend_subscription(
                user_id,
                seen_end=user.subscription_end,
                start=_ms(start),
                end=_ms(base + timedelta(days=days)),
            )
            if extended is not None:
                return extended
        raise Conflict("Subscription is being changed concurrently; try again", code="subscription_busy")

    async def _shorten_subscription(self, *, user_id: str, days: int) -> None:
        for _ in range(_CAS_ATTEMPTS):
            user = await User.get(user_id)
            if user is None:
                return
            new_end = (
                _ms(as_utc(user.subscription_end) - timedelta(days=days)) if user.subscription_end else None
            )
            if await User.shorten_subscription(
                user_id, seen_end=user.subscription_end, end=new_end, now=self._clock.now()
            ):
                return
        raise Conflict("Subscription is being changed concurrently; try again", code="subscription_busy")

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
        before = await Property.withdraw_verification(property_id, payment_id=transaction.payment_id, now=now)
        if before is None:
            return  # the listing is no longer paid by this payment: it keeps what it has
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
