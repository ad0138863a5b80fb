"""The admin console: dashboard figures, moderation of users and listings, transactions, chat reports and
the audit trail, one service per area behind one ``AdminService``.

Every state-changing method takes the acting admin and writes exactly one AdminAuditLog entry: a
successful one with the old and new values, or a failed one when the action raises (a domain error, or
anything unexpected, which then still reaches the client as the usual 500).
Verification decisions and refunds are not here: they live in the verification and payment services,
which audit themselves, so each decision has one code path whichever route it came in by.
"""

from __future__ import annotations

from homer_rt.clock import Clock
from homer_rt.services.admin.audit_trail import AdminAuditTrail
from homer_rt.services.admin.dashboard import AdminDashboard
from homer_rt.services.admin.listings import AdminListings
from homer_rt.services.admin.reports import AdminReports
from homer_rt.services.admin.transactions import AdminTransactions
from homer_rt.services.admin.users import AdminUsers
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AuditLog
from homer_rt.services.auth import AuthService
from homer_rt.services.chats import ChatService
from homer_rt.services.notifications import NotificationService
from homer_rt.services.uploads import UploadService


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
        self.dashboard = AdminDashboard(clock=clock)
        self.users = AdminUsers(clock=clock, audit=audit, auth=auth, feed=feed, uploads=uploads)
        self.listings = AdminListings(clock=clock, audit=audit, notifications=notifications, feed=feed)
        self.transactions = AdminTransactions()
        self.reports = AdminReports(clock=clock, audit=audit, feed=feed, chats=chats, users=self.users)
        self.audit_trail = AdminAuditTrail()
