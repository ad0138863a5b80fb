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
from handlers.contract import Access, operation
from handlers.paging import AdminListPage, ListPage
from homer_rt.appkeys import ADMIN, PAYMENTS, VERIFICATION
from homer_rt.clock import UtcDateTime
from homer_rt.services.admin import PropertyChanges, ReportAction, UserChanges
from homer_rt.services.admin.views import (
    AuditLogPage,
    PendingVerificationsResponse,
    PropertyChangedResponse,
    PropertyDeletedResponse,
    PropertyPage,
    RefundResponse,
    ReportPage,
    ReportResolvedResponse,
    StatsResponse,
    TransactionPage,
    UserDeletedResponse,
    UserDetailView,
    UserPage,
    UserUpdatedResponse,
)
from homer_rt.services.admin_feed import pending_verification_counts, total_pending
from homer_rt.services.verification.views import (
    PendingOwnerVerification,
    PendingPropertyVerification,
    PendingRenterVerification,
    VerificationDecisionResponse,
)

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
    # Any text is read; the service answers 422 for one that is not an action (the schema lists them).
    action: str = Field(
        min_length=1, max_length=50, json_schema_extra={"enum": [action.value for action in ReportAction]}
    )
    note: str | None = Field(default=None, max_length=2000)


class ApproveVerificationBody(BaseModel):
    verification_type: Literal["renter", "owner", "property"]
    entity_id: str = Field(min_length=1, max_length=100)


class RejectVerificationBody(ApproveVerificationBody):
    reason: str = Field(min_length=1, max_length=1000)


@routes.get("/api/admin/stats")
@operation(summary="Dashboard figures", tags="admin", access=Access.ADMIN, response=StatsResponse)
async def stats(request: web.Request) -> web.Response:
    await require_admin(request)
    return json_response(await request.app[ADMIN].dashboard.stats())


# ---- users ---------------------------------------------------------------------------------------------


@routes.get("/api/admin/users")
@operation(
    summary="Users, filtered", tags="admin", access=Access.ADMIN, query=UserListQuery, response=UserPage
)
async def list_users(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, UserListQuery)
    return json_response(await request.app[ADMIN].users.list_users(**query.model_dump()))


@routes.get("/api/admin/users/{user_id}")
@operation(
    summary="One user in full, with their listings' counts and latest transactions",
    tags="admin",
    access=Access.ADMIN,
    response=UserDetailView,
    errors=(404,),
)
async def get_user(request: web.Request) -> web.Response:
    await require_admin(request)
    return json_response(await request.app[ADMIN].users.get_user(user_id=request.match_info["user_id"]))


@routes.put("/api/admin/users/{user_id}")
@operation(
    summary="Change a user's account (only the fields listed)",
    tags="admin",
    access=Access.ADMIN,
    body=UserChanges,
    response=UserUpdatedResponse,
    # 400: no fields; 404: no such user; 409: an admin deactivating or demoting themselves; 422: a field
    # outside the list, or premium without a subscription_end in the future
    errors=(400, 404, 409, 422),
)
async def update_user(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await json_body(request)  # validated by the service against UserChanges, naming refused fields
    result = await request.app[ADMIN].users.update_user(
        actor=admin_actor(request, admin), user_id=request.match_info["user_id"], body=body
    )
    return json_response(result)


@routes.delete("/api/admin/users/{user_id}")
@operation(
    summary="Delete a user: the account is anonymised, their listings deleted, their documents removed",
    tags="admin",
    access=Access.ADMIN,
    response=UserDeletedResponse,
    # 403: an admin account; 404: no such user; 409: yourself, already deleted, or changed meanwhile
    errors=(403, 404, 409),
)
async def delete_user(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    result = await request.app[ADMIN].users.delete_user(
        actor=admin_actor(request, admin), user_id=request.match_info["user_id"]
    )
    return json_response(result)


# ---- listings ------------------------------------------------------------------------------------------


@routes.get("/api/admin/properties")
@operation(
    summary="Listings, filtered, with their verification files",
    tags="admin",
    access=Access.ADMIN,
    query=PropertyListQuery,
    response=PropertyPage,
)
async def list_properties(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, PropertyListQuery)
    return json_response(await request.app[ADMIN].listings.list_properties(**query.model_dump()))


@routes.put("/api/admin/properties/{property_id}")
@operation(
    summary="Change a listing (only the fields listed); a status other than active holds it off search",
    tags="admin",
    access=Access.ADMIN,
    body=PropertyChanges,
    response=PropertyChangedResponse,
    # 400: no fields, or an amount with more than two decimals; 404: no such listing; 422: a field outside
    # the list, or a value out of bounds
    errors=(400, 404, 422),
)
async def update_property(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await json_body(request)  # validated by the service against PropertyChanges, naming refused fields
    result = await request.app[ADMIN].listings.update_property(
        actor=admin_actor(request, admin), property_id=request.match_info["property_id"], body=body
    )
    return json_response(result)


@routes.delete("/api/admin/properties/{property_id}")
@operation(
    summary="Delete a listing",
    tags="admin",
    access=Access.ADMIN,
    response=PropertyDeletedResponse,
    errors=(404, 409),  # 409: already deleted
)
async def delete_property(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    result = await request.app[ADMIN].listings.delete_property(
        actor=admin_actor(request, admin), property_id=request.match_info["property_id"]
    )
    return json_response(result)


@routes.post("/api/admin/properties/{property_id}/force-verify")
@operation(
    summary="Verify a listing without the owner's request",
    tags="admin",
    access=Access.ADMIN,
    response=PropertyChangedResponse,
    errors=(404, 409),  # 409: deleted, or already verified
)
async def force_verify_property(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    result = await request.app[ADMIN].listings.force_verify_property(
        actor=admin_actor(request, admin), property_id=request.match_info["property_id"]
    )
    return json_response(result)


# ---- verifications -------------------------------------------------------------------------------------
# The decisions are the verification service's, the same code path as /api/verification/admin/*; it writes
# the audit entry, notifies the user and pushes the new counts to /admin.


@routes.get("/api/admin/verifications/pending")
@operation(
    summary="Verification requests waiting for a decision, by kind",
    tags="admin",
    access=Access.ADMIN,
    query=ListPage,
    response=PendingVerificationsResponse,
    description="One page of each kind, oldest first; `total_pending` counts the whole queue.",
)
async def pending_verifications(request: web.Request) -> web.Response:
    await require_admin(request)
    page = parse_query(request, ListPage)
    items = await request.app[VERIFICATION].pending(page=page.page, limit=page.limit)
    renters: list[PendingRenterVerification] = []
    owners: list[PendingOwnerVerification] = []
    properties: list[PendingPropertyVerification] = []
    for item in items:
        if item["verification_type"] == "renter":
            renters.append(item)
        elif item["verification_type"] == "owner":
            owners.append(item)
        else:
            properties.append(item)
    answer: PendingVerificationsResponse = {
        "pending_renter_verifications": renters,
        "pending_owner_verifications": owners,
        "pending_property_verifications": properties,
        # The whole queue, not only this page of it.
        "total_pending": total_pending(await pending_verification_counts()),
    }
    return json_response(answer)


@routes.post("/api/admin/verifications/approve")
@operation(
    summary="Approve a verification request",
    tags="admin",
    access=Access.ADMIN,
    body=ApproveVerificationBody,
    body_in_query=True,
    response=VerificationDecisionResponse,
    errors=(404, 409),  # 404: no such user or listing; 409: the request is not pending
)
async def approve_verification(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await parse_body_or_query(request, ApproveVerificationBody)
    result = await request.app[VERIFICATION].approve(
        verification_type=body.verification_type, entity_id=body.entity_id, actor=admin_actor(request, admin)
    )
    return json_response(result)


@routes.post("/api/admin/verifications/reject")
@operation(
    summary="Reject a verification request, with the reason the user will read",
    tags="admin",
    access=Access.ADMIN,
    body=RejectVerificationBody,
    body_in_query=True,
    response=VerificationDecisionResponse,
    # 400: a reason of blanks only; 404: no such user or listing; 409: the request is not pending
    errors=(400, 404, 409),
)
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
@operation(
    summary="Transactions, filtered",
    tags="admin",
    access=Access.ADMIN,
    query=TransactionListQuery,
    response=TransactionPage,
)
async def list_transactions(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, TransactionListQuery)
    return json_response(await request.app[ADMIN].transactions.list_transactions(**query.model_dump()))


@routes.post("/api/admin/transactions/{transaction_id}/refund")
@operation(
    summary="Refund a successful payment in full",
    tags="admin",
    access=Access.ADMIN,
    response=RefundResponse,
    # 400: not a successful payment, or made in the other payment mode; 404: no such transaction; 409: already
    # refunded, being refunded or still being processed; 502/504: Razorpay failed or did not answer; 503:
    # payments are not configured on this server
    errors=(400, 404, 409, 502, 503, 504),
)
async def refund_transaction(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    refunded = await request.app[PAYMENTS].refund(
        transaction_id=request.match_info["transaction_id"], actor=admin_actor(request, admin)
    )
    answer: RefundResponse = {"message": "Refund processed successfully", "transaction": refunded.api_view()}
    return json_response(answer)


# ---- chat reports --------------------------------------------------------------------------------------


@routes.get("/api/admin/reports")
@operation(
    summary="Chat reports: open ones first (oldest at the top), then resolved ones",
    tags="admin",
    access=Access.ADMIN,
    query=ReportListQuery,
    response=ReportPage,
)
async def list_reports(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, ReportListQuery)
    return json_response(await request.app[ADMIN].reports.list_reports(**query.model_dump()))


@routes.post("/api/admin/reports/{report_id}/resolve")
@operation(
    summary="Resolve a chat report: dismiss it, block the chat, or deactivate the reported user",
    tags="admin",
    access=Access.ADMIN,
    body=ResolveReportBody,
    response=ReportResolvedResponse,
    # 403: the reported user is an admin; 404: no such report (or its chat or user is gone); 409: already
    # resolved, or the reported user is yourself; 422: an action other than the three
    errors=(403, 404, 409, 422),
)
async def resolve_report(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    body = await parse_body(request, ResolveReportBody)
    result = await request.app[ADMIN].reports.resolve_report(
        actor=admin_actor(request, admin),
        report_id=request.match_info["report_id"],
        action=body.action,
        note=body.note,
    )
    return json_response(result)


# ---- audit log -----------------------------------------------------------------------------------------


@routes.get("/api/admin/audit-logs")
@operation(
    summary="The audit trail: every admin action, successful or failed, newest first",
    tags="admin",
    access=Access.ADMIN,
    query=AuditLogQuery,
    response=AuditLogPage,
)
async def audit_logs(request: web.Request) -> web.Response:
    await require_admin(request)
    query = parse_query(request, AuditLogQuery)
    return json_response(await request.app[ADMIN].audit_trail.audit_logs(**query.model_dump()))
