"""Reminders that a premium subscription ends soon: once per subscription period."""

from __future__ import annotations

from datetime import timedelta

from documents.user import SubscriptionTier, User
from homer_rt.clock import as_utc
from homer_rt.services.payments.core import PaymentCore


class SubscriptionReminders(PaymentCore):
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
            # Claimed per period: a renewal moves the end, so the next period is reminded too.
            if not await User.claim_subscription_reminder(user.id, period_end=end):
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
