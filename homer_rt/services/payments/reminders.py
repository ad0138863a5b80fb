"""Reminders that a premium subscription ends soon: once per subscription period."""

from __future__ import annotations

from datetime import timedelta

from documents.base import collection_of
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
