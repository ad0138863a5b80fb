"""The guarded operations on a stored listing, upload record, upload usage and shortlist row: each changes
only the state its guard names, and of concurrent callers exactly one wins where one must."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from documents.property import (
    BHKType,
    Location,
    Property,
    PropertyStatus,
    PropertyType,
    VerificationTier,
)
from documents.shortlist import Shortlist
from documents.stored_file import StoredFile
from documents.upload_usage import UploadUsage
from homer_rt.appkeys import CLOCK
from homer_rt.clock import Clock

OWNER = "owner-1"


async def stored_listing(*, owner_id: str = OWNER, **fields: Any) -> Property:
    """A listing stored directly, as tests.factories.make_property stores one (same keywords)."""
    values: dict[str, Any] = {
        "owner_id": owner_id,
        "title": "Sunny 2BHK",
        "property_type": PropertyType.APARTMENT,
        "bhk_type": BHKType.TWO_BHK,
        "rent_paise": 2_500_000,
        "location": Location(address="12 MG Road", city="Bengaluru", locality="Indiranagar"),
        "created_at": datetime.now(UTC),
    }
    values.update(fields)
    listing = Property(**values)
    await listing.insert()
    return listing


async def reloaded(listing: Property) -> Property:
    found = await Property.get(listing.id)
    assert found is not None
    return found


def now_of(client: TestClient[Any, Any]) -> datetime:
    clock: Clock = client.app[CLOCK]
    return clock.now()


# ---- views, contacts, shortlists ---------------------------------------------------------------------


async def test_a_view_counts_on_its_day_and_only_on_an_active_listing(client: TestClient[Any, Any]) -> None:
    listing = await stored_listing()
    now = now_of(client)
    await Property.record_view(listing.id, premium=False, now=now)
    await Property.record_view(listing.id, premium=True, now=now + timedelta(days=1))
    analytics = (await reloaded(listing)).analytics
    assert (analytics.total_views, analytics.premium_views) == (2, 1)
    assert analytics.views_history == {
        now.date().isoformat(): 1,
        (now + timedelta(days=1)).date().isoformat(): 1,
    }

    rented = await stored_listing(status=PropertyStatus.RENTED)
    await Property.record_view(rented.id, premium=True, now=now)
    assert (await reloaded(rented)).analytics.total_views == 0


async def test_contacts_and_shortlist_counts_move_by_one(client: TestClient[Any, Any]) -> None:
    listing = await stored_listing()
    await asyncio.gather(*(Property.record_shortlisted(listing.id) for _ in range(3)))
    await Property.record_unshortlisted(listing.id)
    await Property.record_contact(listing.id)
    analytics = (await reloaded(listing)).analytics
    assert (analytics.shortlisted_count, analytics.total_contacts) == (2, 1)


# ---- edits and deletion ------------------------------------------------------------------------------


async def test_an_owner_edit_needs_the_owner_the_status_seen_and_no_admin_hold(
    client: TestClient[Any, Any],
) -> None:
    listing = await stored_listing()
    now = now_of(client)
    assert (
        await Property.edit_by_owner(
            listing.id, owner_id="someone-else", currently_active=True, changes={"title": "Mine"}, now=now
        )
        is None
    )
    assert (
        await Property.edit_by_owner(
            listing.id, owner_id=OWNER, currently_active=False, changes={"title": "Off"}, now=now
        )
        is None
    )
    edited = await Property.edit_by_owner(
        listing.id, owner_id=OWNER, currently_active=True, changes={"status": "rented"}, now=now
    )
    assert edited is not None and edited.status is PropertyStatus.RENTED and edited.updated_at is not None

    # Of two tabs relisting it at once, one sees the off-market -> active transition.
    tabs = await asyncio.gather(
        *(
            Property.edit_by_owner(
                listing.id, owner_id=OWNER, currently_active=False, changes={"status": "active"}, now=now
            )
            for _ in range(2)
        )
    )
    assert sum(tab is not None for tab in tabs) == 1

    held = await stored_listing(held_by_admin=True)
    assert (
        await Property.edit_by_owner(
            held.id, owner_id=OWNER, currently_active=True, changes={"title": "Back"}, now=now
        )
        is None
    )


async def test_an_admin_status_holds_the_listing_until_an_admin_makes_it_active(
    client: TestClient[Any, Any],
) -> None:
    listing = await stored_listing()
    now = now_of(client)
    before = await Property.edit_by_admin(listing.id, changes={"status": "inactive"}, now=now)
    assert before is not None and before.status is PropertyStatus.ACTIVE
    assert (await reloaded(listing)).held_by_admin
    await Property.edit_by_admin(listing.id, changes={"title": "Renamed"}, now=now)
    assert (await reloaded(listing)).held_by_admin  # a change that sets no status keeps the hold
    await Property.edit_by_admin(listing.id, changes={"status": "active"}, now=now)
    assert not (await reloaded(listing)).held_by_admin
    assert await Property.edit_by_admin("missing", changes={"title": "x"}, now=now) is None


async def test_a_listing_is_deleted_once(client: TestClient[Any, Any]) -> None:
    listing = await stored_listing()
    now = now_of(client)
    assert await Property.mark_deleted(listing.id, owner_id="someone-else", now=now) is None
    results = await asyncio.gather(*(Property.mark_deleted(listing.id, now=now) for _ in range(3)))
    winners = [before for before in results if before is not None]
    assert len(winners) == 1 and winners[0].status is PropertyStatus.ACTIVE
    assert (await reloaded(listing)).status is PropertyStatus.DELETED

    others = [await stored_listing(owner_id="owner-2") for _ in range(2)]
    await Property.mark_deleted(others[0].id, now=now)
    assert await Property.mark_all_deleted(owner_id="owner-2", now=now) == 1


# ---- images ------------------------------------------------------------------------------------------


async def test_concurrent_image_batches_never_pass_the_cap(client: TestClient[Any, Any]) -> None:
    listing = await stored_listing(images=[f"/uploads/properties/p/{n}.jpg" for n in range(8)])
    now = now_of(client)
    batches = [[f"/uploads/properties/p/{batch}-{n}.jpg" for n in range(2)] for batch in range(3)]
    results = await asyncio.gather(
        *(
            Property.add_images(listing.id, owner_id=OWNER, urls=urls, max_images=10, now=now)
            for urls in batches
        )
    )
    assert sum(result is not None for result in results) == 1
    assert len((await reloaded(listing)).images) == 10


async def test_an_image_is_removed_only_from_the_owners_listing_that_has_it(
    client: TestClient[Any, Any],
) -> None:
    image = "/uploads/properties/p/a.jpg"
    listing = await stored_listing(images=[image])
    now = now_of(client)
    assert await Property.remove_image(listing.id, owner_id="someone-else", image_url=image, now=now) is None
    assert await Property.remove_image(listing.id, owner_id=OWNER, image_url="/other.jpg", now=now) is None
    after = await Property.remove_image(listing.id, owner_id=OWNER, image_url=image, now=now)
    assert after is not None and after.images == []


# ---- verification ------------------------------------------------------------------------------------


async def test_a_verification_request_is_submitted_once_and_decided_once(
    client: TestClient[Any, Any],
) -> None:
    listing = await stored_listing()
    now = now_of(client)
    documents = {"ownership": {"file_url": "/uploads/verification/u/doc.pdf"}}
    assert (
        await Property.submit_verification(
            listing.id, owner_id="someone-else", documents=documents, payment_id="pay_1", now=now
        )
        is None
    )
    submissions = await asyncio.gather(
        *(
            Property.submit_verification(
                listing.id, owner_id=OWNER, documents=documents, payment_id="pay_1", now=now
            )
            for _ in range(2)
        )
    )
    assert sum(result is not None for result in submissions) == 1

    decisions = await asyncio.gather(
        Property.approve_verification(listing.id, now=now),
        Property.reject_verification(listing.id, reason="blurry", now=now),
    )
    decided = [result for result in decisions if result is not None]
    assert len(decided) == 1
    stored = await reloaded(listing)
    if stored.is_verified:
        assert stored.verification_tier is VerificationTier.VERIFIED and stored.verification_date is not None
    else:
        assert stored.verification_tier is VerificationTier.FREE
        assert stored.verification_rejection_reason == "blurry"


async def test_a_refund_withdraws_only_what_its_own_payment_paid_for(client: TestClient[Any, Any]) -> None:
    listing = await stored_listing()
    now = now_of(client)
    await Property.record_verification_fee(listing.id, payment_id="pay_1", now=now)
    assert await Property.withdraw_verification(listing.id, payment_id="pay_other", now=now) is None
    assert (await reloaded(listing)).verification_fee_paid

    await Property.force_verify(listing.id, now=now)
    before = await Property.withdraw_verification(listing.id, payment_id="pay_1", now=now)
    assert before is not None and before.is_verified
    after = await reloaded(listing)
    assert (after.is_verified, after.verification_fee_paid, after.payment_id) == (False, False, None)
    assert after.verification_tier is VerificationTier.FREE


async def test_an_admin_verifies_a_listing_once_and_never_a_deleted_one(client: TestClient[Any, Any]) -> None:
    listing = await stored_listing()
    now = now_of(client)
    results = await asyncio.gather(*(Property.force_verify(listing.id, now=now) for _ in range(3)))
    assert sum(result is not None for result in results) == 1
    deleted = await stored_listing(status=PropertyStatus.DELETED)
    assert await Property.force_verify(deleted.id, now=now) is None


# ---- upload records, usage, shortlist rows ------------------------------------------------------------


async def stored_file(client: TestClient[Any, Any], *, url: str, area: str = "verification") -> StoredFile:
    now = now_of(client)
    record = StoredFile(
        url=url,
        area=area,
        owner_segment="u1",
        uploader_id="u1",
        file_name="doc.pdf",
        content_type="application/pdf",
        size=10,
        storage_key=url.removeprefix("/uploads/"),
        created_at=now,
        unreferenced_since=now,
    )
    await record.insert()
    return record


async def test_only_the_uploaders_file_in_its_area_is_marked_in_use(client: TestClient[Any, Any]) -> None:
    first = await stored_file(client, url="/uploads/verification/u1/a.pdf")
    await stored_file(client, url="/uploads/verification/u1/b.pdf")
    assert await StoredFile.mark_referenced(first.url, uploader_id="u2", area="verification") is None
    assert await StoredFile.mark_referenced(first.url, uploader_id="u1", area="chat") is None
    marked = await StoredFile.mark_referenced(first.url, uploader_id="u1", area="verification")
    assert marked is not None and marked.unreferenced_since is None

    urls = ["/uploads/verification/u1/b.pdf", "/uploads/verification/u1/missing.pdf"]
    found = await StoredFile.mark_all_referenced(
        urls, uploader_id="u1", area="verification", owner_segment="u1"
    )
    assert found == 1


async def test_a_file_record_is_removed_once_and_only_while_it_still_matches(
    client: TestClient[Any, Any],
) -> None:
    record = await stored_file(client, url="/uploads/verification/u1/c.pdf")
    unreferenced = {"unreferenced_since": {"$ne": None}}
    await StoredFile.mark_referenced(record.url, uploader_id="u1", area="verification")
    # Referenced since the cleanup selected it: it stays.
    assert await StoredFile.remove_record(record.id, still_matching=unreferenced) is None
    removed = await asyncio.gather(*(StoredFile.remove_record(record.id) for _ in range(3)))
    assert [r.url for r in removed if r is not None] == [record.url]  # one remover gives back its quota


async def test_concurrent_reservations_never_pass_the_limit(client: TestClient[Any, Any]) -> None:
    results = await asyncio.gather(*(UploadUsage.reserve("u1", 30, limit=100) for _ in range(6)))
    assert sum(results) == 3
    assert await UploadUsage.used_by("u1") == 90
    assert not await UploadUsage.reserve("u2", 101, limit=100)
    assert await UploadUsage.get("u2") is None  # nothing stored for a size that never fits
    await UploadUsage.release("u1", 30)
    assert await UploadUsage.used_by("u1") == 60


async def test_notes_change_only_on_a_shortlisted_listing(client: TestClient[Any, Any]) -> None:
    await Shortlist(user_id="u1", property_id="p1", created_at=now_of(client)).insert()
    assert await Shortlist.set_notes(user_id="u1", property_id="p2", notes="no") is None
    entry = await Shortlist.set_notes(user_id="u1", property_id="p1", notes="call after 6")
    assert entry is not None and entry.notes == "call after 6"


async def test_a_shortlist_row_is_removed_once(client: TestClient[Any, Any]) -> None:
    await Shortlist(user_id="u1", property_id="p1", created_at=now_of(client)).insert()
    removed = await asyncio.gather(*(Shortlist.remove(user_id="u1", property_id="p1") for _ in range(3)))
    assert sorted(removed) == [False, False, True]
