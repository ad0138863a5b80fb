"""An admin's decision on a pending request: approved or rejected once (a second decision is a 409),
audited, and told to the user."""

from __future__ import annotations

from typing import Any, cast

from documents.property import Property, VerificationTier
from documents.user import User, VerificationStatus, verification_fields
from homer_rt.errors import BadRequest, Conflict, NotFound
from homer_rt.services.audit import AdminActor, Outcome
from homer_rt.services.verification.core import PENDING, VERIFICATION_TYPES, VerificationCore
from homer_rt.services.verification.grants import grant_owner_verification
from homer_rt.services.verification.views import VerificationDecisionResponse, VerificationKind


class VerificationDecisions(VerificationCore):
    async def approve(
        self, *, verification_type: str, entity_id: str, actor: AdminActor
    ) -> VerificationDecisionResponse:
        return await self._decide(
            decision="approve",
            verification_type=verification_type,
            entity_id=entity_id,
            reason=None,
            actor=actor,
        )

    async def reject(
        self, *, verification_type: str, entity_id: str, reason: str, actor: AdminActor
    ) -> VerificationDecisionResponse:
        reason = reason.strip()
        if not reason:
            raise BadRequest("A rejection reason is required", code="reason_required")
        return await self._decide(
            decision="reject",
            verification_type=verification_type,
            entity_id=entity_id,
            reason=reason,
            actor=actor,
        )

    async def _decide(
        self, *, decision: str, verification_type: str, entity_id: str, reason: str | None, actor: AdminActor
    ) -> VerificationDecisionResponse:
        async def work() -> Outcome[str]:
            if verification_type not in VERIFICATION_TYPES:
                raise BadRequest(
                    "verification_type must be renter, owner or property", code="invalid_verification_type"
                )
            if verification_type == "property":
                user_id, old, new = await self._decide_property(decision, entity_id, reason)
            else:
                user_id, old, new = await self._decide_user(decision, verification_type, entity_id, reason)
            return Outcome(
                user_id,
                details={"verification_id": f"{verification_type}_{entity_id}"},
                old_value=old,
                new_value=new,
            )

        user_id = await self._audit.audited(
            actor=actor,
            action_type=f"verification_{decision}",
            entity_type=verification_type,
            entity_id=entity_id,
            details={"verification_type": verification_type, "reason": reason},
            work=work,
        )
        await self._notify_decision(decision, verification_type, user_id, entity_id, reason)
        await self._publish_counts()
        approved = decision == "approve"
        return {
            "success": True,
            "message": "Verification approved successfully" if approved else "Verification rejected",
            "verification_id": f"{verification_type}_{entity_id}",
            "verification_type": cast(VerificationKind, verification_type),  # checked by work()
            "status": VerificationStatus.VERIFIED.value if approved else VerificationStatus.REJECTED.value,
            "reason": reason,
        }

    async def _decide_user(
        self, decision: str, kind: str, user_id: str, reason: str | None
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        fields = verification_fields(kind)
        approved = decision == "approve"
        status = VerificationStatus.VERIFIED if approved else VerificationStatus.REJECTED
        decided = await User.decide_verification(
            user_id, kind=kind, approved=approved, reason=reason, now=self._clock.now()
        )
        if decided is None:
            user = await User.get(user_id)
            if user is None:
                raise NotFound("User not found", code="user_not_found")
            current: VerificationStatus = getattr(user, fields["status"])
            raise Conflict(
                f"This {kind} verification is not pending (it is {current.value})", code="not_pending"
            )
        return (
            user_id,
            {fields["status"]: PENDING},
            {
                fields["status"]: status.value,
                fields["is_verified"]: approved,
                fields["rejection_reason"]: reason,
            },
        )

    async def _decide_property(
        self, decision: str, property_id: str, reason: str | None
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        now = self._clock.now()
        approved = decision == "approve"
        if approved:
            decided = await Property.approve_verification(property_id, now=now)
        else:
            assert reason is not None  # reject() requires one
            decided = await Property.reject_verification(property_id, reason=reason, now=now)
        if decided is None:
            prop = await Property.get(property_id)
            if prop is None:
                raise NotFound("Property not found", code="property_not_found")
            raise Conflict(
                f"This property verification is not pending (it is {prop.verification_tier.value})",
                code="not_pending",
            )
        if approved:
            # As the spec: a verified property verifies its owner too (and a refund of its fee takes it back).
            await grant_owner_verification(owner_id=decided.owner_id, property_id=property_id, now=now)
        return (
            decided.owner_id,
            {"verification_tier": VerificationTier.PENDING.value, "is_verified": False},
            {
                "verification_tier": decided.verification_tier.value,
                "is_verified": approved,
                "verification_rejection_reason": reason,
                "owner_verified": approved,
            },
        )

    async def _notify_decision(
        self, decision: str, kind: str, user_id: str, entity_id: str, reason: str | None
    ) -> None:
        subject = {"renter": "renter", "owner": "owner", "property": "property"}[kind]
        if decision == "approve":
            title = "Property verified" if kind == "property" else "You're verified"
            message = (
                "Your property is now verified and shows the verified badge."
                if kind == "property"
                else f"Your {subject} verification was approved."
            )
            type_ = "verification_approved"
        else:
            title = "Verification rejected"
            message = f"Your {subject} verification was rejected: {reason}. You can fix it and submit again."
            type_ = "verification_rejected"
        action_url = f"/properties/{entity_id}" if kind == "property" else "/verification"
        await self._notifications.notify(
            user_id=user_id, type=type_, title=title, message=message, action_url=action_url
        )
