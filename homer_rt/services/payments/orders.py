"""Orders: the server decides a purchase's amount and purpose and stores them with the order it creates;
a listing's verification fee has at most one open or paid order."""

from __future__ import annotations

import uuid
from typing import Any

from pymongo.errors import DuplicateKeyError

from documents.property import VerificationTier
from documents.transaction import (
    PaymentStatus,
    Transaction,
    TransactionType,
    verification_purchase_key,
)
from homer_rt.errors import BadRequest, Conflict
from homer_rt.money import paise_to_rupees
from homer_rt.services.payments.core import CURRENCY, PURCHASE_DESCRIPTIONS, PaymentCore
from homer_rt.services.payments.gateway import GATEWAY_NAME, PaymentGateway, require_gateway
from homer_rt.services.payments.views import OrderResponse
from homer_rt.services.properties.core import owned_listing


class PaymentOrders(PaymentCore):
    def _price_paise(self, kind: TransactionType) -> int:
        if kind is TransactionType.RENTER_SUBSCRIPTION:
            return self._settings.subscription_price_inr * 100
        return self._settings.property_verification_price_inr * 100

    async def create_order(self, *, user_id: str, type: str, metadata: dict[str, Any]) -> OrderResponse:
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
            prop = await owned_listing(property_id=property_id, owner_id=user_id)
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
            await Transaction.supersede(holder.id, purchase_key=purchase_key, now=self._clock.now())
            return None
        if holder.user_id != user_id:
            raise Conflict("Another order for this property is open", code="order_open")
        return holder

    def _order_view(self, transaction: Transaction, *, key_id: str) -> OrderResponse:
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
                "description": PURCHASE_DESCRIPTIONS[transaction.transaction_type],
                "order_id": transaction.order_id,
                "amount": transaction.amount_paise,
                "currency": transaction.currency,
            },
        }
