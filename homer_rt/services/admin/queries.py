"""The admin lists' queries: what each list's filters mean as a MongoDB filter, and paging."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypeVar

from beanie import Document

from documents.property import VerificationTier
from documents.user import SubscriptionTier
from homer_rt.clock import as_utc
from homer_rt.services.admin.views import PageFields

DocT = TypeVar("DocT", bound=Document)


def page_fields(*, total: int, page: int, limit: int) -> PageFields:
    """Where a page of ``limit`` rows sits among ``total``; a list answers ``{rows_key: rows, **this}``."""
    return {"total_count": total, "page": page, "limit": limit, "has_more": page * limit < total}


async def find_page(
    document: type[DocT], query: dict[str, Any], *, sort: str, page: int, limit: int
) -> tuple[int, list[DocT]]:
    """How many match ``query``, and the ``page``-th ``limit`` of them in ``sort`` order."""
    total = await document.find(query).count()
    found = await document.find(query).sort(sort).skip((page - 1) * limit).limit(limit).to_list()
    return total, found


def date_range(field_name: str, date_from: datetime | None, date_to: datetime | None) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if date_from is not None:
        bounds["$gte"] = as_utc(date_from)
    if date_to is not None:
        bounds["$lte"] = as_utc(date_to)
    return {field_name: bounds} if bounds else {}


def contains(text: str) -> dict[str, str]:
    return {"$regex": re.escape(text), "$options": "i"}


def user_filter(
    *,
    now: datetime,
    user_type: str | None,
    subscription_tier: str | None,
    verification_status: str | None,
    search: str | None,
) -> dict[str, Any]:
    """Premium means premium now (a lapsed subscription is free); a verification status matches either
    role's; the search looks in name, e-mail and phone."""
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
        text = contains(search.strip())
        clauses.append({"$or": [{"full_name": text}, {"email": text}, {"phone": text}]})
    return {"$and": clauses} if clauses else {}


def listing_filter(
    *, status: str | None, verification_status: str | None, owner_id: str | None, city: str | None
) -> dict[str, Any]:
    """A city matches whole and in any case; pending means submitted and not yet verified."""
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
    return query


def transaction_filter(
    *,
    transaction_type: str | None,
    payment_status: str | None,
    user_id: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if transaction_type and transaction_type != "all":
        query["transaction_type"] = transaction_type
    if payment_status and payment_status != "all":
        query["payment_status"] = payment_status
    if user_id:
        query["user_id"] = user_id
    query.update(date_range("created_at", date_from, date_to))
    return query


def audit_log_filter(
    *,
    action_type: str | None,
    entity_type: str | None,
    admin_id: str | None,
    entity_id: str | None,
    status: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
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
    query.update(date_range("timestamp", date_from, date_to))
    return query
