"""What every part of the verification service shares: its dependencies, the three kinds of request and
their ids, the user fields each kind keeps, and the live count of the admins' queue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from documents.user import VerificationStatus
from homer_rt.clock import Clock
from homer_rt.errors import BadRequest
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AuditLog
from homer_rt.services.notifications import NotificationService
from homer_rt.services.uploads import UploadService

if TYPE_CHECKING:
    # Not imported at run time: the payment service imports the grants from this package.
    from homer_rt.services.payments import PaymentService

log = logging.getLogger(__name__)

VERIFICATION_TYPES = ("renter", "owner", "property")
PENDING: Final = VerificationStatus.PENDING.value


def parse_verification_id(verification_id: str) -> tuple[str, str]:
    """``renter_<id>``, ``owner_<id>``, ``property_<id>``: split at the FIRST underscore only."""
    kind, sep, entity_id = verification_id.partition("_")
    if not sep or kind not in VERIFICATION_TYPES or not entity_id:
        raise BadRequest(
            "verification_id must look like renter_<id>, owner_<id> or property_<id>",
            code="invalid_verification_id",
        )
    return kind, entity_id


class VerificationCore:
    def __init__(
        self,
        *,
        clock: Clock,
        uploads: UploadService,
        payments: PaymentService,
        notifications: NotificationService,
        audit: AuditLog,
        feed: AdminFeed | None = None,
    ) -> None:
        self._clock = clock
        self._uploads = uploads
        self._payments = payments
        self._notifications = notifications
        self._audit = audit
        self._feed = feed

    async def _publish_counts(self) -> None:
        if self._feed is None:
            return
        try:
            await self._feed.publish_counts()
        except Exception:  # the live dashboard count is best effort; the decision is already stored
            log.exception("publishing admin counts failed")
