"""The properties collection: the spec's property model. JSON columns become embedded models of the same
shape; money is integer paise (exact, and range-queryable on both MongoDB and the embedded store)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, cast

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel
from typing_extensions import TypedDict

from documents.base import new_id
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
