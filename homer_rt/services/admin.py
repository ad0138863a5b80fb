"""The admin console: dashboard figures, moderation of users and listings, transactions, chat reports and
the audit trail.

Every state-changing method takes the acting admin and writes exactly one AdminAuditLog entry: a
successful one with the old and new values, or a failed one when the action raises (a domain error, or
anything unexpected, which then still reaches the client as the usual 500).
Verification decisions and refunds are not here: they live in the verification and payment services,
which audit themselves, so each decision has one code path whichever route it came in by.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pymongo import ReturnDocument

from documents.audit_log import AdminAuditLog
from documents.base import collection_of
from documents.chat import ChatReport, ReportResolution, ReportStatus
from documents.property import BHKType, Property, PropertyStatus, PropertyType, VerificationTier
from documents.transaction import PaymentStatus, Transaction, TransactionType
from documents.user import SubscriptionTier, User, UserType, VerificationStatus
from homer_rt.clock import Clock, UtcDateTime, as_utc, iso
from homer_rt.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from homer_rt.money import paise_to_rupees, rupees_to_paise
from homer_rt.services.admin_feed import AdminFeed, open_report_count, pending_verification_counts
from homer_rt.services.audit import AdminActor, AuditLog, Outcome
from homer_rt.services.auth import AuthService
from homer_rt.services.chats import ChatService
from homer_rt.services.listing_quota import follow_status_change
from homer_rt.services.notifications import NotificationService
from homer_rt.services.properties import MAX_RUPEES
from homer_rt.services.uploads import PROFILES_AREA, VERIFICATION_AREA, UploadService

RECENT_LIMIT = 5
# A deleted user's e-mail and phone are replaced by values no one can register (unique indexes stay
# satisfied, and the address is not deliverable: .invalid is reserved).
DELETED_EMAIL_DOMAIN = "deleted.invalid"
UNUSABLE_PASSWORD_HASH = "!deleted"

USER_EDITABLE = frozenset(
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
# Rupee fields in the API and the paise fields they are stored in.
_MONEY_FIELDS = {
    "rent": "rent_paise",
    "security_deposit": "security_deposit_paise",
    "maintenance_charges": "maintenance_charges_paise",
}


class ReportAction(StrEnum):
    DISMISS = "dismiss"
    BLOCK_CHAT = "block_chat"
    DEACTIVATE_USER = "deactivate_user"


class UserChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(default="", min_length=1, max_length=200)
    user_type: UserType = UserType.RENTER
    is_active: bool = True
    subscription_tier: SubscriptionTier = SubscriptionTier.FREE
    subscription_end: UtcDateTime | None = None
    profile_visibility: bool = True
    is_admin: bool = False


class PropertyChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


def _whitelisted(model: type[BaseModel], body: Any, allowed: frozenset[str], what: str) -> dict[str, Any]:
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
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False, include_context=False, include_input=False)
        ]
        names = ", ".join(sorted({f["field"] for f in fields}))
        raise ValidationFailed(f"Invalid or missing fields: {names}", fields=fields) from error
    return parsed.model_dump(exclude_unset=True)


def _paginated(key: str, items: list[Any], *, total: int, page: int, limit: int) -> dict[str, Any]:
    return {key: items, "total_count": total, "page": page, "limit": limit, "has_more": page * limit < total}


def _date_range(field_name: str, date_from: datetime | None, date_to: datetime | None) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if date_from is not None:
        bounds["$gte"] = as_utc(date_from)
    if date_to is not None:
        bounds["$lte"] = as_utc(date_to)
    return {field_name: bounds} if bounds else {}


def _contains(text: str) -> dict[str, str]:
    return {"$regex": re.escape(text), "$options": "i"}


def property_admin_view(prop: Property) -> dict[str, Any]:
    return {
        **prop.api_view(),
        "verification_documents": prop.verification_documents,
        "verification_fee_paid": prop.verification_fee_paid,
        "payment_id": prop.payment_id,
        "verification_submitted_at": iso(prop.verification_submitted_at),
        "verification_reviewed_at": iso(prop.verification_reviewed_at),
        "verification_rejection_reason": prop.verification_rejection_reason,
    }


class AdminService:
    def __init__(
        self,
        *,
        clock: Clock,
        audit: AuditLog,
        auth: AuthService,
        notifications: NotificationService,
        feed: AdminFeed,
        chats: ChatService,
        uploads: UploadService,
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._auth = auth
        self._notifications = notifications
        self._feed = feed
        self._chats = chats
        self._uploads = uploads

    # ---- dashboard ---------------------------------------------------------------------------------

    async def stats(self) -> dict[str, Any]:
        now = self._clock.now()
        users = collection_of(User)
        properties = collection_of(Property)
        renter_types = [UserType.RENTER.value, UserType.BOTH.value]
        owner_types = [UserType.OWNER.value, UserType.BOTH.value]
        pending = await pending_verification_counts()
        revenue = await self._revenue()
        recent_users = await User.find({}).sort("-created_at").limit(RECENT_LIMIT).to_list()
        recent_properties = (
            await Property.find({"status": {"$ne": PropertyStatus.DELETED.value}})
            .sort("-created_at")
            .limit(RECENT_LIMIT)
            .to_list()
        )
        return {
            "users": {
                "total": await users.count_documents({}),
                "renters": await users.count_documents({"user_type": {"$in": renter_types}}),
                "owners": await users.count_documents({"user_type": {"$in": owner_types}}),
                "premium": await users.count_documents(
                    {"subscription_tier": SubscriptionTier.PREMIUM.value, "subscription_end": {"$gt": now}}
                ),
                "active": await users.count_documents({"is_active": True}),
            },
            "properties": {
                "total": await properties.count_documents({"status": {"$ne": PropertyStatus.DELETED.value}}),
                "active": await properties.count_documents({"status": PropertyStatus.ACTIVE.value}),
                "verified": await properties.count_documents(
                    {"is_verified": True, "status": {"$ne": PropertyStatus.DELETED.value}}
                ),
            },
            "verifications": {
                "pending_renters": pending["pending_renter_verifications"],
                "pending_owners": pending["pending_owner_verifications"],
                "pending_properties": pending["pending_property_verifications"],
                "total_pending": sum(pending.values()),
            },
            "revenue": revenue,
            "reports": {"open": await open_report_count()},
            "recent_activity": {
                "users": [
                    {
                        "user_id": u.id,
                        "name": u.full_name,
                        "user_type": u.user_type.value,
                        "created_at": iso(u.created_at),
                    }
                    for u in recent_users
                ],
                "properties": [
                    {
                        "property_id": p.id,
                        "title": p.title,
                        "city": p.location.city,
                        "status": p.status.value,
                        "created_at": iso(p.created_at),
                    }
                    for p in recent_properties
                ],
            },
        }

    async def _revenue(self) -> dict[str, Any]:
        """Money actually kept: successful payments not refunded, summed exactly in paise."""
        by_type = {t.value: 0 for t in TransactionType}
        cursor = collection_of(Transaction).find(
            {"payment_status": PaymentStatus.SUCCESS.value, "refunded_at": None},
            {"transaction_type": 1, "amount_paise": 1},
        )
        async for row in cursor:
            kind = str(row.get("transaction_type"))
            by_type[kind] = by_type.get(kind, 0) + int(row.get("amount_paise") or 0)
        return {
            "total": paise_to_rupees(sum(by_type.values())),
            "currency": "INR",
            "by_type": {kind: paise_to_rupees(paise) for kind, paise in by_type.items()},
        }

    # ---- users -------------------------------------------------------------------------------------

    async def list_users(
        self,
        *,
        user_type: str | None,
        subscription_tier: str | None,
        verification_status: str | None,
        search: str | None,
        page: int,
        limit: int,
    ) -> dict[str, Any]:
        now = self._clock.now()
        clauses: list[dict[str, Any]] = []
        if user_type and user_type != "all":
            clauses.append({"user_type": user_type})
        premium = {"subscription_tier": SubscriptionTier.PREMIUM.value, "subscription_end": {"$gt": now}}
        if subscription_tier == SubscriptionTier.PREMIUM.value:
            clauses.append(premium)
        elif subscription_tier == SubscriptionTier.FREE.value:
            clauses.append({"$nor": [premium]})
        if verification_status and verification_status != "all":
            if verification_status == "verified":
                clauses.append({"$or": [{"is_verified_renter": True}, {"is_verified_owner": True}]})
            elif verification_status == "unverified":
                clauses.append({"is_verified_renter": False, "is_verified_owner": False})
            else:
                clauses.append(
                    {
                        "$or": [
                            {"renter_verification_status": verification_status},
                            {"owner_verification_status": verification_status},
                        ]
                    }
                )
        if search and search.strip():
            text = _contains(search.strip())
            clauses.append({"$or": [{"full_name": text}, {"email": text}, {"phone": text}]})
        query: dict[str, Any] = {"$and": clauses} if clauses else {}
        total = await User.find(query).count()
        users = await User.find(query).sort("-created_at").skip((page - 1) * limit).limit(limit).to_list()
        return _paginated(
            "users", [dict(u.admin_view(now)) for u in users], total=total, page=page, limit=limit
        )

    async def get_user(self, *, user_id: str) -> dict[str, Any]:
        user = await User.get(user_id)
        if user is None:
            raise NotFound("User not found", code="user_not_found")
        view: dict[str, Any] = dict(user.admin_view(self._clock.now()))
        listings = collection_of(Property)
        view["listings"] = {
            "total": await listings.count_documents({"owner_id": user_id}),
            "active": await listings.count_documents(
                {"owner_id": user_id, "status": PropertyStatus.ACTIVE.value}
            ),
        }
        transactions = await Transaction.find({"user_id": user_id}).sort("-created_at").limit(20).to_list()
        view["recent_transactions"] = [t.api_view() for t in transactions]
        return view

    async def update_user(self, *, actor: AdminActor, user_id: str, body: Any) -> dict[str, Any]:
        fields = sorted(body) if isinstance(body, dict) else []

        async def work() -> Outcome[dict[str, Any]]:
            changes = _whitelisted(UserChanges, body, USER_EDITABLE, "user")
            now = self._clock.now()
            if user_id == actor.admin_id and (
                changes.get("is_active") is False or changes.get("is_admin") is False
            ):
                raise Conflict("You cannot deactivate or demote your own account", code="cannot_modify_self")
            values: dict[str, Any] = {}
            for name, value in changes.items():
                values[name] = value.value if hasattr(value, "value") else value
            if "subscription_end" in values and values["subscription_end"] is not None:
                values["subscription_end"] = as_utc(values["subscription_end"])
            if values.get("subscription_tier") == SubscriptionTier.PREMIUM.value:
                end = values.get("subscription_end")
                if end is None or end <= now:
                    raise ValidationFailed(
                        "Granting premium needs a subscription_end in the future",
                        fields=[{"field": "subscription_end", "message": "must be in the future"}],
                    )
                values["subscription_start"] = now
            before_raw = await collection_of(User).find_one_and_update(
                {"_id": user_id}, {"$set": values}, return_document=ReturnDocument.BEFORE
            )
            if before_raw is None:
                raise NotFound("User not found", code="user_not_found")
            before = User.model_validate(before_raw)
            if values.get("is_active") is False:
                await self._cut_off(user_id)
            elif values.get("is_admin") is False and before.is_admin:
                # A demoted admin's sockets close (their /admin ones must; the others reconnect).
                await self._auth.end_live_sessions(user_id=user_id)
            after = await User.get(user_id)
            if after is None:
                raise NotFound("User not found", code="user_not_found")
            changed = sorted(values)
            return Outcome(
                result={"message": "User updated successfully", "user": after.admin_view(now)},
                old_value=before.model_dump(mode="json", include=set(changed)),
                new_value=after.model_dump(mode="json", include=set(changed)),
            )

        return await self._audit.audited(
            actor=actor,
            action_type="user_update",
            entity_type="user",
            entity_id=user_id,
            details={"fields_updated": fields},
            work=work,
        )

    async def _cut_off(self, user_id: str) -> None:
        """Every token the user holds stops working and their live sockets close, here and now."""
        # The account is inactive, not merely logged out: logging in again will not help; the code says so.
        await self._auth.revoke_all_sessions(user_id=user_id, reason="account_inactive")

    async def deactivate_user(self, *, user_id: str, by_admin_id: str) -> None:
        """Deactivation outside PUT /users (a report's resolution): the same flag and the same cut-off."""
        if user_id == by_admin_id:
            raise Conflict("You cannot deactivate your own account", code="cannot_modify_self")
        result = await collection_of(User).update_one({"_id": user_id}, {"$set": {"is_active": False}})
        if result.matched_count == 0:
            raise NotFound("User not found", code="user_not_found")
        await self._cut_off(user_id)

    async def delete_user(self, *, actor: AdminActor, user_id: str) -> dict[str, Any]:
        async def work() -> Outcome[dict[str, Any]]:
            target = await User.get(user_id)
            if target is None:
                raise NotFound("User not found", code="user_not_found")
            if user_id == actor.admin_id:
                raise Conflict("You cannot delete your own account", code="cannot_delete_self")
            if target.is_admin:
                raise Forbidden("Cannot delete admin users", code="cannot_delete_admin")
            if target.email.endswith("@" + DELETED_EMAIL_DOMAIN):
                raise Conflict("User already deleted", code="user_already_deleted")
            now = self._clock.now()
            # Guarded on the e-mail we read: a concurrent delete or promotion makes this match nothing.
            raw = await collection_of(User).find_one_and_update(
                {"_id": user_id, "email": target.email, "is_admin": False},
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
                        "active_listings": 0,  # every listing of theirs is deleted below
                    }
                },
                return_document=ReturnDocument.AFTER,
            )
            if raw is None:
                raise Conflict("User changed while being deleted; try again", code="user_changed")
            await self._cut_off(user_id)
            # Their ID documents and photo go from storage, so their URLs answer 404. Chat attachments stay:
            # they are part of the other participant's conversation, and only its participants can open them.
            files_removed = await self._uploads.remove_all_of(
                uploader_id=user_id, areas=(VERIFICATION_AREA, PROFILES_AREA)
            )
            # Their pending identity checks leave the review queue: the documents are gone with them.
            withdrawn = 0
            for status_field in ("renter_verification_status", "owner_verification_status"):
                cleared = await collection_of(User).update_one(
                    {"_id": user_id, status_field: VerificationStatus.PENDING.value},
                    {"$set": {status_field: VerificationStatus.NONE.value}},
                )
                withdrawn += cleared.modified_count
            if withdrawn:
                await self._feed.publish_counts()
            removed = await collection_of(Property).update_many(
                {"owner_id": user_id, "status": {"$ne": PropertyStatus.DELETED.value}},
                {"$set": {"status": PropertyStatus.DELETED.value, "updated_at": now}},
            )
            # The audit entry keeps no personal data of someone who asked to be forgotten.
            return Outcome(
                result={
                    "message": "User deleted successfully",
                    "user_id": user_id,
                    "listings_removed": removed.modified_count,
                    "files_removed": files_removed,
                },
                old_value={"is_active": target.is_active, "user_type": target.user_type.value},
                new_value={"is_active": False, "anonymised": True},
                details={"listings_removed": removed.modified_count, "files_removed": files_removed},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="user_delete",
            entity_type="user",
            entity_id=user_id,
            details={},
            work=work,
        )

    # ---- listings ----------------------------------------------------------------------------------

    async def list_properties(
        self,
        *,
        status: str | None,
        verification_status: str | None,
        owner_id: str | None,
        city: str | None,
        page: int,
        limit: int,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if status and status != "all":
            query["status"] = status
        if verification_status == "verified":
            query["is_verified"] = True
        elif verification_status == "unverified":
            query["is_verified"] = False
        elif verification_status == "pending":
            query["is_verified"] = False
            query["verification_tier"] = VerificationTier.PENDING.value
        if owner_id:
            query["owner_id"] = owner_id
        if city and city.strip():
            query["location.city"] = {"$regex": f"^{re.escape(city.strip())}$", "$options": "i"}
        total = await Property.find(query).count()
        found = await Property.find(query).sort("-created_at").skip((page - 1) * limit).limit(limit).to_list()
        return _paginated(
            "properties", [property_admin_view(p) for p in found], total=total, page=page, limit=limit
        )

    async def update_property(self, *, actor: AdminActor, property_id: str, body: Any) -> dict[str, Any]:
        fields = sorted(body) if isinstance(body, dict) else []

        async def work() -> Outcome[dict[str, Any]]:
            changes = _whitelisted(PropertyChanges, body, PROPERTY_EDITABLE, "property")
            values: dict[str, Any] = {"updated_at": self._clock.now()}
            for name, value in changes.items():
                if name in _MONEY_FIELDS:
                    values[_MONEY_FIELDS[name]] = (
                        None if value is None else rupees_to_paise(value, field=name)
                    )
                else:
                    values[name] = value.value if hasattr(value, "value") else value
            if "status" in values:
                values["held_by_admin"] = values["status"] != PropertyStatus.ACTIVE.value
            before_raw = await collection_of(Property).find_one_and_update(
                {"_id": property_id}, {"$set": values}, return_document=ReturnDocument.BEFORE
            )
            if before_raw is None:
                raise NotFound("Property not found", code="property_not_found")
            if "status" in values:
                await follow_status_change(
                    owner_id=str(before_raw["owner_id"]),
                    property_id=property_id,
                    was_active=before_raw.get("status") == PropertyStatus.ACTIVE.value,
                    now_active=values["status"] == PropertyStatus.ACTIVE.value,
                )
            after = await Property.get(property_id)
            if after is None:
                raise NotFound("Property not found", code="property_not_found")
            before_view = Property.model_validate(before_raw).api_view()
            after_view = after.api_view()
            return Outcome(
                result={"message": "Property updated successfully", "property": property_admin_view(after)},
                old_value={name: before_view.get(name) for name in changes},
                new_value={name: after_view.get(name) for name in changes},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="property_update",
            entity_type="property",
            entity_id=property_id,
            details={"fields_updated": fields},
            work=work,
        )

    async def delete_property(self, *, actor: AdminActor, property_id: str) -> dict[str, Any]:
        async def work() -> Outcome[dict[str, Any]]:
            before_raw = await collection_of(Property).find_one_and_update(
                {"_id": property_id, "status": {"$ne": PropertyStatus.DELETED.value}},
                {"$set": {"status": PropertyStatus.DELETED.value, "updated_at": self._clock.now()}},
                return_document=ReturnDocument.BEFORE,
            )
            if before_raw is None:
                if await Property.get(property_id) is None:
                    raise NotFound("Property not found", code="property_not_found")
                raise Conflict("Property already deleted", code="property_already_deleted")
            before = Property.model_validate(before_raw)
            await follow_status_change(
                owner_id=before.owner_id,
                property_id=property_id,
                was_active=before.status == PropertyStatus.ACTIVE,
                now_active=False,
            )
            return Outcome(
                result={"message": "Property deleted successfully", "property_id": property_id},
                old_value={"status": before.status.value},
                new_value={"status": PropertyStatus.DELETED.value},
                details={"property_title": before.title, "owner_id": before.owner_id},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="property_delete",
            entity_type="property",
            entity_id=property_id,
            details={},
            work=work,
        )

    async def force_verify_property(self, *, actor: AdminActor, property_id: str) -> dict[str, Any]:
        async def work() -> Outcome[dict[str, Any]]:
            now = self._clock.now()
            before_raw = await collection_of(Property).find_one_and_update(
                {
                    "_id": property_id,
                    "is_verified": False,
                    "status": {"$ne": PropertyStatus.DELETED.value},
                },
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
            if before_raw is None:
                existing = await Property.get(property_id)
                if existing is None:
                    raise NotFound("Property not found", code="property_not_found")
                if existing.status == PropertyStatus.DELETED:
                    raise Conflict("Property is deleted", code="property_deleted")
                raise Conflict("Property is already verified", code="property_already_verified")
            before = Property.model_validate(before_raw)
            after = await Property.get(property_id)
            if after is None:
                raise NotFound("Property not found", code="property_not_found")
            await self._notifications.notify(
                user_id=after.owner_id,
                type="verification_approved",
                title="Property verified",
                message=f'Your property "{after.title}" is now verified.',
                action_url=f"/property/{property_id}",
            )
            if before.verification_tier == VerificationTier.PENDING:
                await self._feed.publish_counts()
            return Outcome(
                result={"message": "Property force verified", "property": property_admin_view(after)},
                old_value={
                    "is_verified": before.is_verified,
                    "verification_tier": before.verification_tier.value,
                },
                new_value={"is_verified": True, "verification_tier": VerificationTier.VERIFIED.value},
                details={"previous_status": before.is_verified, "new_status": True},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="property_force_verify",
            entity_type="property",
            entity_id=property_id,
            details={},
            work=work,
        )

    # ---- transactions ------------------------------------------------------------------------------

    async def list_transactions(
        self,
        *,
        transaction_type: str | None,
        payment_status: str | None,
        user_id: str | None,
        date_from: datetime | None,
        date_to: datetime | None,
        page: int,
        limit: int,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if transaction_type and transaction_type != "all":
            query["transaction_type"] = transaction_type
        if payment_status and payment_status != "all":
            query["payment_status"] = payment_status
        if user_id:
            query["user_id"] = user_id
        query.update(_date_range("created_at", date_from, date_to))
        total = await Transaction.find(query).count()
        found = (
            await Transaction.find(query).sort("-created_at").skip((page - 1) * limit).limit(limit).to_list()
        )
        return _paginated("transactions", [t.api_view() for t in found], total=total, page=page, limit=limit)

    # ---- chat reports ------------------------------------------------------------------------------

    async def list_reports(self, *, status: str | None, page: int, limit: int) -> dict[str, Any]:
        """Open reports first (oldest waiting longest at the top), then resolved ones, newest first."""
        users = collection_of(User)
        if status and status != "all":
            query: dict[str, Any] = {"status": status}
            order = "+created_at" if status == ReportStatus.OPEN.value else "-resolved_at"
            total = await ChatReport.find(query).count()
            found = await ChatReport.find(query).sort(order).skip((page - 1) * limit).limit(limit).to_list()
        else:
            open_query = {"status": ReportStatus.OPEN.value}
            resolved_query = {"status": ReportStatus.RESOLVED.value}
            open_total = await ChatReport.find(open_query).count()
            total = open_total + await ChatReport.find(resolved_query).count()
            start = (page - 1) * limit
            found = (
                await ChatReport.find(open_query).sort("+created_at").skip(start).limit(limit).to_list()
                if start < open_total
                else []
            )
            if len(found) < limit:
                found += (
                    await ChatReport.find(resolved_query)
                    .sort("-resolved_at")
                    .skip(max(0, start - open_total))
                    .limit(limit - len(found))
                    .to_list()
                )
        names: dict[str, str | None] = {}
        ids = {r.reporter_id for r in found} | {r.reported_user_id for r in found}
        async for row in users.find({"_id": {"$in": sorted(ids)}}, {"full_name": 1}):
            names[str(row["_id"])] = row.get("full_name")
        items = [
            {
                **report.api_view(),
                "reporter_name": names.get(report.reporter_id),
                "reported_user_name": names.get(report.reported_user_id),
            }
            for report in found
        ]
        return _paginated("reports", items, total=total, page=page, limit=limit)

    async def resolve_report(
        self, *, actor: AdminActor, report_id: str, action: str, note: str | None
    ) -> dict[str, Any]:
        async def work() -> Outcome[dict[str, Any]]:
            try:
                chosen = ReportAction(action)
            except ValueError as exc:
                raise ValidationFailed(
                    "action must be dismiss, block_chat or deactivate_user",
                    fields=[{"field": "action", "message": "unknown action"}],
                ) from exc
            now = self._clock.now()
            # MongoDB keeps milliseconds; the stored value must equal this one for the release below.
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            resolution = ReportResolution(action=chosen.value, note=note)
            # Claimed atomically: two admins resolving at once cannot both act on the report.
            raw = await collection_of(ChatReport).find_one_and_update(
                {"_id": report_id, "status": ReportStatus.OPEN.value},
                {
                    "$set": {
                        "status": ReportStatus.RESOLVED.value,
                        "resolved_at": now,
                        "resolved_by": actor.admin_id,
                        "resolution": resolution.model_dump(),
                    }
                },
                return_document=ReturnDocument.AFTER,
            )
            if raw is None:
                if await ChatReport.get(report_id) is None:
                    raise NotFound("Report not found", code="report_not_found")
                raise Conflict("Report already resolved", code="report_already_resolved")
            report = ChatReport.model_validate(raw)
            details: dict[str, Any] = {
                "resolution": chosen.value,
                "note": note,
                "chat_id": report.chat_id,
                "reported_user_id": report.reported_user_id,
            }
            try:
                if chosen is ReportAction.BLOCK_CHAT:
                    await self._chats.set_blocked_by_admin(chat_id=report.chat_id)
                elif chosen is ReportAction.DEACTIVATE_USER:
                    target = await User.get(report.reported_user_id)
                    if target is not None and target.is_admin:
                        raise Forbidden(
                            "Admins cannot be deactivated from a report", code="cannot_modify_admin"
                        )
                    await self.deactivate_user(user_id=report.reported_user_id, by_admin_id=actor.admin_id)
            except DomainError:
                # The action did not happen, so the report goes back to the queue.
                await collection_of(ChatReport).update_one(
                    {"_id": report_id, "resolved_by": actor.admin_id, "resolved_at": now},
                    {
                        "$set": {
                            "status": ReportStatus.OPEN.value,
                            "resolved_at": None,
                            "resolved_by": None,
                            "resolution": None,
                        }
                    },
                )
                raise
            await self._feed.publish_counts()
            return Outcome(
                result={"message": "Report resolved", "report": report.api_view()},
                old_value={"status": ReportStatus.OPEN.value},
                new_value={"status": ReportStatus.RESOLVED.value, "resolution": chosen.value},
                details=details,
            )

        return await self._audit.audited(
            actor=actor,
            action_type="report_resolve",
            entity_type="chat_report",
            entity_id=report_id,
            details={"action": action},
            work=work,
        )

    # ---- audit log ---------------------------------------------------------------------------------

    async def audit_logs(
        self,
        *,
        action_type: str | None,
        entity_type: str | None,
        admin_id: str | None,
        entity_id: str | None,
        status: str | None,
        date_from: datetime | None,
        date_to: datetime | None,
        page: int,
        limit: int,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        for name, value in (
            ("action_type", action_type),
            ("entity_type", entity_type),
            ("admin_id", admin_id),
            ("entity_id", entity_id),
            ("status", status),
        ):
            if value:
                query[name] = value
        query.update(_date_range("timestamp", date_from, date_to))
        total = await AdminAuditLog.find(query).count()
        logs = (
            await AdminAuditLog.find(query).sort("-timestamp").skip((page - 1) * limit).limit(limit).to_list()
        )
        return _paginated("logs", [dict(e.api_view()) for e in logs], total=total, page=page, limit=limit)
