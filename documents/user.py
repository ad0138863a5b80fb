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
    # active, so the per-owner cap holds across processes (homer_rt.services.listing_quota). Accounts stored
    # before the counter existed lack the field; it is counted for them the first time it is needed.
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
    # takes the badge back only if no other listing here still holds it (services/verification_grants.py).
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
