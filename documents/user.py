"""The users collection: the spec's users model plus is_admin, a token version and review records."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel, ReturnDocument
from typing_extensions import TypedDict

from documents.base import collection_of, new_id
from homer_rt.clock import as_utc, iso


class UserType(StrEnum):
    RENTER = "renter"
    OWNER = "owner"
    BOTH = "both"


class SubscriptionTier(StrEnum):
    FREE = "free"
    PREMIUM = "premium"


class VerificationStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class RenterPreferences(BaseModel):
    """The spec's renter_preferences JSON column; free-form keys the frontend adds are kept."""

    model_config = {"extra": "allow"}


# The only fields a user may change on their own profile (PUT /api/users/me, POST /api/users/me/photo).
PROFILE_FIELDS = frozenset(
    {"full_name", "gender", "date_of_birth", "renter_preferences", "profile_visibility", "profile_photo_url"}
)
# The only fields an admin may change on an account (PUT /api/admin/users/{user_id}). Granting premium stores
# when it started as well (``User.edit_by_admin``).
ADMIN_FIELDS = frozenset(
    {
        "full_name",
        "user_type",
        "is_active",
        "subscription_tier",
        "subscription_end",
        "profile_visibility",
        "is_admin",
    }
)
_ADMIN_STORED_FIELDS = ADMIN_FIELDS | {"subscription_start"}

# A deleted user's e-mail and phone are replaced by values no one can register (unique indexes stay
# satisfied, and the address is not deliverable: .invalid is reserved).
DELETED_EMAIL_DOMAIN = "deleted.invalid"
UNUSABLE_PASSWORD_HASH = "!deleted"

# A user's own verification request (renter or owner) may be (re)submitted from these states: never while
# one waits for a decision or once verified.
_SUBMITTABLE = [VerificationStatus.NONE.value, VerificationStatus.REJECTED.value]


def verification_fields(kind: str) -> dict[str, str]:
    """The user fields that keep a ``renter`` or ``owner`` verification request: status, documents, ..."""
    if kind not in ("renter", "owner"):
        raise ValueError(f"not a user verification kind: {kind!r}")
    return {
        "status": f"{kind}_verification_status",
        "documents": f"{kind}_verification_documents",
        "submitted_at": f"{kind}_verification_submitted_at",
        "reviewed_at": f"{kind}_verification_reviewed_at",
        "rejection_reason": f"{kind}_verification_rejection_reason",
        "is_verified": f"is_verified_{kind}",
    }


class PublicUserView(TypedDict):
    """What anyone may see of a user."""

    user_id: str
    full_name: str | None
    profile_photo_url: str | None
    user_type: UserType
    is_verified_renter: bool
    is_verified_owner: bool
    member_since: str | None


class PrivateUserView(TypedDict):
    """What a user sees of themselves (the spec's auth and profile responses)."""

    user_id: str
    email: str
    phone: str
    user_type: UserType
    full_name: str | None
    profile_photo_url: str | None
    date_of_birth: str | None
    gender: str | None
    is_active: bool
    is_admin: bool
    subscription_tier: SubscriptionTier  # the effective tier: premium lapses at subscription_end
    subscription_start: str | None
    subscription_end: str | None
    contacts_used: int
    is_verified_renter: bool
    renter_verification_status: VerificationStatus
    is_verified_owner: bool
    owner_verification_status: VerificationStatus
    renter_preferences: dict[str, Any] | None
    employment_info: dict[str, Any] | None
    profile_visibility: bool
    created_at: str | None
    last_login: str | None


class AdminUserView(PrivateUserView):
    """What an admin reviews: the private view, the stored tier and the verification records."""

    stored_subscription_tier: SubscriptionTier
    renter_verification_documents: dict[str, Any] | None
    renter_verification_submitted_at: str | None
    renter_verification_reviewed_at: str | None
    renter_verification_rejection_reason: str | None
    owner_verification_documents: dict[str, Any] | None
    owner_verification_submitted_at: str | None
    owner_verification_reviewed_at: str | None
    owner_verification_rejection_reason: str | None


class User(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    email: str  # lowercased
    phone: str  # E.164
    password_hash: str

    user_type: UserType = UserType.RENTER
    full_name: str | None = None
    profile_photo_url: str | None = None
    date_of_birth: date | None = None
    gender: str | None = None

    is_active: bool = True
    is_admin: bool = False
    # Bumped by change-password and deactivation: every token carrying an older version stops working.
    token_version: int = 0
    # How many of their listings are active: reserved by one conditional $inc before a listing becomes
    # active, so the per-owner cap holds across processes (User.take_listing_slots, used by
    # homer_rt.services.properties.quota). Accounts stored before the counter existed lack the field; it is
    # counted for them the first time it is needed.
    active_listings: int = 0
    created_at: datetime
    last_login: datetime | None = None

    subscription_tier: SubscriptionTier = SubscriptionTier.FREE
    subscription_start: datetime | None = None
    subscription_end: datetime | None = None
    subscription_reminder_sent_for: datetime | None = None
    is_verified_renter: bool = False
    renter_verification_status: VerificationStatus = VerificationStatus.NONE
    renter_verification_documents: dict[str, Any] | None = None
    renter_preferences: dict[str, Any] | None = None
    employment_info: dict[str, Any] | None = None
    renter_verification_submitted_at: datetime | None = None
    renter_verification_reviewed_at: datetime | None = None
    renter_verification_rejection_reason: str | None = None
    contacts_used: int = 0
    profile_visibility: bool = True

    is_verified_owner: bool = False
    owner_verification_status: VerificationStatus = VerificationStatus.NONE
    owner_verification_documents: dict[str, Any] | None = None
    owner_verification_submitted_at: datetime | None = None
    owner_verification_reviewed_at: datetime | None = None
    owner_verification_rejection_reason: str | None = None
    # The listings whose approved verification made this user a verified owner (as the spec: a verified
    # property verifies its owner); empty when they were verified on their own documents. A refunded listing
    # takes the badge back only if no other listing here still holds it (services/verification/grants.py).
    owner_verified_by_properties: list[str] = Field(default_factory=list)

    class Settings:
        name = "users"
        indexes = [
            IndexModel("email", unique=True),
            IndexModel("phone", unique=True),
            IndexModel([("created_at", -1)]),
            IndexModel("renter_verification_status"),
            IndexModel("owner_verification_status"),
            IndexModel([("subscription_tier", 1), ("subscription_end", 1)]),
        ]

    @property
    def user_id(self) -> str:
        return self.id

    @property
    def is_renter(self) -> bool:
        return self.user_type in (UserType.RENTER, UserType.BOTH)

    @property
    def is_owner(self) -> bool:
        return self.user_type in (UserType.OWNER, UserType.BOTH)

    def is_premium(self, now: datetime) -> bool:
        """Premium lapses by itself: the tier alone is not enough once subscription_end has passed."""
        return (
            self.subscription_tier == SubscriptionTier.PREMIUM
            and self.subscription_end is not None
            and as_utc(self.subscription_end) > now
        )

    def effective_tier(self, now: datetime) -> SubscriptionTier:
        return SubscriptionTier.PREMIUM if self.is_premium(now) else SubscriptionTier.FREE

    def private_view(self, now: datetime) -> PrivateUserView:
        """What the user sees of themselves (the spec's auth responses); never secrets."""
        return {
            "user_id": self.id,
            "email": self.email,
            "phone": self.phone,
            "user_type": self.user_type,
            "full_name": self.full_name,
            "profile_photo_url": self.profile_photo_url,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "gender": self.gender,
            "is_active": self.is_active,
            "is_admin": self.is_admin,
            "subscription_tier": self.effective_tier(now),
            "subscription_start": iso(self.subscription_start),
            "subscription_end": iso(self.subscription_end),
            "contacts_used": self.contacts_used,
            "is_verified_renter": self.is_verified_renter,
            "renter_verification_status": self.renter_verification_status,
            "is_verified_owner": self.is_verified_owner,
            "owner_verification_status": self.owner_verification_status,
            "renter_preferences": self.renter_preferences,
            "employment_info": self.employment_info,
            "profile_visibility": self.profile_visibility,
            "created_at": iso(self.created_at),
            "last_login": iso(self.last_login),
        }

    def public_view(self) -> PublicUserView:
        """What anyone may see: name, photo, type and trust badges. Never email, phone or documents."""
        visible = self.profile_visibility and self.is_active
        return {
            "user_id": self.id,
            "full_name": self.full_name if visible else None,
            "profile_photo_url": self.profile_photo_url if visible else None,
            "user_type": self.user_type,
            "is_verified_renter": self.is_verified_renter,
            "is_verified_owner": self.is_verified_owner,
            "member_since": iso(self.created_at),
        }

    def admin_view(self, now: datetime) -> AdminUserView:
        """Everything an admin needs to review a user; password hash and token version stay out."""
        return {
            **self.private_view(now),
            "stored_subscription_tier": self.subscription_tier,
            "renter_verification_documents": self.renter_verification_documents,
            "renter_verification_submitted_at": iso(self.renter_verification_submitted_at),
            "renter_verification_reviewed_at": iso(self.renter_verification_reviewed_at),
            "renter_verification_rejection_reason": self.renter_verification_rejection_reason,
            "owner_verification_documents": self.owner_verification_documents,
            "owner_verification_submitted_at": iso(self.owner_verification_submitted_at),
            "owner_verification_reviewed_at": iso(self.owner_verification_reviewed_at),
            "owner_verification_rejection_reason": self.owner_verification_rejection_reason,
        }

    # Writes to a user, each one atomic single-document update, spelled here and nowhere else. Each names its
    # guard: the filter (and operators) that keep it right when requests for the same user race.

    @classmethod
    async def record_login(cls, *, user_id: str, at: datetime) -> None:
        """Guard: ``_id`` only; the last of racing logins wins, as any of them is a true last login."""
        await collection_of(cls).update_one({"_id": user_id}, {"$set": {"last_login": at}})

    @classmethod
    async def replace_password(cls, *, user_id: str, password_hash: str) -> User | None:
        """The new hash and a new token version in one update, so no earlier token outlives the password
        change. Guard: ``$inc`` on ``token_version``, never a value read before. None if the user is gone."""
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id},
            {"$set": {"password_hash": password_hash}, "$inc": {"token_version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def revoke_tokens(cls, *, user_id: str) -> None:
        """Every token the user holds stops working. Guard: ``$inc``, so two revocations both count."""
        await collection_of(cls).update_one({"_id": user_id}, {"$inc": {"token_version": 1}})

    @classmethod
    async def set_profile(cls, *, user_id: str, values: dict[str, Any]) -> User | None:
        """Profile fields as the user sent them (stored values: a date as its ISO text). Guard: only
        ``PROFILE_FIELDS`` are ever written, so no request can set ``is_admin`` or a subscription this way.
        The user after the update; None if they are gone."""
        unknown = set(values) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id}, {"$set": values}, return_document=ReturnDocument.AFTER
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def promote_to_admin(cls, *, user_id: str, password_hash: str, phone: str) -> User | None:
        """The admin bootstrap: admin, active, with the configured password and phone, and a new token
        version (no token issued under the old password survives). Guard: ``_id``, ``$inc`` on the version;
        the unique phone index refuses a phone another account holds. None if the user is gone."""
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id},
            {
                "$set": {"is_admin": True, "is_active": True, "password_hash": password_hash, "phone": phone},
                "$inc": {"token_version": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    # ---- subscriptions ------------------------------------------------------------------------------

    @classmethod
    async def extend_subscription(
        cls, user_id: str, *, seen_end: datetime | None, start: datetime, end: datetime
    ) -> User | None:
        """Premium from ``start`` until ``end``, with a fresh count of free contacts; the user after it.

        Guard: ``subscription_end`` is still ``seen_end``, the end the caller computed from (compare-and-set),
        so of concurrent purchases each one extends what the other stored and renewals stack. None when the
        guard failed (read again and retry) or the user is gone.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id, "subscription_end": seen_end},
            {
                "$set": {
                    "subscription_tier": SubscriptionTier.PREMIUM.value,
                    "subscription_start": start,
                    "subscription_end": end,
                    "contacts_used": 0,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def shorten_subscription(
        cls, user_id: str, *, seen_end: datetime | None, end: datetime | None, now: datetime
    ) -> bool:
        """The subscription now ends at ``end`` (a refund took days back); premium drops to free when that is
        not after ``now``. False when the guard failed (read again and retry) or the user is gone.

        Guard: ``subscription_end`` is still ``seen_end`` (compare-and-set), as ``extend_subscription``.
        """
        changes: dict[str, Any] = {"subscription_end": end}
        if end is None or end <= now:
            changes["subscription_tier"] = SubscriptionTier.FREE.value
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id, "subscription_end": seen_end},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        return raw is not None

    @classmethod
    async def claim_subscription_reminder(cls, user_id: str, *, period_end: datetime) -> bool:
        """Claim the one reminder of the subscription period ending at ``period_end``; False when another
        scheduler (or an earlier run) claimed it, or the period changed.

        Guard: the period's end itself (``subscription_end`` still ``period_end``, not reminded for it yet),
        so one reminder goes per period, and a renewal, which moves the end, gets its own.
        """
        claimed = await collection_of(cls).update_one(
            {
                "_id": user_id,
                "subscription_end": period_end,
                "subscription_reminder_sent_for": {"$ne": period_end},
            },
            {"$set": {"subscription_reminder_sent_for": period_end}},
        )
        return claimed.modified_count == 1

    @classmethod
    async def take_contact(cls, user_id: str, *, limit: int) -> bool:
        """One of the free plan's owner contacts; False when all ``limit`` are used (or the user is gone).

        Guard: ``contacts_used < limit`` with ``$inc``, so concurrent contacts never pass the limit.
        """
        taken = await collection_of(cls).find_one_and_update(
            {"_id": user_id, "contacts_used": {"$lt": limit}},
            {"$inc": {"contacts_used": 1}},
            projection={"_id": 1},
        )
        return taken is not None

    @classmethod
    async def refund_contact(cls, user_id: str) -> None:
        """Give back a contact ``take_contact`` took for a chat that was not created.

        Guard: ``$inc``, never a value read before, so a refund never undoes a concurrent take.
        """
        await collection_of(cls).update_one({"_id": user_id}, {"$inc": {"contacts_used": -1}})

    # ---- listing slots: the active-listing counter (homer_rt/services/properties/quota.py) -------------

    @classmethod
    async def take_listing_slots(cls, owner_id: str, *, count: int, limit: int | None) -> bool:
        """Count ``count`` more active listings; False when the owner has no room under ``limit`` (None: no
        limit), has no counter yet (an account stored before it existed), or is gone.

        Guard: ``active_listings <= limit - count`` with ``$inc``, so concurrent creates at the cap cannot
        both pass; without a limit, the counter exists (a missing one is counted first, never guessed).
        """
        match: dict[str, Any] = {
            "_id": owner_id,
            "active_listings": {"$lte": limit - count} if limit is not None else {"$exists": True},
        }
        taken = await collection_of(cls).update_one(match, {"$inc": {"active_listings": count}})
        return taken.matched_count > 0

    @classmethod
    async def give_back_listing_slots(cls, owner_id: str, *, count: int) -> None:
        """``count`` fewer active listings.

        Guard: ``active_listings >= count``, so the counter never goes below zero, and a missing counter
        stays missing (it is counted when it is next needed).
        """
        await collection_of(cls).update_one(
            {"_id": owner_id, "active_listings": {"$gte": count}}, {"$inc": {"active_listings": -count}}
        )

    @classmethod
    async def lacks_listing_count(cls, owner_id: str) -> bool:
        """The account has no active-listing counter yet (stored before it existed)."""
        missing = {"_id": owner_id, "active_listings": {"$exists": False}}
        return bool(await collection_of(cls).count_documents(missing, limit=1))

    @classmethod
    async def store_active_listing_count(cls, owner_id: str, *, count: int) -> None:
        """Store the counted active listings of an account that had no counter.

        Guard: the counter's absence, so of two processes counting at once, one stores its count.
        """
        await collection_of(cls).update_one(
            {"_id": owner_id, "active_listings": {"$exists": False}}, {"$set": {"active_listings": count}}
        )

    # ---- an admin's changes -------------------------------------------------------------------------

    @classmethod
    async def edit_by_admin(cls, user_id: str, *, values: dict[str, Any]) -> User | None:
        """An admin's change to an account (stored values: enums as their text); the user before it, None
        if they are gone.

        Guard: only ``ADMIN_FIELDS`` (and, with premium, ``subscription_start``) are ever written, so no
        admin request can set a password, tokens or verification records this way. Otherwise the id only:
        an admin's decision stands over whatever the account was.
        """
        unknown = set(values) - _ADMIN_STORED_FIELDS
        if unknown:
            raise ValueError(f"not fields an admin may change: {sorted(unknown)}")
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id}, {"$set": values}, return_document=ReturnDocument.BEFORE
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def deactivate(cls, user_id: str) -> bool:
        """The account is inactive (a report's resolution); False if the user is gone. The caller revokes
        their tokens.

        Guard: the id only; deactivating twice changes nothing.
        """
        result = await collection_of(cls).update_one({"_id": user_id}, {"$set": {"is_active": False}})
        return result.matched_count > 0

    @classmethod
    async def anonymise(cls, user_id: str, *, seen_email: str) -> User | None:
        """The account is deleted: inactive, with every personal field cleared and e-mail and phone replaced
        by values no one can register (so the unique indexes stay satisfied and the address is free); the
        user after it. Its listings are the caller's to delete (the active-listing count becomes 0 here).

        Guard: the e-mail is still ``seen_email`` and the user is not an admin, so a concurrent deletion or
        promotion makes it match nothing (None, as for a user who is gone).
        """
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id, "email": seen_email, "is_admin": False},
            {
                "$set": {
                    "email": f"deleted-{user_id}@{DELETED_EMAIL_DOMAIN}",
                    "phone": f"deleted-{user_id}",
                    "password_hash": UNUSABLE_PASSWORD_HASH,
                    "full_name": "Deleted user",
                    "profile_photo_url": None,
                    "date_of_birth": None,
                    "gender": None,
                    "renter_preferences": None,
                    "employment_info": None,
                    "renter_verification_documents": None,
                    "owner_verification_documents": None,
                    "is_active": False,
                    "profile_visibility": False,
                    "active_listings": 0,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    # ---- the user's own verification: renter or owner -----------------------------------------------

    @classmethod
    async def submit_verification(
        cls,
        user_id: str,
        *,
        kind: str,
        documents: dict[str, Any],
        employment_info: dict[str, Any] | None = None,
        now: datetime,
    ) -> User | None:
        """The user's ``kind`` (renter or owner) documents wait for review, with their employment details when
        given; the user after it.

        Guard: that request is neither pending nor verified (none or rejected), so one waits at a time. None
        when the guard failed or the user is gone.
        """
        fields = verification_fields(kind)
        changes: dict[str, Any] = {
            fields["status"]: VerificationStatus.PENDING.value,
            fields["documents"]: documents,
            fields["submitted_at"]: now,
            fields["reviewed_at"]: None,
            fields["rejection_reason"]: None,
        }
        if employment_info is not None:
            changes["employment_info"] = employment_info
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id, fields["status"]: {"$in": _SUBMITTABLE}},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def decide_verification(
        cls, user_id: str, *, kind: str, approved: bool, reason: str | None, now: datetime
    ) -> User | None:
        """An admin's decision on the user's pending ``kind`` request: verified, or rejected with ``reason``;
        the user after it.

        Guard: the request is pending, so it is decided once. None when it was not, or the user is gone.
        """
        fields = verification_fields(kind)
        status = VerificationStatus.VERIFIED if approved else VerificationStatus.REJECTED
        raw = await collection_of(cls).find_one_and_update(
            {"_id": user_id, fields["status"]: VerificationStatus.PENDING.value},
            {
                "$set": {
                    fields["status"]: status.value,
                    fields["is_verified"]: approved,
                    fields["reviewed_at"]: now,
                    fields["rejection_reason"]: reason,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def reset_pending_verification(cls, user_id: str, *, kind: str) -> bool:
        """A pending ``kind`` request leaves the review queue (its documents are gone: the user was deleted);
        True if one was pending.

        Guard: still pending, so a request decided meanwhile keeps its decision.
        """
        status_field = verification_fields(kind)["status"]
        cleared = await collection_of(cls).update_one(
            {"_id": user_id, status_field: VerificationStatus.PENDING.value},
            {"$set": {status_field: VerificationStatus.NONE.value}},
        )
        return cleared.modified_count > 0

    # ---- the owner's badge as listings give it (homer_rt/services/verification/grants.py) -------------
    #
    # ``owner_verified_by_properties`` lists the listings whose approval made the user a verified owner;
    # empty when they were verified on their own documents. Each step below is guarded on the state it
    # expects; when a concurrent approval or withdrawal changed it first, the caller reads and tries again.

    @classmethod
    async def grant_owner_badge(cls, owner_id: str, *, property_id: str, now: datetime) -> bool:
        """The listing's approval makes the user a verified owner, held by that listing; False when the
        guard failed.

        Guard: not a verified owner yet.
        """
        granted = await collection_of(cls).update_one(
            {"_id": owner_id, "is_verified_owner": {"$ne": True}},
            {
                "$set": {
                    "is_verified_owner": True,
                    "owner_verification_status": VerificationStatus.VERIFIED.value,
                    "owner_verification_reviewed_at": now,
                    "owner_verification_rejection_reason": None,
                    "owner_verified_by_properties": [property_id],
                }
            },
        )
        return granted.matched_count > 0

    @classmethod
    async def join_owner_badge(cls, owner_id: str, *, property_id: str) -> bool:
        """The listing holds the owner's badge too; False when the guard failed.

        Guard: a verified owner through other listings (the list is not empty), so an owner verified on
        their own documents never comes to depend on a listing. ``$addToSet``: listed once.
        """
        joined = await collection_of(cls).update_one(
            {"_id": owner_id, "is_verified_owner": True, "owner_verified_by_properties.0": {"$exists": True}},
            {"$addToSet": {"owner_verified_by_properties": property_id}},
        )
        return joined.matched_count > 0

    @classmethod
    async def withdraw_owner_badge(cls, owner_id: str, *, property_id: str) -> bool:
        """The last listing holding the owner's badge lets go: the user is no longer a verified owner; False
        when the guard failed.

        Guard: that listing is the only one holding it (the list is exactly ``[property_id]``).
        """
        last = await collection_of(cls).update_one(
            {"_id": owner_id, "owner_verified_by_properties": [property_id]},
            {
                "$set": {
                    "owner_verified_by_properties": [],
                    "is_verified_owner": False,
                    "owner_verification_status": VerificationStatus.NONE.value,
                }
            },
        )
        return last.modified_count > 0

    @classmethod
    async def release_owner_badge(cls, owner_id: str, *, property_id: str) -> bool:
        """The listing stops holding the owner's badge, which others still hold; False when the guard failed.

        Guard: the listing holds it and so does another (the list has a second entry).
        """
        released = await collection_of(cls).update_one(
            {
                "_id": owner_id,
                "owner_verified_by_properties": property_id,
                "owner_verified_by_properties.1": {"$exists": True},
            },
            {"$pull": {"owner_verified_by_properties": property_id}},
        )
        return released.modified_count > 0
