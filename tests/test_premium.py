"""Premium: bought by a subscription payment, stacks on early renewal, lapses by itself, reminded once.

After the clock jumps months ahead these tests read and pay through the services rather than HTTP: the
foundation's JWT decoding checks ``iat`` against the wall clock, so no token is valid at the moved clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.notification import Notification
from documents.user import User
from homer_rt.appkeys import CLOCK, PAYMENTS, SCHEDULER
from homer_rt.clock import AdjustableClock, as_utc
from tests.factories import register
from tests.payment_helpers import pay_mock


async def _view(client: TestClient[Any, Any], user_id: str) -> dict[str, Any]:
    """The user as /api/users/me shows them at the clock's now."""
    stored = await User.get(user_id)
    assert stored is not None
    return dict(stored.private_view(client.app[CLOCK].now()))


async def _subscribe(client: TestClient[Any, Any], user_id: str) -> None:
    """The same create-order + verify path the REST handlers call."""
    payments = client.app[PAYMENTS]
    order = await payments.create_order(user_id=user_id, type="renter_subscription", metadata={})
    await payments.verify(user_id=user_id, order_id=order["order_id"], payment_id="mock_pay", signature=None)


async def test_premium_unlocks_lifestyle_search_and_lapses_by_itself(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    user_id = renter["user"]["user_id"]
    assert (await client.get("/api/properties/lifestyle-search", headers=renter["headers"])).status == 403
    await pay_mock(client, renter["headers"], type="renter_subscription")
    assert (await client.get("/api/properties/lifestyle-search", headers=renter["headers"])).status == 200
    me = await (await client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "premium"

    clock.advance(timedelta(days=89))
    assert (await _view(client, user_id))["subscription_tier"] == "premium"
    clock.advance(timedelta(days=1, minutes=1))
    assert (await _view(client, user_id))["subscription_tier"] == "free"
    stored = await User.get(user_id)
    assert stored is not None and not stored.is_premium(clock.now())


async def test_early_renewal_stacks_on_the_current_end(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    user_id = renter["user"]["user_id"]
    await pay_mock(client, renter["headers"], type="renter_subscription")
    first = await _view(client, user_id)

    clock.advance(timedelta(days=30))
    await _subscribe(client, user_id)
    renewed = await _view(client, user_id)
    end_delta = datetime.fromisoformat(renewed["subscription_end"]) - datetime.fromisoformat(
        first["subscription_end"]
    )
    assert end_delta == timedelta(days=90)
    assert renewed["subscription_start"] == first["subscription_start"]  # one continuous premium period

    clock.advance(timedelta(days=149))
    assert (await _view(client, user_id))["subscription_tier"] == "premium"
    clock.advance(timedelta(days=2))
    assert (await _view(client, user_id))["subscription_tier"] == "free"


async def test_renewal_after_lapse_starts_from_now_and_resets_contacts(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    user_id = renter["user"]["user_id"]
    await pay_mock(client, renter["headers"], type="renter_subscription")
    clock.advance(timedelta(days=120))
    await collection_of(User).update_one({"_id": user_id}, {"$set": {"contacts_used": 4}})
    await _subscribe(client, user_id)
    me = await _view(client, user_id)
    end = datetime.fromisoformat(me["subscription_end"])
    assert timedelta(days=89, hours=23) < end - clock.now() <= timedelta(days=90)
    assert datetime.fromisoformat(me["subscription_start"]) >= clock.now() - timedelta(minutes=1)
    assert me["contacts_used"] == 0


async def test_reminder_is_sent_once_per_period(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    renter = await register(client)
    user_id = renter["user"]["user_id"]
    payments = client.app[PAYMENTS]
    await pay_mock(client, renter["headers"], type="renter_subscription")

    assert await payments.send_due_reminders() == 0  # 90 days left: too early
    clock.advance(timedelta(days=88))  # 2 days left, inside the 3-day window
    assert await payments.send_due_reminders() == 1
    assert await payments.send_due_reminders() == 0
    reminders = await Notification.find({"user_id": user_id, "type": "subscription_expiring"}).to_list()
    assert len(reminders) == 1 and "Renew" in reminders[0].message

    # Renewing starts a new period, which gets its own reminder near its end.
    await _subscribe(client, user_id)
    assert await payments.send_due_reminders() == 0
    clock.advance(timedelta(days=90))
    assert await payments.send_due_reminders() == 1
    assert await Notification.find({"user_id": user_id, "type": "subscription_expiring"}).count() == 2

    # Lapsed subscriptions are not reminded.
    clock.advance(timedelta(days=5))
    assert await payments.send_due_reminders() == 0


async def test_reminders_run_on_the_app_scheduler(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter = await register(client)
    await pay_mock(client, renter["headers"], type="renter_subscription")
    clock.advance(timedelta(days=88))
    assert "subscription-reminders" in await client.app[SCHEDULER].tick()
    found = await Notification.find(
        {"user_id": renter["user"]["user_id"], "type": "subscription_expiring"}
    ).count()
    assert found == 1


async def test_subscription_end_is_stored_to_the_millisecond(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    await pay_mock(client, renter["headers"], type="renter_subscription")
    user = await User.get(renter["user"]["user_id"])
    assert user is not None and user.subscription_end is not None
    assert as_utc(user.subscription_end).microsecond % 1000 == 0
