"""What an admin may change on a user or a listing: a whitelist of fields, each validated."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict

from documents.property import BHKType, PropertyStatus, PropertyType
from documents.user import ADMIN_FIELDS, SubscriptionTier, UserType
from homer_rt.clock import UtcDateTime
from homer_rt.errors import BadRequest, ValidationFailed
from homer_rt.services.properties import MAX_RUPEES

# The user fields are the document's whitelist, which its write (User.edit_by_admin) enforces as well.
USER_EDITABLE = ADMIN_FIELDS
PROPERTY_EDITABLE = frozenset(
    {
        "title",
        "description",
        "status",
        "property_type",
        "bhk_type",
        "rent",
        "security_deposit",
        "maintenance_charges",
        "video_url",
        "virtual_tour_url",
    }
)


def _only_fields_sent(schema: JsonDict) -> None:
    """The schema of a change: every field optional, at least one sent, and no defaults. The models' defaults
    only make each field optional; the changes are read with ``exclude_unset``, so a default never applies
    (and some, like an empty title, would not even be valid)."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for field_schema in properties.values():
            if isinstance(field_schema, dict):
                field_schema.pop("default", None)
    schema["minProperties"] = 1


class UserChanges(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_only_fields_sent)

    full_name: str = Field(default="", min_length=1, max_length=200)
    user_type: UserType = UserType.RENTER
    is_active: bool = True
    subscription_tier: SubscriptionTier = SubscriptionTier.FREE
    subscription_end: UtcDateTime | None = None
    profile_visibility: bool = True
    is_admin: bool = False


class PropertyChanges(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_only_fields_sent)

    title: str = Field(default="", min_length=3, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    status: PropertyStatus = PropertyStatus.ACTIVE
    property_type: PropertyType = PropertyType.APARTMENT
    bhk_type: BHKType = BHKType.ONE_BHK
    # The owner's bounds: an unbounded amount (1e308) overflows the integer paise it is stored as.
    rent: Decimal = Field(default=Decimal(1), gt=0, le=MAX_RUPEES)
    security_deposit: Decimal | None = Field(default=None, ge=0, le=MAX_RUPEES)
    maintenance_charges: Decimal = Field(default=Decimal(0), ge=0, le=MAX_RUPEES)
    video_url: str | None = Field(default=None, max_length=500)
    virtual_tour_url: str | None = Field(default=None, max_length=500)


def whitelisted(model: type[BaseModel], body: Any, allowed: frozenset[str], what: str) -> dict[str, Any]:
    """The body's fields, validated; any field outside the whitelist is refused by name (422)."""
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object", code="malformed_json")
    refused = sorted(set(body) - allowed)
    if refused:
        raise ValidationFailed(
            f"These {what} fields cannot be changed by an admin: {', '.join(refused)}",
            fields=[
                {"field": name, "message": "not an editable field", "type": "forbidden_field"}
                for name in refused
            ],
        )
    if not body:
        raise BadRequest(f"No fields to update; editable: {', '.join(sorted(allowed))}", code="nothing_to_do")
    try:
        parsed = model.model_validate(body)
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error) from error
    return parsed.model_dump(exclude_unset=True)
