"""What every part of the payment service shares: its dependencies and what each purchase is called."""

from __future__ import annotations

from documents.transaction import TransactionType
from homer_rt.clock import Clock
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AuditLog
from homer_rt.services.notifications import NotificationService
from homer_rt.services.payments.gateway import PaymentGateway
from homer_rt.settings import Settings

CURRENCY = "INR"

PURCHASE_DESCRIPTIONS = {
    TransactionType.RENTER_SUBSCRIPTION: "Premium Subscription",
    TransactionType.PROPERTY_VERIFICATION: "Property Verification",
}


class PaymentCore:
    """The service's dependencies, and whether it runs in mock mode."""

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
