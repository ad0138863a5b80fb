"""The properties collection: the spec's property model. JSON columns become embedded models of the same
shape; money is integer paise (exact, and range-queryable on both MongoDB and the embedded store)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, cast

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel, ReturnDocument
from typing_extensions import TypedDict

from documents.base import collection_of, new_id
from homer_rt.clock import iso
from homer_rt.money import paise_to_rupees

if TYPE_CHECKING:
    from documents.user import User


class PropertyType(StrEnum):
    APARTMENT = "apartment"
    VILLA = "villa"
    INDEPENDENT_HOUSE = "independent_house"
    PG = "pg"


class BHKType(StrEnum):
    ONE_BHK = "1BHK"
    TWO_BHK = "2BHK"
    THREE_BHK = "3BHK"
    FOUR_PLUS_BHK = "4BHK+"


class PropertyStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    RENTED = "rented"
    DELETED = "deleted"


class VerificationTier(StrEnum):
    FREE = "free"
    PENDING = "pending"  # documents submitted, waiting for an admin (the spec's verification routes use it)
    VERIFIED = "verified"


PropertyTypeName = Literal["apartment", "villa", "independent_house", "pg"]
BHKTypeName = Literal["1BHK", "2BHK", "3BHK", "4BHK+"]
PropertyStatusName = Literal["active", "inactive", "rented", "deleted"]
VerificationTierName = Literal["free", "pending", "verified"]


# ---- typed views: the JSON the API shows (the embedded models' JSON dumps, rupees as numbers) ----------


class LocationView(TypedDict):
    address: str
    city: str
    state: str | None
    pincode: str | None
    latitude: float | None
    longitude: float | None
    locality: str | None
    landmarks: list[str]


class DetailsView(TypedDict):
    carpet_area: float | None
    total_floors: int | None
    floor_number: int | None
    furnishing: str | None
    parking: str | None
    amenities: list[str]
    bathrooms: int | None
    balconies: int | None
    facing: str | None
    age_of_property: str | None
    available_from: str | None  # an ISO date
    preferred_tenants: str | None
    pets_allowed: bool | None
    vegetarian_only: bool | None


class LifestyleView(TypedDict):
    aqi_score: int | None
    noise_level: int | None
    walkability_score: int | None
    nearby_parks: int | None
    nearby_hospitals: int | None
    nearby_schools: int | None
    nearby_malls: int | None
    public_transport_score: int | None
    safety_score: int | None
    calculated_at: str | None
    is_mock: bool


class AnalyticsView(TypedDict):
    """A listing's counters: its owner's (and admins') business, never in public views."""

    total_views: int
    premium_views: int
    total_contacts: int
    shortlisted_count: int
    last_viewed: str | None
    views_history: dict[str, int]  # views per UTC day, keyed "YYYY-MM-DD"


class PropertyPublicView(TypedDict):
    """The spec's convert_property_to_dict shape without analytics (``Property.public_view``)."""

    property_id: str
    owner_id: str
    title: str
    description: str | None
    property_type: PropertyTypeName
    bhk_type: BHKTypeName
    rent: int | float  # rupees: whole rupees as integers, fractions as two-place decimals
    security_deposit: int | float | None
    maintenance_charges: int | float
    location: LocationView
    details: DetailsView
    images: list[str]
    video_url: str | None
    virtual_tour_url: str | None
    is_verified: bool
    verification_tier: VerificationTierName
    verification_date: str | None
    lifestyle_data: LifestyleView | None
    status: PropertyStatusName
    held_by_admin: bool
    created_at: str
    updated_at: str | None


class PropertyOwnerView(PropertyPublicView):
    """The public view with the owner-only analytics (``Property.api_view``): for owners and admins."""

    analytics: AnalyticsView


class PropertySummaryView(TypedDict):
    """A compact card (shortlists, chat lists): what a list row shows (``Property.summary_view``)."""

    property_id: str
    title: str
    rent: int | float
    bhk_type: BHKTypeName
    property_type: PropertyTypeName
    city: str
    locality: str | None
    image: str | None
    is_verified: bool
    status: PropertyStatusName


class ListingChanges(TypedDict, total=False):
    """The listing's own fields an owner's or an admin's edit may write, in their stored form."""

    title: str
    description: str | None
    property_type: PropertyTypeName
    bhk_type: BHKTypeName
    rent_paise: int
    security_deposit_paise: int | None
    maintenance_charges_paise: int
    location: dict[str, Any]  # Location.model_dump()
    details: dict[str, Any]  # PropertyDetails, dates stored as datetimes (BSON has no date type)
    lifestyle_data: dict[str, Any]  # LifestyleData.model_dump()
    video_url: str | None
    virtual_tour_url: str | None
    status: PropertyStatusName


# Off the market but the owner's to relist: what an owner's status change moves between with active.
OFF_MARKET = [PropertyStatus.INACTIVE.value, PropertyStatus.RENTED.value]


# ---- the document and its embedded models -------------------------------------------------------------


class Location(BaseModel):
    address: str
    city: str
    state: str | None = None
    pincode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    locality: str | None = None
    landmarks: list[str] = Field(default_factory=list)

    def view(self) -> LocationView:
        return cast(LocationView, self.model_dump(mode="json"))


class PropertyDetails(BaseModel):
    carpet_area: float | None = None
    total_floors: int | None = None
    floor_number: int | None = None
    furnishing: str | None = None  # unfurnished | semi-furnished | fully-furnished
    parking: str | None = None
    amenities: list[str] = Field(default_factory=list)
    bathrooms: int | None = None
    balconies: int | None = None
    facing: str | None = None
    age_of_property: str | None = None
    available_from: date | None = None
    preferred_tenants: str | None = None
    pets_allowed: bool | None = None
    vegetarian_only: bool | None = None

    def view(self) -> DetailsView:
        return cast(DetailsView, self.model_dump(mode="json"))


class LifestyleData(BaseModel):
    aqi_score: int | None = None
    noise_level: int | None = None
    walkability_score: int | None = None
    nearby_parks: int | None = None
    nearby_hospitals: int | None = None
    nearby_schools: int | None = None
    nearby_malls: int | None = None
    public_transport_score: int | None = None
    safety_score: int | None = None
    calculated_at: datetime | None = None
    is_mock: bool = True

    def view(self) -> LifestyleView:
        return cast(LifestyleView, self.model_dump(mode="json"))


class Analytics(BaseModel):
    total_views: int = 0
    premium_views: int = 0
    total_contacts: int = 0
    shortlisted_count: int = 0
    last_viewed: datetime | None = None
    # Views per UTC day, keyed "YYYY-MM-DD", so a view is one atomic $inc on "analytics.views_history.<day>".
    views_history: dict[str, int] = Field(default_factory=dict)

    def view(self) -> AnalyticsView:
        return cast(AnalyticsView, self.model_dump(mode="json"))


class Property(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    owner_id: str

    title: str
    description: str | None = None
    property_type: PropertyType
    bhk_type: BHKType

    rent_paise: int
    security_deposit_paise: int | None = None
    maintenance_charges_paise: int = 0

    location: Location
    details: PropertyDetails = Field(default_factory=PropertyDetails)

    images: list[str] = Field(default_factory=list)
    video_url: str | None = None
    virtual_tour_url: str | None = None

    is_verified: bool = False
    verification_tier: VerificationTier = VerificationTier.FREE
    verification_date: datetime | None = None
    verification_documents: dict[str, Any] | None = None
    verification_fee_paid: bool = False
    payment_id: str | None = None
    verification_submitted_at: datetime | None = None
    verification_reviewed_at: datetime | None = None
    verification_rejection_reason: str | None = None

    lifestyle_data: LifestyleData | None = None
    analytics: Analytics = Field(default_factory=Analytics)

    status: PropertyStatus = PropertyStatus.ACTIVE
    # Set when an admin takes the listing out of search; the owner cannot put it back until an admin does.
    held_by_admin: bool = False
    created_at: datetime
    updated_at: datetime | None = None

    class Settings:
        name = "properties"
        indexes = [
            IndexModel([("owner_id", 1), ("created_at", -1)]),
            # Default search sort: verified first, then newest, over active listings.
            IndexModel([("status", 1), ("is_verified", -1), ("created_at", -1)]),
            IndexModel([("status", 1), ("rent_paise", 1)]),
            IndexModel([("status", 1), ("created_at", -1)]),
            IndexModel([("location.city", 1), ("status", 1)]),
            IndexModel([("location.locality", 1), ("status", 1)]),
            IndexModel([("bhk_type", 1), ("status", 1)]),
            IndexModel([("property_type", 1), ("status", 1)]),
            IndexModel([("details.furnishing", 1), ("status", 1)]),
            IndexModel([("verification_tier", 1)]),
            IndexModel(
                [("status", 1), ("is_verified", 1), ("lifestyle_data.aqi_score", 1), ("rent_paise", 1)]
            ),
        ]

    @property
    def property_id(self) -> str:
        return self.id

    @property
    def is_public(self) -> bool:
        """Anyone may see it: active and not taken down. Everything else is the owner's and admins' alone."""
        return self.status == PropertyStatus.ACTIVE and not self.held_by_admin

    def visible_to(self, viewer: User | None) -> bool:
        """Not public (inactive, rented, taken down): the listing is there for its owner and admins alone."""
        return self.is_public or (viewer is not None and (viewer.id == self.owner_id or viewer.is_admin))

    def api_view(self) -> PropertyOwnerView:
        """The spec's convert_property_to_dict shape with the owner-only analytics: for owners and admins."""
        return {**self.public_view(), "analytics": self.analytics.view()}

    def public_view(self) -> PropertyPublicView:
        """The spec's shape without analytics (views, contacts, shortlists are the owner's business);
        rupees as numbers. What search results and other people's views of a listing show."""
        return {
            "property_id": self.id,
            "owner_id": self.owner_id,
            "title": self.title,
            "description": self.description,
            "property_type": self.property_type.value,
            "bhk_type": self.bhk_type.value,
            "rent": paise_to_rupees(self.rent_paise),
            "security_deposit": paise_to_rupees(self.security_deposit_paise),
            "maintenance_charges": paise_to_rupees(self.maintenance_charges_paise),
            "location": self.location.view(),
            "details": self.details.view(),
            "images": list(self.images),
            "video_url": self.video_url,
            "virtual_tour_url": self.virtual_tour_url,
            "is_verified": self.is_verified,
            "verification_tier": self.verification_tier.value,
            "verification_date": iso(self.verification_date),
            "lifestyle_data": self.lifestyle_data.view() if self.lifestyle_data else None,
            "status": self.status.value,
            "held_by_admin": self.held_by_admin,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def summary_view(self) -> PropertySummaryView:
        """A compact card (shortlists, chat lists): what a list row shows."""
        return {
            "property_id": self.id,
            "title": self.title,
            "rent": paise_to_rupees(self.rent_paise),
            "bhk_type": self.bhk_type.value,
            "property_type": self.property_type.value,
            "city": self.location.city,
            "locality": self.location.locality,
            "image": self.images[0] if self.images else None,
            "is_verified": self.is_verified,
            "status": self.status.value,
        }

    # ------------------------------------------------------------------ guarded operations
    #
    # Every write to a stored listing is one of these: one atomic single-document update whose filter (its
    # guard) names the state it may change, so concurrent callers cannot overwrite each other. Those that
    # return a Property return None when the guard matched nothing; the caller finds out why.

    @classmethod
    async def record_view(cls, property_id: str, *, premium: bool, now: datetime) -> None:
        """Count one view (and a premium viewer's) on ``now``'s UTC day, and when it was.

        Guard: active. The caller counts a viewer once a day by the PropertyView mark it stored first.
        """
        increments: dict[str, int] = {
            "analytics.total_views": 1,
            f"analytics.views_history.{now.date().isoformat()}": 1,
        }
        if premium:
            increments["analytics.premium_views"] = 1
        await collection_of(cls).update_one(
            {"_id": property_id, "status": PropertyStatus.ACTIVE.value},
            {"$inc": increments, "$set": {"analytics.last_viewed": now}},
        )

    @classmethod
    async def record_contact(cls, property_id: str) -> None:
        """Count a renter's first contact (a new chat) with the listing's owner.

        Guard: none beyond the id; the caller counts only the chat insert that succeeded (the unique
        (property_id, renter_id) index of chats refuses a second one).
        """
        await collection_of(cls).update_one({"_id": property_id}, {"$inc": {"analytics.total_contacts": 1}})

    @classmethod
    async def record_shortlisted(cls, property_id: str) -> None:
        """One more renter shortlisted the listing.

        Guard: none beyond the id; the caller counts only the shortlist insert that succeeded (the unique
        (user_id, property_id) index refuses a second one), so the count stays exact.
        """
        await collection_of(cls).update_one(
            {"_id": property_id}, {"$inc": {"analytics.shortlisted_count": 1}}
        )

    @classmethod
    async def record_unshortlisted(cls, property_id: str) -> None:
        """One renter fewer has the listing shortlisted.

        Guard: none beyond the id; the caller counts only the shortlist delete that removed a row.
        """
        await collection_of(cls).update_one(
            {"_id": property_id}, {"$inc": {"analytics.shortlisted_count": -1}}
        )

    @classmethod
    async def edit_by_owner(
        cls,
        property_id: str,
        *,
        owner_id: str,
        currently_active: bool,
        changes: ListingChanges,
        now: datetime,
    ) -> Property | None:
        """An owner's edit of their listing's own fields (status among them); the listing after it.

        Guard: the owner's, not held by an admin, and active (``currently_active``) or off the market
        (inactive, rented) as the caller saw it, so of concurrent edits exactly one sees each
        active <-> off-market transition and moves the owner's active-listing count for it.
        """
        status = PropertyStatus.ACTIVE.value if currently_active else {"$in": OFF_MARKET}
        raw = await collection_of(cls).find_one_and_update(
            {"_id": property_id, "owner_id": owner_id, "held_by_admin": {"$ne": True}, "status": status},
            {"$set": {**changes, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def edit_by_admin(
        cls, property_id: str, *, changes: ListingChanges, now: datetime
    ) -> Property | None:
        """An admin's edit; the listing before it. A status an admin sets holds the listing there: anything
        but active is held (its owner cannot relist it) until an admin makes it active again.

        Guard: none beyond the id (admins may edit any listing, a deleted one too).
        """
        values: dict[str, Any] = {**changes, "updated_at": now}
        if "status" in changes:
            values["held_by_admin"] = changes["status"] != PropertyStatus.ACTIVE.value
        raw = await collection_of(cls).find_one_and_update(
            {"_id": property_id}, {"$set": values}, return_document=ReturnDocument.BEFORE
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def mark_deleted(
        cls, property_id: str, *, now: datetime, owner_id: str | None = None
    ) -> Property | None:
        """Soft delete (by its owner when ``owner_id`` is given, else by an admin); the listing before it.

        Guard: not deleted yet (and the owner's), so one caller deletes it and sees the status it left.
        """
        match: dict[str, Any] = {"_id": property_id, "status": {"$ne": PropertyStatus.DELETED.value}}
        if owner_id is not None:
            match["owner_id"] = owner_id
        raw = await collection_of(cls).find_one_and_update(
            match,
            {"$set": {"status": PropertyStatus.DELETED.value, "updated_at": now}},
            return_document=ReturnDocument.BEFORE,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def mark_all_deleted(cls, *, owner_id: str, now: datetime) -> int:
        """Soft delete every listing of an owner (their account is deleted); how many it deleted.

        Guard: not deleted yet, so a listing already deleted keeps its status and time.
        """
        removed = await collection_of(cls).update_many(
            {"owner_id": owner_id, "status": {"$ne": PropertyStatus.DELETED.value}},
            {"$set": {"status": PropertyStatus.DELETED.value, "updated_at": now}},
        )
        return removed.modified_count

    @classmethod
    async def add_images(
        cls, property_id: str, *, owner_id: str, urls: Sequence[str], max_images: int, now: datetime
    ) -> Property | None:
        """Append images; the listing after it.

        Guard: the owner's, not deleted, not held by an admin, and room for all of them: index
        ``max_images - len(urls)`` must not exist before the push, so concurrent uploads cannot pass the cap.
        """
        raw = await collection_of(cls).find_one_and_update(
            {
                "_id": property_id,
                "owner_id": owner_id,
                "status": {"$ne": PropertyStatus.DELETED.value},
                "held_by_admin": {"$ne": True},
                f"images.{max_images - len(urls)}": {"$exists": False},
            },
            {"$push": {"images": {"$each": list(urls)}}, "$set": {"updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def remove_image(
        cls, property_id: str, *, owner_id: str, image_url: str, now: datetime
    ) -> Property | None:
        """Take one image off; the listing after it.

        Guard: the owner's, not deleted, not held by an admin, and the image on it.
        """
        raw = await collection_of(cls).find_one_and_update(
            {
                "_id": property_id,
                "owner_id": owner_id,
                "status": {"$ne": PropertyStatus.DELETED.value},
                "held_by_admin": {"$ne": True},
                "images": image_url,
            },
            {"$pull": {"images": image_url}, "$set": {"updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    # ---- verification: submitted by the owner, paid for, decided by an admin, withdrawn by a refund ----

    @classmethod
    async def record_verification_fee(
        cls, property_id: str, *, payment_id: str | None, now: datetime
    ) -> None:
        """The listing's verification fee was paid by ``payment_id``.

        Guard: none beyond the id; the caller applies each successful payment once (Transaction.mark_applied).
        """
        await collection_of(cls).update_one(
            {"_id": property_id},
            {"$set": {"verification_fee_paid": True, "payment_id": payment_id, "updated_at": now}},
        )

    @classmethod
    async def submit_verification(
        cls,
        property_id: str,
        *,
        owner_id: str,
        documents: Mapping[str, Any],
        payment_id: str | None,
        now: datetime,
    ) -> Property | None:
        """The owner's documents are waiting for review, the fee paid by ``payment_id``; the listing after it.

        Guard: the owner's and neither pending nor verified (tier free), so one submission waits at a time.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"_id": property_id, "owner_id": owner_id, "verification_tier": VerificationTier.FREE.value},
            {
                "$set": {
                    "verification_tier": VerificationTier.PENDING.value,
                    "verification_documents": dict(documents),
                    "verification_fee_paid": True,
                    "payment_id": payment_id,
                    "verification_submitted_at": now,
                    "verification_reviewed_at": None,
                    "verification_rejection_reason": None,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def approve_verification(cls, property_id: str, *, now: datetime) -> Property | None:
        """A pending request approved: the listing is verified; the listing after it.

        Guard: pending, so a request is decided once.
        """
        return await cls._decide_verification(property_id, approved=True, reason=None, now=now)

    @classmethod
    async def reject_verification(cls, property_id: str, *, reason: str, now: datetime) -> Property | None:
        """A pending request rejected with ``reason``: back to free (the owner may submit again); the
        listing after it.

        Guard: pending, so a request is decided once.
        """
        return await cls._decide_verification(property_id, approved=False, reason=reason, now=now)

    @classmethod
    async def _decide_verification(
        cls, property_id: str, *, approved: bool, reason: str | None, now: datetime
    ) -> Property | None:
        changes: dict[str, Any] = {
            "is_verified": approved,
            "verification_tier": (VerificationTier.VERIFIED if approved else VerificationTier.FREE).value,
            "verification_reviewed_at": now,
            "verification_rejection_reason": reason,
            "updated_at": now,
        }
        if approved:
            changes["verification_date"] = now
        raw = await collection_of(cls).find_one_and_update(
            {"_id": property_id, "verification_tier": VerificationTier.PENDING.value},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def force_verify(cls, property_id: str, *, now: datetime) -> Property | None:
        """An admin verifies the listing without a request; the listing before it.

        Guard: not verified and not deleted, so it is verified once.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"_id": property_id, "is_verified": False, "status": {"$ne": PropertyStatus.DELETED.value}},
            {
                "$set": {
                    "is_verified": True,
                    "verification_tier": VerificationTier.VERIFIED.value,
                    "verification_date": now,
                    "verification_reviewed_at": now,
                    "verification_rejection_reason": None,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.BEFORE,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def withdraw_verification(
        cls, property_id: str, *, payment_id: str, now: datetime
    ) -> Property | None:
        """The fee paid by ``payment_id`` was refunded: the listing is unpaid, unverified and out of review;
        the listing before it.

        Guard: still paid by that payment, so a listing it did not pay for keeps what it has.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"_id": property_id, "payment_id": payment_id},
            {
                "$set": {
                    "verification_fee_paid": False,
                    "payment_id": None,
                    "is_verified": False,
                    "verification_tier": VerificationTier.FREE.value,
                    "verification_date": None,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.BEFORE,
        )
        return None if raw is None else cls.model_validate(raw)
