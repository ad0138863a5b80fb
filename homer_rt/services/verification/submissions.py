"""Submitting documents for review: a renter's, an owner's, or a listing's (after its fee is paid)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from documents.property import Property, VerificationTier
from documents.stored_file import StoredFile, StoredFileView
from documents.user import User, VerificationStatus, verification_fields
from homer_rt.errors import BadRequest, Conflict, Forbidden, NotFound
from homer_rt.services.properties.core import owned_listing
from homer_rt.services.uploads import VERIFICATION_AREA
from homer_rt.services.verification.core import PENDING, VerificationCore
from homer_rt.services.verification.views import SubmissionResponse


class VerificationSubmissions(VerificationCore):
    # ------------------------------------------------------------------ documents

    async def upload_document(self, *, user_id: str, part: aiohttp.BodyPartReader) -> StoredFile:
        """Stored privately under verification/<user_id>: readable by the uploader and admins only. Removed
        by the cleanup unless a submission references it in time."""
        return await self._uploads.save(
            area=VERIFICATION_AREA,
            owner_segment=user_id,
            uploader_id=user_id,
            part=part,
            kind="document",
            referenced=False,
        )

    async def discard_upload(self, file: StoredFile) -> None:
        await self._uploads.discard(file)

    async def _own_documents(
        self, *, user_id: str, documents: Mapping[str, str]
    ) -> dict[str, StoredFileView]:
        """The submitted document URLs resolved to this user's own verification uploads.

        What is stored comes from our upload records (name, size, type), not from the client's copy. Each
        is marked referenced as it is resolved, before the submission is stored, so the cleanup of unused
        uploads cannot remove a document a submission points at.
        """
        if not documents:
            raise BadRequest("At least one document is required", code="documents_required")
        resolved: dict[str, StoredFileView] = {}
        for document_type, url in documents.items():
            stored = await self._uploads.reference(url=url, uploader_id=user_id, area=VERIFICATION_AREA)
            if stored is None:
                raise Forbidden(
                    f"{document_type}: {url} is not a verification document you uploaded",
                    code="document_not_owned",
                )
            resolved[document_type] = stored.api_view()
        return resolved

    # ------------------------------------------------------------------ submissions

    async def submit_renter(
        self, *, user_id: str, documents: Mapping[str, str], employment_details: dict[str, Any]
    ) -> SubmissionResponse:
        resolved = await self._own_documents(user_id=user_id, documents=documents)
        await self._submit_user(
            kind="renter", user_id=user_id, documents=resolved, employment_info=employment_details
        )
        return {
            "success": True,
            "message": "Verification request submitted successfully",
            "verification_id": f"renter_{user_id}",
            "status": PENDING,
        }

    async def submit_owner(self, *, user_id: str, documents: Mapping[str, str]) -> SubmissionResponse:
        resolved = await self._own_documents(user_id=user_id, documents=documents)
        await self._submit_user(kind="owner", user_id=user_id, documents=resolved)
        return {
            "success": True,
            "message": "Verification request submitted successfully",
            "verification_id": f"owner_{user_id}",
            "status": PENDING,
        }

    async def _submit_user(
        self,
        *,
        kind: str,
        user_id: str,
        documents: dict[str, StoredFileView],
        employment_info: dict[str, Any] | None = None,
    ) -> None:
        submitted = await User.submit_verification(
            user_id, kind=kind, documents=documents, employment_info=employment_info, now=self._clock.now()
        )
        if submitted is None:
            user = await User.get(user_id)
            if user is None:
                raise NotFound("User not found", code="user_not_found")
            status = getattr(user, verification_fields(kind)["status"])
            if status == VerificationStatus.VERIFIED:
                raise Conflict(f"You are already a verified {kind}", code="already_verified")
            raise Conflict(f"Your {kind} verification is already waiting for review", code="already_pending")
        await self._publish_counts()

    async def submit_property(
        self, *, user_id: str, property_id: str, documents: Mapping[str, str]
    ) -> SubmissionResponse:
        prop = await owned_listing(property_id=property_id, owner_id=user_id)
        # The fee is proven by our own successful transaction, never by the request's word.
        paid = await self._payments.paid_verification(property_id=property_id, user_id=user_id)
        if paid is None:
            raise BadRequest(
                "Pay the property verification fee before submitting documents",
                code="verification_fee_unpaid",
            )
        if prop.verification_tier == VerificationTier.VERIFIED:
            raise Conflict("This property is already verified", code="already_verified")
        resolved = await self._own_documents(user_id=user_id, documents=documents)
        now = self._clock.now()
        submitted = await Property.submit_verification(
            property_id, owner_id=user_id, documents=resolved, payment_id=paid.payment_id, now=now
        )
        if submitted is None:
            current = await Property.get(property_id)
            if current is not None and current.verification_tier == VerificationTier.VERIFIED:
                raise Conflict("This property is already verified", code="already_verified")
            raise Conflict(
                "This property's verification is already waiting for review", code="already_pending"
            )
        await self._publish_counts()
        return {
            "success": True,
            "message": "Property verification request submitted successfully",
            "verification_id": f"property_{property_id}",
            "status": PENDING,
        }
