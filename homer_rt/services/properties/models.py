"""What a listing request may say: the owner's create and edit bodies and the search queries, with their
limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic.config import JsonDict

from documents.property import BHKType, Property, PropertyType

MAX_IMAGES_PER_LISTING = 30
MAX_RUPEES = Decimal("100000000")  # ₹10 crore a month is a typo, not a rent
LIFESTYLE_RESULTS_MAX = 100
# Every list a listing holds is short and so is each of its strings (an amenity or a landmark is a name,
# not a document), so one listing stays a few kilobytes and a page of search results stays small.
MAX_LANDMARKS = 20
MAX_AMENITIES = 50
LIST_ITEM_MAX_CHARS = 100
URL_MAX_CHARS = 500

Furnishing = Literal["unfurnished", "semi-furnished", "fully-furnished"]
SortBy = Literal["price_low", "price_high", "recent", "default"]
OwnerStatus = Literal["active", "inactive", "rented"]

_PINCODE = r"^[1-9][0-9]{5}$"
_URL = r"^https?://\S+$"

ListItem = Annotated[str, StringConstraints(max_length=LIST_ITEM_MAX_CHARS)]


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


# Fields a PUT may leave out but never clear: a listing always has them.
_NEVER_NULL = ("title", "property_type", "bhk_type", "rent", "maintenance_charges", "location", "status")


def _never_null_in_schema(schema: JsonDict) -> None:
    """The schema says what ``_required_stay_set`` checks: those fields are optional, not nullable."""
    properties = schema["properties"]
    assert isinstance(properties, dict)
    for name in _NEVER_NULL:
        field = properties[name]
        assert isinstance(field, dict)
        options = field.pop("anyOf")
        assert isinstance(options, list)
        (kept,) = [option for option in options if option != {"type": "null"}]
        assert isinstance(kept, dict)
        field.pop("default", None)
        field.update(kept)


class PropertyUpdate(BaseModel):
    """PUT: any subset of the listing's own fields; anything else in the body is ignored."""

    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=True, json_schema_extra=_never_null_in_schema
    )

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
        for name in _NEVER_NULL:
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
