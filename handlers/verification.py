"""/api/verification: document upload, renter/owner/property submissions, status, and admin decisions."""

from __future__ import annotations

import re
from contextlib import aclosing
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from documents.stored_file import StoredFile
from handlers.common import (
    admin_actor,
    current_user,
    json_response,
    parse_body,
    parse_body_or_query,
    parse_query,
    require_admin,
)
from handlers.contract import Access, Upload, operation
from handlers.files import form_parts
from handlers.paging import ListPage
from homer_rt.appkeys import VERIFICATION
from homer_rt.errors import BadRequest, FieldError, ValidationFailed
from homer_rt.services.verification import VERIFICATION_TYPES, parse_verification_id
from homer_rt.services.verification.views import (
    PendingVerification,
    SubmissionResponse,
    UploadedDocumentResponse,
    VerificationDecisionResponse,
    VerificationStatusResponse,
)

routes = web.RouteTableDef()

MAX_DOCUMENTS = 10
_DOCUMENT_TYPE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


class DocumentUploadFields(BaseModel):
    """The upload form's text field (the file goes in ``document``). Read by hand, as the form streams: a
    missing field is a 422 with the missing file's, an invalid name a 400 ``invalid_document_type``."""

    document_type: str = Field(pattern=_DOCUMENT_TYPE.pattern)


class DocumentRef(BaseModel):
    """One uploaded document as the frontend keeps it after step 1; only its URL is trusted."""

    model_config = ConfigDict(extra="ignore")

    file_url: str = Field(min_length=1, max_length=500, pattern=r"^/uploads/verification/")


# What _check_document_keys checks, documented (it answers 422 itself).
Documents = Annotated[
    dict[str, DocumentRef],
    Field(
        description='Each uploaded document under its type: `{"id_proof": {"file_url": "..."}}`',
        json_schema_extra={
            "minProperties": 1,
            "maxProperties": MAX_DOCUMENTS,
            "propertyNames": {"pattern": _DOCUMENT_TYPE.pattern},
        },
    ),
]


def _urls(documents: dict[str, DocumentRef]) -> dict[str, str]:
    return {name: ref.file_url for name, ref in documents.items()}


def _check_document_keys(value: dict[str, DocumentRef]) -> dict[str, DocumentRef]:
    if not value:
        raise ValueError("at least one document is required")
    if len(value) > MAX_DOCUMENTS:
        raise ValueError(f"at most {MAX_DOCUMENTS} documents")
    for key in value:
        if not _DOCUMENT_TYPE.fullmatch(key):
            raise ValueError(f"invalid document type {key!r}")
    return value


class EmploymentDetails(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    company_name: str = Field(min_length=1, max_length=200)
    designation: str | None = Field(default=None, max_length=200)
    employment_type: Literal["salaried", "self_employed", "business", "freelancer", "student", "other"]
    annual_income: float = Field(ge=0, le=10_000_000_000)
    years_of_experience: float | None = Field(default=None, ge=0, le=70)


class RenterSubmitBody(BaseModel):
    documents: Documents
    employment_details: EmploymentDetails

    _documents = field_validator("documents")(_check_document_keys)


class OwnerSubmitBody(BaseModel):
    documents: Documents

    _documents = field_validator("documents")(_check_document_keys)


class PropertySubmitBody(BaseModel):
    model_config = ConfigDict(extra="ignore")  # payment_status / payment_id from the client are not trusted

    property_id: str = Field(min_length=1, max_length=100)
    documents: Documents

    _documents = field_validator("documents")(_check_document_keys)


class StatusQuery(BaseModel):
    type: Literal["renter", "owner", "property"] = "renter"
    property_id: str | None = Field(default=None, max_length=100)


class VerificationIdPath(BaseModel):
    """What ``parse_verification_id`` reads (documented here; it answers 400 invalid_verification_id)."""

    verification_id: str = Field(
        pattern=rf"^(?:{'|'.join(VERIFICATION_TYPES)})_[^{{}}/]+$",
        description="The request's kind and its user's or listing's id: `renter_<user id>`, "
        "`owner_<user id>` or `property_<listing id>`, as GET /api/verification/admin/pending lists them",
    )


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(min_length=1, max_length=1000)


@routes.post("/api/verification/upload-document")
@operation(
    summary="Upload a verification document (step 1)",
    tags="verification",
    access=Access.USER,
    upload=Upload(file_fields=("document",), text_fields=DocumentUploadFields, max_files=1),
    response=UploadedDocumentResponse,
    # 413/415/429/502: too large or over quota, not an allowed type (by its content), over the hourly upload
    # count, storage failed; 422: the file or document_type missing
    errors=(400, 413, 415, 429, 502, 422),
    description="JPEG, PNG, WebP, PDF or Word, checked by content. Stored privately (the uploader and admins "
    "may read it) and removed unless a submission uses its `file_url` in time.",
)
async def upload_document(request: web.Request) -> web.Response:
    user = await current_user(request)
    service = request.app[VERIFICATION]
    stored: StoredFile | None = None
    document_type: str | None = None
    try:
        async with aclosing(form_parts(request, fields=("document", "document_type"))) as parts:
            async for part in parts:
                if part.name == "document" and stored is None:
                    # Streamed straight to storage; the form field may come before or after the file.
                    stored = await service.upload_document(user_id=user.id, part=part)
                elif part.name == "document_type" and document_type is None:
                    document_type = (await part.text())[:100].strip()
                else:
                    await part.release()
        missing: list[FieldError] = [
            {"field": name, "message": "Field required", "type": "missing"}
            for name, present in (("document", stored is not None), ("document_type", bool(document_type)))
            if not present
        ]
        if missing:
            raise ValidationFailed.of(missing)
        if document_type is None or not _DOCUMENT_TYPE.fullmatch(document_type):
            raise BadRequest("document_type must be a short name like id_proof", code="invalid_document_type")
    except BaseException:
        if stored is not None:
            await service.discard_upload(stored)
        raise
    assert stored is not None
    uploaded: UploadedDocumentResponse = {
        "success": True,
        "data": {**stored.api_view(), "document_type": document_type},
    }
    return json_response(uploaded)


@routes.post("/api/verification/renter/submit")
@operation(
    summary="Submit your renter verification",
    tags="verification",
    access=Access.USER,
    body=RenterSubmitBody,
    response=SubmissionResponse,
    # 403: a document URL that is not one of your verification uploads; 409: already verified or pending
    errors=(409, 413),
)
async def submit_renter(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, RenterSubmitBody)
    result = await request.app[VERIFICATION].submit_renter(
        user_id=user.id,
        documents=_urls(body.documents),
        employment_details=body.employment_details.model_dump(mode="json"),
    )
    return json_response(result)


@routes.post("/api/verification/owner/submit")
@operation(
    summary="Submit your owner verification",
    tags="verification",
    access=Access.USER,
    body=OwnerSubmitBody,
    response=SubmissionResponse,
    # 403: a document URL that is not one of your verification uploads; 409: already verified or pending
    errors=(409, 413),
)
async def submit_owner(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, OwnerSubmitBody)
    result = await request.app[VERIFICATION].submit_owner(user_id=user.id, documents=_urls(body.documents))
    return json_response(result)


@routes.post("/api/verification/property/submit")
@operation(
    summary="Submit your listing's verification",
    tags="verification",
    access=Access.USER,
    body=PropertySubmitBody,
    response=SubmissionResponse,
    # 400: its fee is not paid; 403: not your listing, or a document that is not your upload; 404: no such
    # listing; 409: already verified or pending
    errors=(404, 409, 413),
    description="Pay the verification fee first (`POST /api/payments/create-order` with type "
    "`property_verification`): the server checks its own record of the payment.",
)
async def submit_property(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await parse_body(request, PropertySubmitBody)
    result = await request.app[VERIFICATION].submit_property(
        user_id=user.id, property_id=body.property_id, documents=_urls(body.documents)
    )
    return json_response(result)


@routes.get("/api/verification/my-status")
@operation(
    summary="Your verification status (or your listing's)",
    tags="verification",
    access=Access.USER,
    query=StatusQuery,
    response=VerificationStatusResponse,
    # 403/404: type=property with a listing that is not yours, or none
    errors=(404,),
)
async def my_status(request: web.Request) -> web.Response:
    user = await current_user(request)
    query = parse_query(request, StatusQuery)
    result = await request.app[VERIFICATION].my_status(
        user=user, type=query.type, property_id=query.property_id
    )
    return json_response(result)


@routes.get("/api/verification/admin/pending")
@operation(
    summary="Requests waiting for a decision",
    tags=("verification", "admin"),
    access=Access.ADMIN,
    query=ListPage,
    response=list[PendingVerification],
    description="One page of each kind (renter, owner, property), oldest first within each.",
)
async def admin_pending(request: web.Request) -> web.Response:
    await require_admin(request)
    page = parse_query(request, ListPage)
    items = await request.app[VERIFICATION].pending(page=page.page, limit=page.limit)
    return json_response(items)


@routes.post("/api/verification/admin/approve/{verification_id}")
@operation(
    summary="Approve a verification request",
    tags=("verification", "admin"),
    access=Access.ADMIN,
    path=VerificationIdPath,
    response=VerificationDecisionResponse,
    # 400: an id not shaped renter_<id>, owner_<id> or property_<id>; 409: not pending (decided already)
    errors=(400, 404, 409),
    description="An approved listing verifies its owner too.",
)
async def admin_approve(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    kind, entity_id = parse_verification_id(request.match_info["verification_id"])
    result = await request.app[VERIFICATION].approve(
        verification_type=kind, entity_id=entity_id, actor=admin_actor(request, admin)
    )
    return json_response(result)


@routes.post("/api/verification/admin/reject/{verification_id}")
@operation(
    summary="Reject a verification request",
    tags=("verification", "admin"),
    access=Access.ADMIN,
    body=RejectBody,
    body_in_query=True,
    path=VerificationIdPath,
    response=VerificationDecisionResponse,
    # 400: an id not shaped renter_<id>, owner_<id> or property_<id>; 409: not pending (decided already)
    errors=(404, 409, 413),
)
async def admin_reject(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    kind, entity_id = parse_verification_id(request.match_info["verification_id"])
    body = await parse_body_or_query(request, RejectBody)
    result = await request.app[VERIFICATION].reject(
        verification_type=kind, entity_id=entity_id, reason=body.reason, actor=admin_actor(request, admin)
    )
    return json_response(result)
