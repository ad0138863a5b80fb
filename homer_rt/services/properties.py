"""Listings: create, search, view (counted once per viewer per day), owner edits, images and analytics.

Every change to a listing is one atomic single-document update guarded by owner and status, so two
owners' tabs, a concurrent view and an image upload never overwrite each other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of
from documents.property import (
    BHKType,
    Location,
    Property,
    PropertyDetails,
    PropertyStatus,
    PropertyType,
)
from documents.property_view import PropertyView
from documents.stored_file import StoredFile
from documents.user import User
from homer_rt.clock import Clock
from homer_rt.errors import BadRequest, Conflict, Forbidden, NotFound
from homer_rt.money import rupees_to_paise
from homer_rt.services.lifestyle import LifestyleProvider
from homer_rt.services.listing_quota import give_back_listing_slot, take_listing_slot
from homer_rt.services.uploads import UploadService

MAX_IMAGES_PER_LISTING = 30
MAX_RUPEES = Decimal("100000000")  # ₹10 crore a month is a typo, not a rent
LIFESTYLE_RESULTS_MAX = 100
# Every list a listing holds is short and so is each of its strings (an amenity or a landmark is a name,
# not a document), so one listing stays a few kilobytes and a page of search results stays small.
MAX_LANDMARKS = 20
MAX_AMENITIES = 50
LIST_ITEM_MAX_CHARS = 100
URL_MAX_CHARS = 500
# A view mark is needed only during its UTC day; two days from that midnight cover clock skew between
# processes, and the TTL index removes it after that.
VIEW_MARK_KEPT = timedelta(days=2)
# An owner's edit retries when the listing's status changed under it (another tab); more is a real fight.
CHANGE_ATTEMPTS = 3

Furnishing = Literal["unfurnished", "semi-furnished", "fully-furnished"]
SortBy = Literal["price_low", "price_high", "recent", "default"]
OwnerStatus = Literal["active", "inactive", "rented"]

_PINCODE = r"^[1-9][0-9]{5}$"
_URL = r"^https?://\S+$"

ListItem = Annotated[str, StringConstraints(max_length=LIST_ITEM_MAX_CHARS)]
OFF_MARKET = [PropertyStatus.INACTIVE.value, PropertyStatus.RENTED.value]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _bhk(value: Any) -> Any:
    """Query strings turn "4BHK+" into "4BHK " ('+' means space there); accept it and any case."""
    if isinstance(value, str):
        cleaned = value.strip().upper()
        return "4BHK+" if cleaned == "4BHK" else cleaned
    return value


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    address: str = Field(min_length=1, max_length=500)
    city: str = Field(min_length=1, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    pincode: str | None = Field(default=None, pattern=_PINCODE)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    locality: str | None = Field(default=None, max_length=100)
    landmarks: list[ListItem] = Field(default_factory=list, max_length=MAX_LANDMARKS)

    @field_validator("pincode", mode="before")
    @classmethod
    def _pincode_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class DetailsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    carpet_area: float | None = Field(default=None, gt=0, le=100_000)
    total_floors: int | None = Field(default=None, ge=0, le=200)
    floor_number: int | None = Field(default=None, ge=-5, le=200)
    furnishing: Furnishing | None = None
    parking: str | None = Field(default=None, max_length=100)
    amenities: list[ListItem] = Field(default_factory=list, max_length=MAX_AMENITIES)
    bathrooms: int | None = Field(default=None, ge=0, le=20)
    balconies: int | None = Field(default=None, ge=0, le=20)
    facing: str | None = Field(default=None, max_length=50)
    age_of_property: str | None = Field(default=None, max_length=50)
    available_from: date | None = None
    preferred_tenants: str | None = Field(default=None, max_length=100)
    pets_allowed: bool | None = None
    vegetarian_only: bool | None = None


class _ListingFields(BaseModel):
    """What an owner may write on their listing. owner_id, verification, analytics, images (managed by the
    image routes) and the deleted status are not here, so no request can set them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    property_type: PropertyType
    bhk_type: BHKType
    rent: Decimal = Field(gt=0, le=MAX_RUPEES)
    security_deposit: Decimal | None = Field(default=None, ge=0, le=MAX_RUPEES)
    maintenance_charges: Decimal = Field(default=Decimal(0), ge=0, le=MAX_RUPEES)
    location: LocationIn
    details: DetailsIn = Field(default_factory=DetailsIn)
    video_url: str | None = Field(default=None, max_length=500, pattern=_URL)
    virtual_tour_url: str | None = Field(default=None, max_length=500, pattern=_URL)

    @field_validator("bhk_type", mode="before")
    @classmethod
    def _bhk_spelling(cls, value: Any) -> Any:
        return _bhk(value)


class PropertyCreate(_ListingFields):
    images: list[Annotated[str, StringConstraints(max_length=URL_MAX_CHARS)]] = Field(
        default_factory=list, max_length=MAX_IMAGES_PER_LISTING
    )

    @field_validator("images")
    @classmethod
    def _no_foreign_images(cls, value: list[str]) -> list[str]:
        if value:
            raise ValueError(
                "create the listing first, then add images with POST /api/properties/{id}/upload-images"
            )
        return value


class PropertyUpdate(BaseModel):
    """PUT: any subset of the listing's own fields; anything else in the body is ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    property_type: PropertyType | None = None
    bhk_type: BHKType | None = None
    rent: Decimal | None = Field(default=None, gt=0, le=MAX_RUPEES)
    security_deposit: Decimal | None = Field(default=None, ge=0, le=MAX_RUPEES)
    maintenance_charges: Decimal | None = Field(default=None, ge=0, le=MAX_RUPEES)
    location: LocationIn | None = None
    details: DetailsIn | None = None
    video_url: str | None = Field(default=None, max_length=500, pattern=_URL)
    virtual_tour_url: str | None = Field(default=None, max_length=500, pattern=_URL)
    # Owners take a listing off the market and back; "deleted" is the DELETE route's, and verification
    # and payment flags belong to admins and the payment flow.
    status: OwnerStatus | None = None

    @field_validator("bhk_type", mode="before")
    @classmethod
    def _bhk_spelling(cls, value: Any) -> Any:
        return _bhk(value)

    @model_validator(mode="after")
    def _required_stay_set(self) -> PropertyUpdate:
        for name in (
            "title",
            "property_type",
            "bhk_type",
            "rent",
            "maintenance_charges",
            "location",
            "status",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    city: str | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=100)
    min_price: Decimal | None = Field(default=None, ge=0, le=MAX_RUPEES)
    max_price: Decimal | None = Field(default=None, ge=0, le=MAX_RUPEES)
    bhk_type: BHKType | None = None
    property_type: PropertyType | None = None
    furnishing: Furnishing | None = None
    verified_only: bool = False
    sort_by: SortBy = "default"
    page: int = Field(default=1, ge=1, le=10_000)
    limit: int = Field(default=20, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: _blank_to_none(v) for k, v in data.items()}
            data = {k: v for k, v in data.items() if v is not None}
            if "bhk_type" in data:
                data["bhk_type"] = _bhk(data["bhk_type"])
        return data

    @model_validator(mode="after")
    def _price_range(self) -> SearchQuery:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price cannot be more than max_price")
        return self


class LifestyleQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    max_aqi: int | None = Field(default=None, ge=0, le=1000)
    max_noise: int | None = Field(default=None, ge=0, le=200)
    min_walkability: int | None = Field(default=None, ge=0, le=100)
    near_parks: bool | None = None
    budget: Decimal | None = Field(default=None, gt=0, le=MAX_RUPEES)
    bhk: BHKType | None = None
    city: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=50, ge=1, le=LIFESTYLE_RESULTS_MAX)

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v for k, v in ((k, _blank_to_none(v)) for k, v in data.items()) if v is not None}
            if "bhk" in data:
                data["bhk"] = _bhk(data["bhk"])
        return data


@dataclass(frozen=True, slots=True)
class SearchPage:
    properties: list[Property]
    total_count: int
    page: int
    has_more: bool


def _contains(text: str) -> dict[str, str]:
    """Case-insensitive substring match with every regex metacharacter taken literally."""
    return {"$regex": re.escape(text), "$options": "i"}


def _paise(value: Decimal | None, field: str) -> int | None:
    return None if value is None else rupees_to_paise(value, field=field)


def _storable(value: Any) -> Any:
    """BSON has no date type: a calendar date is stored as its midnight UTC, as Beanie's insert does."""
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value


def _load(raw: Any) -> Property:
    listing: Property = Property.model_validate(raw)
    return listing


def _not_found() -> NotFound:
    return NotFound("Property not found", code="property_not_found")


def _view_mark_id(property_id: str, viewer_key: str, day: date) -> str:
    return hashlib.sha256(f"{property_id}\n{viewer_key}\n{day.isoformat()}".encode()).hexdigest()


class PropertyService:
    def __init__(
        self,
        *,
        clock: Clock,
        uploads: UploadService,
        lifestyle: LifestyleProvider,
        max_active_listings_per_owner: int,
    ) -> None:
        self._clock = clock
        self._uploads = uploads
        self._lifestyle = lifestyle
        self._max_active_listings = max_active_listings_per_owner

    def _slot_limit(self, user: User) -> int | None:
        return None if user.is_admin else self._max_active_listings

    @staticmethod
    def _collection() -> Any:
        return collection_of(Property)

    async def create(self, *, owner: User, data: PropertyCreate) -> Property:
        if not owner.is_owner:
            raise Forbidden("Only owners can create properties", code="owner_required")
        now = self._clock.now()
        location = Location(**data.location.model_dump())
        listing = Property(
            owner_id=owner.id,
            title=data.title,
            description=data.description,
            property_type=data.property_type,
            bhk_type=data.bhk_type,
            rent_paise=rupees_to_paise(data.rent, field="rent"),
            security_deposit_paise=_paise(data.security_deposit, "security_deposit"),
            maintenance_charges_paise=rupees_to_paise(data.maintenance_charges, field="maintenance_charges"),
            location=location,
            details=PropertyDetails(**data.details.model_dump()),
            video_url=data.video_url,
            virtual_tour_url=data.virtual_tour_url,
            lifestyle_data=await self._lifestyle.lifestyle_for(location=location, now=now),
            created_at=now,
        )
        # The slot first: concurrent creates at the cap cannot both pass (listing_quota).
        await take_listing_slot(owner_id=owner.id, limit=self._slot_limit(owner))
        try:
            await listing.insert()
        except BaseException:
            await give_back_listing_slot(owner_id=owner.id)
            raise
        return listing

    async def get(self, property_id: str) -> Property:
        listing = await Property.get(property_id)
        if listing is None or listing.status == PropertyStatus.DELETED:
            raise _not_found()
        return listing

    async def view(self, *, property_id: str, viewer: User | None, viewer_address: str) -> Property:
        """The listing for GET /api/properties/{id}: a 404 to anyone it is not visible to, exactly as for a
        missing id. A public listing counts the view of anyone but its owner, once per viewer per UTC day
        (a signed-in viewer by account, an anonymous one by client address)."""
        listing = await self.get(property_id)
        if not listing.visible_to(viewer):
            raise _not_found()
        if listing.is_public and (viewer is None or viewer.id != listing.owner_id):
            await self._count_view(listing=listing, viewer=viewer, viewer_address=viewer_address)
        return listing

    async def _count_view(self, *, listing: Property, viewer: User | None, viewer_address: str) -> None:
        now = self._clock.now()
        day = now.date()
        viewer_key = f"user:{viewer.id}" if viewer is not None else f"address:{viewer_address}"
        midnight = datetime.combine(day, time.min, tzinfo=UTC)
        mark = PropertyView(
            id=_view_mark_id(listing.id, viewer_key, day), expires_at=midnight + VIEW_MARK_KEPT
        )
        try:
            await mark.insert()
        except DuplicateKeyError:
            return  # this viewer was counted today: only the request that stored the mark counts
        increments: dict[str, int] = {
            "analytics.total_views": 1,
            f"analytics.views_history.{day.isoformat()}": 1,
        }
        if viewer is not None and viewer.is_premium(now):
            increments["analytics.premium_views"] = 1
        await self._collection().update_one(
            {"_id": listing.id, "status": PropertyStatus.ACTIVE.value},
            {"$inc": increments, "$set": {"analytics.last_viewed": now}},
        )

    async def search(self, *, query: SearchQuery) -> SearchPage:
        match: dict[str, Any] = {"status": PropertyStatus.ACTIVE.value}
        if query.city:
            match["location.city"] = _contains(query.city)
        if query.location:
            match["location.locality"] = _contains(query.location)
        price: dict[str, int] = {}
        if query.min_price is not None:
            price["$gte"] = rupees_to_paise(query.min_price, field="min_price")
        if query.max_price is not None:
            price["$lte"] = rupees_to_paise(query.max_price, field="max_price")
        if price:
            match["rent_paise"] = price
        if query.bhk_type is not None:
            match["bhk_type"] = query.bhk_type.value
        if query.property_type is not None:
            match["property_type"] = query.property_type.value
        if query.furnishing is not None:
            match["details.furnishing"] = query.furnishing
        if query.verified_only:
            match["is_verified"] = True

        # _id last: a stable order, so pages never repeat or skip a listing with an equal sort key.
        sort: list[tuple[str, int]] = {
            "price_low": [("rent_paise", 1), ("created_at", -1)],
            "price_high": [("rent_paise", -1), ("created_at", -1)],
            "recent": [("created_at", -1)],
            "default": [("is_verified", -1), ("created_at", -1)],
        }[query.sort_by] + [("_id", 1)]

        collection = self._collection()
        total = await collection.count_documents(match)
        offset = (query.page - 1) * query.limit
        cursor = collection.find(match).sort(sort).skip(offset).limit(query.limit)
        listings = [Property.model_validate(doc) async for doc in cursor]
        return SearchPage(
            properties=listings, total_count=total, page=query.page, has_more=offset + query.limit < total
        )

    async def lifestyle_search(self, *, user: User, query: LifestyleQuery) -> tuple[list[Property], int]:
        if not user.is_premium(self._clock.now()):
            raise Forbidden("Lifestyle search is only available for premium users", code="premium_required")
        match: dict[str, Any] = {
            "status": PropertyStatus.ACTIVE.value,
            "is_verified": True,
            "lifestyle_data": {"$ne": None},
        }
        if query.max_aqi is not None:
            match["lifestyle_data.aqi_score"] = {"$lte": query.max_aqi}
        if query.max_noise is not None:
            match["lifestyle_data.noise_level"] = {"$lte": query.max_noise}
        if query.min_walkability is not None:
            match["lifestyle_data.walkability_score"] = {"$gte": query.min_walkability}
        if query.near_parks:
            match["lifestyle_data.nearby_parks"] = {"$gte": 1}
        if query.budget is not None:
            match["rent_paise"] = {"$lte": rupees_to_paise(query.budget, field="budget")}
        if query.bhk is not None:
            match["bhk_type"] = query.bhk.value
        if query.city:
            match["location.city"] = _contains(query.city)
        collection = self._collection()
        total = await collection.count_documents(match)
        cursor = (
            collection.find(match)
            .sort([("lifestyle_data.aqi_score", 1), ("created_at", -1), ("_id", 1)])
            .limit(query.limit)
        )
        return [Property.model_validate(doc) async for doc in cursor], total

    async def my_properties(self, *, owner_id: str, page: int, limit: int) -> list[Property]:
        cursor = (
            self._collection()
            .find({"owner_id": owner_id, "status": {"$ne": PropertyStatus.DELETED.value}})
            .sort([("created_at", -1), ("_id", 1)])
            .skip((page - 1) * limit)
            .limit(limit)
        )
        return [Property.model_validate(doc) async for doc in cursor]

    async def _owned(self, *, property_id: str, user: User) -> Property:
        listing = await self.get(property_id)
        if listing.owner_id != user.id:
            raise Forbidden("Not authorized: you do not own this property", code="not_property_owner")
        return listing

    async def _editable(self, *, property_id: str, user: User) -> Property:
        """The owner's listing, unless an admin took it down: then its owner still sees it but cannot change
        it (or relist it) until an admin does."""
        listing = await self._owned(property_id=property_id, user=user)
        if listing.held_by_admin:
            raise Forbidden(
                "This listing was taken down by an admin and cannot be changed; contact support",
                code="listing_held_by_admin",
            )
        return listing

    async def _change_owned(self, *, property_id: str, user: User, values: dict[str, Any]) -> Property:
        """Apply an owner's ``$set`` to their listing, keeping their active-listing count right when the
        status changes. Each update is conditional on the status the listing has now, so one request alone
        sees each active <-> off-market transition and moves the counter once for it."""
        target = values.get("status")
        owned = {"_id": property_id, "owner_id": user.id, "held_by_admin": {"$ne": True}}
        collection = self._collection()
        for _ in range(CHANGE_ATTEMPTS):
            raw = await collection.find_one_and_update(
                {**owned, "status": PropertyStatus.ACTIVE.value},
                {"$set": values},
                return_document=ReturnDocument.AFTER,
            )
            if raw is not None:
                if target is not None and target != PropertyStatus.ACTIVE.value:
                    await give_back_listing_slot(owner_id=user.id)
                return _load(raw)
            activating = target == PropertyStatus.ACTIVE.value
            if activating:  # the slot before the listing goes live, as for a new listing
                await take_listing_slot(owner_id=user.id, limit=self._slot_limit(user))
            try:
                raw = await collection.find_one_and_update(
                    {**owned, "status": {"$in": OFF_MARKET}},
                    {"$set": values},
                    return_document=ReturnDocument.AFTER,
                )
            except BaseException:
                if activating:
                    await give_back_listing_slot(owner_id=user.id)
                raise
            if raw is not None:
                return _load(raw)
            if activating:
                await give_back_listing_slot(owner_id=user.id)
            await self._editable(property_id=property_id, user=user)  # gone, not theirs or held: says so
            # Otherwise its status changed between the two updates (another tab): try again from the new one.
        raise Conflict("The listing changed while it was being updated; try again", code="listing_changed")

    async def update(self, *, property_id: str, user: User, changes: PropertyUpdate) -> Property:
        await self._editable(property_id=property_id, user=user)
        now = self._clock.now()
        values: dict[str, Any] = {}
        given = changes.model_fields_set
        for name in ("title", "description", "video_url", "virtual_tour_url"):
            if name in given:
                values[name] = getattr(changes, name)
        if "property_type" in given and changes.property_type is not None:
            values["property_type"] = changes.property_type.value
        if "bhk_type" in given and changes.bhk_type is not None:
            values["bhk_type"] = changes.bhk_type.value
        if "status" in given:
            values["status"] = changes.status
        if "rent" in given:
            values["rent_paise"] = _paise(changes.rent, "rent")
        if "security_deposit" in given:
            values["security_deposit_paise"] = _paise(changes.security_deposit, "security_deposit")
        if "maintenance_charges" in given:
            values["maintenance_charges_paise"] = _paise(changes.maintenance_charges, "maintenance_charges")
        if "details" in given:
            details = changes.details or DetailsIn()
            values["details"] = _storable(details.model_dump())
        if changes.location is not None:
            location = Location(**changes.location.model_dump())
            values["location"] = location.model_dump()
            lifestyle = await self._lifestyle.lifestyle_for(location=location, now=now)
            values["lifestyle_data"] = lifestyle.model_dump()
        values["updated_at"] = now
        return await self._change_owned(property_id=property_id, user=user, values=values)

    async def delete(self, *, property_id: str, user: User) -> None:
        """Soft delete; allowed on a listing an admin took down (its owner may remove it)."""
        before = await self._collection().find_one_and_update(
            {"_id": property_id, "owner_id": user.id, "status": {"$ne": PropertyStatus.DELETED.value}},
            {"$set": {"status": PropertyStatus.DELETED.value, "updated_at": self._clock.now()}},
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            await self._owned(property_id=property_id, user=user)  # raises the right 404 / 403
            raise _not_found()
        if before.get("status") == PropertyStatus.ACTIVE.value:
            await give_back_listing_slot(owner_id=user.id)

    async def add_images(
        self, *, property_id: str, user: User, parts: AsyncIterator[aiohttp.BodyPartReader]
    ) -> list[str]:
        await self._editable(property_id=property_id, user=user)
        saved: list[StoredFile] = []
        try:
            async for part in parts:
                saved.append(
                    await self._uploads.save(
                        area="properties",
                        owner_segment=property_id,
                        uploader_id=user.id,
                        part=part,
                        kind="image",
                        referenced=True,  # on the listing by the end of this call, or discarded
                    )
                )
            if not saved:
                raise BadRequest("No image files in the request (field name: files)", code="no_files")
            urls = [f.url for f in saved]
            # The listing stays under the image cap: index (cap - n) must not exist before the push.
            guard = {f"images.{MAX_IMAGES_PER_LISTING - len(urls)}": {"$exists": False}}
            raw = await self._collection().find_one_and_update(
                {
                    "_id": property_id,
                    "owner_id": user.id,
                    "status": {"$ne": PropertyStatus.DELETED.value},
                    "held_by_admin": {"$ne": True},
                    **guard,
                },
                {"$push": {"images": {"$each": urls}}, "$set": {"updated_at": self._clock.now()}},
                return_document=ReturnDocument.AFTER,
            )
            if raw is None:
                await self._editable(property_id=property_id, user=user)
                raise Conflict(
                    f"A listing can have at most {MAX_IMAGES_PER_LISTING} images", code="too_many_images"
                )
        except BaseException:
            for stored in saved:
                await self._uploads.discard(stored)
            raise
        return urls

    async def remove_image(self, *, property_id: str, user: User, image_url: str) -> Property:
        raw = await self._collection().find_one_and_update(
            {
                "_id": property_id,
                "owner_id": user.id,
                "status": {"$ne": PropertyStatus.DELETED.value},
                "held_by_admin": {"$ne": True},
                "images": image_url,
            },
            {"$pull": {"images": image_url}, "$set": {"updated_at": self._clock.now()}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            await self._editable(property_id=property_id, user=user)
            raise NotFound("That image is not on this listing", code="image_not_found")
        stored = await self._uploads.find(url=image_url)
        if stored is not None and stored.area == "properties" and stored.owner_segment == property_id:
            await self._uploads.discard(stored)
        return _load(raw)

    async def analytics(self, *, property_id: str, user: User) -> dict[str, Any]:
        listing = await self._owned(property_id=property_id, user=user)
        return listing.analytics.model_dump(mode="json")
