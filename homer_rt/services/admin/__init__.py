"""The admin console as a package: one module per area of the console (see ``service.py``)."""

from homer_rt.services.admin.audit_trail import AdminAuditTrail
from homer_rt.services.admin.changes import PROPERTY_EDITABLE, USER_EDITABLE, PropertyChanges, UserChanges
from homer_rt.services.admin.dashboard import AdminDashboard
from homer_rt.services.admin.listings import AdminListings, property_admin_view
from homer_rt.services.admin.reports import AdminReports, ReportAction
from homer_rt.services.admin.service import AdminService
from homer_rt.services.admin.transactions import AdminTransactions
from homer_rt.services.admin.users import AdminUsers

__all__ = [
    "PROPERTY_EDITABLE",
    "USER_EDITABLE",
    "AdminAuditTrail",
    "AdminDashboard",
    "AdminListings",
    "AdminReports",
    "AdminService",
    "AdminTransactions",
    "AdminUsers",
    "PropertyChanges",
    "ReportAction",
    "UserChanges",
    "property_admin_view",
]
