"""Users as an admin sees them: the list, one user in full, changes to an account, deactivation and
deletion (anonymised, so unique e-mail and phone stay free and no personal data is kept)."""

from __future__ import annotations

from typing import Any

from documents.base import collection_of
from documents.property import Property, PropertyStatus
from documents.transaction import Transaction
from documents.user import DELETED_EMAIL_DOMAIN, SubscriptionTier, User
from homer_rt.clock import Clock, as_utc
from homer_rt.errors import Conflict, Forbidden, NotFound, ValidationFailed
from homer_rt.services.admin.changes import USER_EDITABLE, UserChanges, whitelisted
from homer_rt.services.admin.queries import find_page, page_fields, user_filter
from homer_rt.services.admin.views import UserDeletedResponse, UserDetailView, UserPage, UserUpdatedResponse
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AdminActor, AuditLog, Outcome
from homer_rt.services.auth import AuthService
from homer_rt.services.uploads import PROFILES_AREA, VERIFICATION_AREA, UploadService

RECENT_TRANSACTIONS = 20


class AdminUsers:
    def __init__(
        self, *, clock: Clock, audit: AuditLog, auth: AuthService, feed: AdminFeed, uploads: UploadService
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._auth = auth
        self._feed = feed
        self._uploads = uploads

    async def list_users(
        self,
        *,
        user_type: str | None,
        subscription_tier: str | None,
        verification_status: str | None,
        search: str | None,
        page: int,
        limit: int,
    ) -> UserPage:
        now = self._clock.now()
        query = user_filter(
            now=now,
            user_type=user_type,
            subscription_tier=subscription_tier,
            verification_status=verification_status,
            search=search,
        )
        total, users = await find_page(User, query, sort="-created_at", page=page, limit=limit)
        return {
            "users": [u.admin_view(now) for u in users],
            **page_fields(total=total, page=page, limit=limit),
        }

    async def get_user(self, *, user_id: str) -> UserDetailView:
        user = await User.get(user_id)
        if user is None:
            raise NotFound("User not found", code="user_not_found")
        view = user.admin_view(self._clock.now())
        listings = collection_of(Property)
        transactions = (
            await Transaction.find({"user_id": user_id})
            .sort("-created_at")
            .limit(RECENT_TRANSACTIONS)
            .to_list()
        )
        return {
            **view,
            "listings": {
                "total": await listings.count_documents({"owner_id": user_id}),
                "active": await listings.count_documents(
                    {"owner_id": user_id, "status": PropertyStatus.ACTIVE.value}
                ),
            },
            "recent_transactions": [t.api_view() for t in transactions],
        }

    async def update_user(self, *, actor: AdminActor, user_id: str, body: Any) -> UserUpdatedResponse:
        fields = sorted(body) if isinstance(body, dict) else []

        async def work() -> Outcome[UserUpdatedResponse]:
            changes = whitelisted(UserChanges, body, USER_EDITABLE, "user")
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
                        fields=[
                            {
                                "field": "subscription_end",
                                "message": "must be in the future",
                                "type": "not_in_future",
                            }
                        ],
                    )
                values["subscription_start"] = now
            before = await User.edit_by_admin(user_id, values=values)
            if before is None:
                raise NotFound("User not found", code="user_not_found")
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
        if not await User.deactivate(user_id):
            raise NotFound("User not found", code="user_not_found")
        await self._cut_off(user_id)

    async def delete_user(self, *, actor: AdminActor, user_id: str) -> UserDeletedResponse:
        async def work() -> Outcome[UserDeletedResponse]:
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
            # Guarded on the e-mail we read: a concurrent delete or promotion makes this match nothing. Every
            # listing of theirs is deleted below, so their active-listing count becomes 0 with it.
            anonymised = await User.anonymise(user_id, seen_email=target.email)
            if anonymised is None:
                raise Conflict("User changed while being deleted; try again", code="user_changed")
            await self._cut_off(user_id)
            # Their ID documents and photo go from storage, so their URLs answer 404. Chat attachments stay:
            # they are part of the other participant's conversation, and only its participants can open them.
            files_removed = await self._uploads.remove_all_of(
                uploader_id=user_id, areas=(VERIFICATION_AREA, PROFILES_AREA)
            )
            # Their pending identity checks leave the review queue: the documents are gone with them.
            withdrawn = 0
            for kind in ("renter", "owner"):
                withdrawn += await User.reset_pending_verification(user_id, kind=kind)
            if withdrawn:
                await self._feed.publish_counts()
            removed = await Property.mark_all_deleted(owner_id=user_id, now=now)
            # The audit entry keeps no personal data of someone who asked to be forgotten.
            return Outcome(
                result={
                    "message": "User deleted successfully",
                    "user_id": user_id,
                    "listings_removed": removed,
                    "files_removed": files_removed,
                },
                old_value={"is_active": target.is_active, "user_type": target.user_type.value},
                new_value={"is_active": False, "anonymised": True},
                details={"listings_removed": removed, "files_removed": files_removed},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="user_delete",
            entity_type="user",
            entity_id=user_id,
            details={},
            work=work,
        )
