"""PaymentService: every payment behaviour in one object, the one handlers, the verification service and the
scheduler call."""

from __future__ import annotations

from homer_rt.services.payments.orders import PaymentOrders
from homer_rt.services.payments.reminders import SubscriptionReminders
from homer_rt.services.payments.webhooks import PaymentWebhooks


class PaymentService(PaymentOrders, PaymentWebhooks, SubscriptionReminders):
    """Payments (see the package's docstring for its invariants)."""
