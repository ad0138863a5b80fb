"""/api/admin: the admin console. Every route is for admins only (anonymous 401, anyone else 403)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from handlers.common import (
    admin_actor,
    json_body,
    json_response,
    parse_body,
    parse_body_or_query,
    parse_query,
    require_admin,
)
from handlers.paging import AdminListPage, ListPage
from homer_rt.appkeys import ADMIN, PAYMENTS, VERIFICATION
from homer_rt.clock import UtcDateTime
from homer_rt.services.admin_feed import pending_verification_counts
from homer_rt.services.verification.views import PendingVerification

routes = web.RouteTableDef()


class UserListQuery(AdminListPage):
    user_type: Literal["renter", "owner", "both", "all"] | None = None
    subscription_tier: Literal["free", "premium", "all"] | None = None
    verification_status: Literal["verified", "unverified", "pending", "rejected", "none", "all"] | None = None
    search: str | None = Field(default=None, max_length=200)


class PropertyListQuery(AdminListPage):
    status: Literal["active", "inactive", "rented", "deleted", "all"] | None = None
    verification_status: Literal["verified", "unverified", "pending", "all"] | None = None
    owner_id: str | None = Field(default=None, max_length=64)
    city: str | None = Field(default=None, max_length=100)


class TransactionListQuery(AdminListPage):
    transaction_type: Literal["renter_subscription", "property_verification", "all"] | None = None
    payment_status: Literal["pending", "success", "failed", "refunded", "all"] | None = None
    user_id: str | None = Field(default=None, max_length=64)
    date_from: UtcDateTime | None = None
    date_to: UtcDateTime | None = None


class AuditLogQuery(AdminListPage):
    limit: int = Field(default=100, ge=1, le=200)
    action_type: str | None = Field(default=None, max_length=100)
    entity_type: str | None = Field(default=None, max_length=50)
    admin_id: str | None = Field(default=None, max_length=64)
    entity_id: str | None = Field(default=None, max_length=64)
    status: Literal["success", "failed", "partial"] | None = None
    date_from: UtcDateTime | None = None
    date_to: UtcDateTime | None = None


class ReportListQuery(AdminListPage):
    status: Literal["open", "resolved", "all"] | None = None


class ResolveReportBody(BaseModel):
    action: str = Field(min_length=1, max_length=50)
    note: str | None = Field(default=None, max_length=2000)


class ApproveVerificationBody(BaseModel):
    verification_type: Literal["renter", "owner", "property"]
    entity_id: str = Field(min_length=1, max_length=100)


class RejectVerificationBody(ApproveVerificationBody):
    reason: str = Field(min_length=1, max_length=1000)


@routes.get("/api/admin/stats")
async def stats(request: web.Request) -> web.Response:
    await require_admin(request)
    return json_response(await request.app[ADMIN].stats())


# ---- users ---------------------------------------------------------------------------------------------


@routes.get("/api/admin/users")
async def list_users(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, UserListQuery)
    return json_response(await request.app[ADMIN].list_users(**query.model_dump()))


@routes.get("/api/admin/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    await require_admin(request)
    return json_response(await request.app[ADMIN].get_user(user_id=request.match_info["user_id"]))


@routes.put("/api/admin/users/{user_id}")
async def update_user(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await json_body(request)
    result = await request.app[ADMIN].update_user(
        actor=admin_actor(request, admin), user_id=request.match_info["user_id"], body=body
    )
    return json_response(result)


@routes.delete("/api/admin/users/{user_id}")
async def delete_user(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    result = await request.app[ADMIN].delete_user(
        actor=admin_actor(request, admin), user_id=request.match_info["user_id"]
    )
    return json_response(result)


# ---- listings ------------------------------------------------------------------------------------------


@routes.get("/api/admin/properties")
async def list_properties(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, PropertyListQuery)
    return json_response(await request.app[ADMIN].list_properties(**query.model_dump()))


@routes.put("/api/admin/properties/{property_id}")
async def update_property(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await json_body(request)
    result = await request.app[ADMIN].update_property(
        actor=admin_actor(request, admin), property_id=request.match_info["property_id"], body=body
    )
    return json_response(result)


@routes.delete("/api/admin/properties/{property_id}")
async def delete_property(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    result = await request.app[ADMIN].delete_property(
        actor=admin_actor(request, admin), property_id=request.match_info["property_id"]
    )
    return json_response(result)


@routes.post("/api/admin/properties/{property_id}/force-verify")
async def force_verify_property(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    result = await request.app[ADMIN].force_verify_property(
        actor=admin_actor(request, admin), property_id=request.match_info["property_id"]
    )
    return json_response(result)


# ---- verifications -------------------------------------------------------------------------------------
# The decisions are the verification service's, the same code path as /api/verification/admin/*; it writes
# the audit entry, notifies the user and pushes the new counts to /admin.


@routes.get("/api/admin/verifications/pending")
async def pending_verifications(request: web.Request) -> web.Response:
    await require_admin(request)
    page = parse_query(request, ListPage)
    items = await request.app[VERIFICATION].pending(page=page.page, limit=page.limit)
    grouped: dict[str, list[PendingVerification]] = {"renter": [], "owner": [], "property": []}
    for item in items:
        grouped.setdefault(str(item["verification_type"]), []).append(item)
    return json_response(
        {
            "pending_renter_verifications": grouped["renter"],
            "pending_owner_verifications": grouped["owner"],
            "pending_property_verifications": grouped["property"],
            # The whole queue, not only this page of it.
            "total_pending": sum((await pending_verification_counts()).values()),
        }
    )


@routes.post("/api/admin/verifications/approve")
async def approve_verification(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await parse_body_or_query(request, ApproveVerificationBody)
    result = await request.app[VERIFICATION].approve(
        verification_type=body.verification_type, entity_id=body.entity_id, actor=admin_actor(request, admin)
    )
    return json_response(result)


@routes.post("/api/admin/verifications/reject")
async def reject_verification(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await parse_body_or_query(request, RejectVerificationBody)
    result = await request.app[VERIFICATION].reject(
        verification_type=body.verification_type,
        entity_id=body.entity_id,
        reason=body.reason,
        actor=admin_actor(request, admin),
    )
    return json_response(result)


# ---- transactions --------------------------------------------------------------------------------------


@routes.get("/api/admin/transactions")
async def list_transactions(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, TransactionListQuery)
    return json_response(await request.app[ADMIN].list_transactions(**query.model_dump()))


@routes.post("/api/admin/transactions/{transaction_id}/refund")
async def refund_transaction(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    refunded = await request.app[PAYMENTS].refund(
        transaction_id=request.match_info["transaction_id"], actor=admin_actor(request, admin)
    )
    return json_response({"message": "Refund processed successfully", "transaction": refunded.api_view()})


# ---- chat reports --------------------------------------------------------------------------------------


@routes.get("/api/admin/reports")
async def list_reports(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, ReportListQuery)
    return json_response(await request.app[ADMIN].list_reports(**query.model_dump()))


@routes.post("/api/admin/reports/{report_id}/resolve")
async def resolve_report(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await parse_body(request, ResolveReportBody)
    result = await request.app[ADMIN].resolve_report(
        actor=admin_actor(request, admin),
        report_id=request.match_info["report_id"],
        action=body.action,
        note=body.note,
    )
    return json_response(result)


# ---- audit log -----------------------------------------------------------------------------------------


@routes.get("/api/admin/audit-logs")
async def audit_logs(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, AuditLogQuery)
    return json_response(await request.app[ADMIN].audit_logs(**query.model_dump()))
