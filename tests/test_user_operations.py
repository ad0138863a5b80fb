"""The guarded operations on a stored user (and on a chat report and a server secret): each changes only
the state its guard names, and of concurrent callers exactly one wins where one must, or no more than a
limit allows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.chat import ChatReport, ReportResolution, ReportStatus
from documents.chat_writes import claim_report_resolution, release_report_claim
from documents.server_secret import ServerSecret
from documents.user import DELETED_EMAIL_DOMAIN, SubscriptionTier, User, VerificationStatus
from tests.factories import unique_identity


def at_ms(moment: datetime) -> datetime:
    """What the store keeps of a time: milliseconds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


NOW = at_ms(datetime.now(UTC))
DAY = timedelta(days=1)


async def stored_user(**fields: Any) -> User:
    email, phone = unique_identity()
    user = User(email=email, phone=phone, password_hash="x", created_at=NOW, **fields)
    await user.insert()
    return user


async def reloaded(user: User) -> User:
    found = await User.get(user.id)
    assert found is not None
    return found


# ---- subscriptions and contacts ----------------------------------------------------------------------


async def test_a_subscription_period_is_reminded_once_however_many_claim_it(
    client: TestClient[Any, Any],
) -> None:
    user = await reloaded(
        await stored_user(
            subscription_tier=SubscriptionTier.PREMIUM, subscription_end=NOW + timedelta(days=2)
        )
    )
    end = user.subscription_end
    assert end is not None
    claims = await asyncio.gather(
        *(User.claim_subscription_reminder(user.id, period_end=end) for _ in range(5))
    )
    assert sorted(claims) == [False, False, False, False, True]

    # A renewal moves the end: the new period has a reminder of its own; the old one is never claimed again.
    renewed = await User.extend_subscription(user.id, seen_end=end, start=NOW, end=end + timedelta(days=90))
    assert renewed is not None and renewed.subscription_end is not None
    assert not await User.claim_subscription_reminder(user.id, period_end=end)
    assert await User.claim_subscription_reminder(user.id, period_end=renewed.subscription_end)


async def test_a_subscription_changes_only_from_the_end_it_was_computed_from(
    client: TestClient[Any, Any],
) -> None:
    user = await stored_user()
    first = await User.extend_subscription(user.id, seen_end=None, start=NOW, end=NOW + timedelta(days=30))
    assert first is not None and first.subscription_tier == SubscriptionTier.PREMIUM
    # A second purchase computed from the same (now stale) read is refused: it retries from the new end.
    assert (
        await User.extend_subscription(user.id, seen_end=None, start=NOW, end=NOW + timedelta(days=30))
        is None
    )
    stored_end = (await reloaded(user)).subscription_end
    assert not await User.shorten_subscription(user.id, seen_end=None, end=NOW, now=NOW)
    # Shortened to an end that is not in the future: premium lapses with it.
    assert await User.shorten_subscription(user.id, seen_end=stored_end, end=NOW, now=NOW)
    assert (await reloaded(user)).subscription_tier == SubscriptionTier.FREE


async def test_free_contacts_never_pass_the_limit_under_concurrency(client: TestClient[Any, Any]) -> None:
    user = await stored_user()
    taken = await asyncio.gather(*(User.take_contact(user.id, limit=3) for _ in range(8)))
    assert taken.count(True) == 3
    assert (await reloaded(user)).contacts_used == 3

    await User.refund_contact(user.id)  # a chat that was not created gives its contact back
    assert await User.take_contact(user.id, limit=3)
    assert not await User.take_contact(user.id, limit=3)
    assert (await reloaded(user)).contacts_used == 3


# ---- listing slots -------------------------------------------------------------------------------------


async def test_listing_slots_never_pass_the_cap_nor_go_below_zero(client: TestClient[Any, Any]) -> None:
    owner = await stored_user()
    taken = await asyncio.gather(*(User.take_listing_slots(owner.id, count=1, limit=2) for _ in range(5)))
    assert taken.count(True) == 2
    await asyncio.gather(*(User.give_back_listing_slots(owner.id, count=1) for _ in range(4)))
    assert (await reloaded(owner)).active_listings == 0


async def test_an_account_without_a_counter_is_counted_once(client: TestClient[Any, Any]) -> None:
    owner = await stored_user()
    await collection_of(User).update_one({"_id": owner.id}, {"$unset": {"active_listings": ""}})
    assert await User.lacks_listing_count(owner.id)
    assert not await User.take_listing_slots(owner.id, count=1, limit=None)  # never guessed
    await User.give_back_listing_slots(owner.id, count=1)  # a missing counter stays missing
    assert await User.lacks_listing_count(owner.id)

    await User.store_active_listing_count(owner.id, count=2)
    await User.store_active_listing_count(owner.id, count=7)  # a second count, racing: the first stands
    assert not await User.lacks_listing_count(owner.id)
    assert await User.take_listing_slots(owner.id, count=1, limit=3)
    assert (await reloaded(owner)).active_listings == 3


# ---- an admin's changes --------------------------------------------------------------------------------


async def test_an_admin_edit_writes_only_the_admin_fields(client: TestClient[Any, Any]) -> None:
    user = await stored_user()
    with pytest.raises(ValueError, match="password_hash"):
        await User.edit_by_admin(user.id, values={"full_name": "New", "password_hash": "mine"})
    before = await User.edit_by_admin(user.id, values={"full_name": "New", "is_active": False})
    assert before is not None and before.is_active
    after = await reloaded(user)
    assert (after.full_name, after.is_active, after.password_hash) == ("New", False, "x")
    assert await User.edit_by_admin("missing", values={"full_name": "x"}) is None


async def test_anonymising_refuses_an_admin_and_a_changed_account(client: TestClient[Any, Any]) -> None:
    admin = await stored_user(is_admin=True, full_name="Admin")
    assert await User.anonymise(admin.id, seen_email=admin.email) is None
    assert (await reloaded(admin)).email == admin.email

    user = await stored_user(full_name="Asha", active_listings=2)
    assert await User.anonymise(user.id, seen_email="someone-else@example.com") is None

    deleted = await User.anonymise(user.id, seen_email=user.email)
    assert deleted is not None
    assert deleted.email == f"deleted-{user.id}@{DELETED_EMAIL_DOMAIN}"
    assert (deleted.full_name, deleted.is_active, deleted.active_listings) == ("Deleted user", False, 0)
    # Deleted once: a second deletion (which read the old e-mail) changes nothing.
    assert await User.anonymise(user.id, seen_email=user.email) is None


# ---- verification -------------------------------------------------------------------------------------


async def test_a_user_verification_waits_once_and_is_decided_once(client: TestClient[Any, Any]) -> None:
    user = await stored_user()
    documents: dict[str, Any] = {"id_proof": {"file_url": "/uploads/verification/u/a.pdf"}}
    submitted = await asyncio.gather(
        *(User.submit_verification(user.id, kind="renter", documents=documents, now=NOW) for _ in range(3))
    )
    assert sum(s is not None for s in submitted) == 1

    decided = await asyncio.gather(
        User.decide_verification(user.id, kind="renter", approved=True, reason=None, now=NOW),
        User.decide_verification(user.id, kind="renter", approved=False, reason="blurry", now=NOW),
    )
    assert sum(d is not None for d in decided) == 1
    # Decided: no longer pending, so a reset (the user deleted) leaves the decision.
    assert not await User.reset_pending_verification(user.id, kind="renter")
    with pytest.raises(ValueError):
        await User.submit_verification(user.id, kind="property", documents=documents, now=NOW)


async def test_the_owner_badge_goes_only_with_the_last_listing_holding_it(
    client: TestClient[Any, Any],
) -> None:
    owner = await stored_user()
    assert await User.grant_owner_badge(owner.id, property_id="p1", now=NOW)
    assert not await User.grant_owner_badge(owner.id, property_id="p2", now=NOW)  # already verified
    assert await User.join_owner_badge(owner.id, property_id="p2")

    assert not await User.withdraw_owner_badge(owner.id, property_id="p1")  # p2 still holds it
    assert await User.release_owner_badge(owner.id, property_id="p1")
    assert not await User.release_owner_badge(owner.id, property_id="p2")  # the last one: it withdraws
    assert await User.withdraw_owner_badge(owner.id, property_id="p2")
    after = await reloaded(owner)
    assert (after.is_verified_owner, after.owner_verified_by_properties) == (False, [])
    assert after.owner_verification_status == VerificationStatus.NONE

    # Verified on their own documents: no listing comes to hold (or take) the badge.
    own = await stored_user(is_verified_owner=True, owner_verification_status=VerificationStatus.VERIFIED)
    assert not await User.join_owner_badge(own.id, property_id="p3")
    assert not await User.withdraw_owner_badge(own.id, property_id="p3")
    assert (await reloaded(own)).is_verified_owner


# ---- chat reports -------------------------------------------------------------------------------------


async def test_a_report_is_resolved_by_one_admin_and_released_only_by_that_claim(
    client: TestClient[Any, Any],
) -> None:
    report = ChatReport(chat_id="c1", reporter_id="r", reported_user_id="o", reason="spam", created_at=NOW)
    await report.insert()
    resolution = ReportResolution(action="dismiss")
    claims = await asyncio.gather(
        *(
            claim_report_resolution(report.id, admin_id=f"admin-{i}", resolution=resolution, at=NOW)
            for i in range(3)
        )
    )
    [winner] = [claim for claim in claims if claim is not None]
    assert winner.status == ReportStatus.RESOLVED and winner.resolved_by is not None

    loser = next(f"admin-{i}" for i in range(3) if f"admin-{i}" != winner.resolved_by)
    await release_report_claim(report.id, admin_id=loser, resolved_at=NOW)  # not their claim: no change
    assert (await ChatReport.get(report.id)).status == ReportStatus.RESOLVED  # type: ignore[union-attr]
    await release_report_claim(report.id, admin_id=winner.resolved_by, resolved_at=NOW)
    reopened = await ChatReport.get(report.id)
    assert reopened is not None and reopened.status == ReportStatus.OPEN and reopened.resolution is None


# ---- server secrets -----------------------------------------------------------------------------------


async def test_a_server_secret_keeps_the_first_value_stored(client: TestClient[Any, Any]) -> None:
    kept = await asyncio.gather(
        *(ServerSecret.keep_first("test-key", value=f"{i:02x}" * 4, now=NOW) for i in range(3))
    )
    assert len(set(kept)) == 1
    assert await ServerSecret.keep_first("test-key", value="ff" * 4, now=NOW) == kept[0]
