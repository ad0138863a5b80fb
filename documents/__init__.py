"""Beanie documents. Every collection Homer RT stores is listed in ALL_DOCUMENTS, which init_beanie reads."""

from __future__ import annotations

from beanie import Document

from documents.audit_log import AdminAuditLog
from documents.notification import Notification
from documents.property import Property
from documents.revoked_token import RevokedToken
from documents.shortlist import Shortlist
from documents.stored_file import StoredFile
from documents.user import User

ALL_DOCUMENTS: list[type[Document]] = [
    User,
    RevokedToken,
    Notification,
    AdminAuditLog,
    Property,
    Shortlist,
    StoredFile,
]

__all__ = [
    "ALL_DOCUMENTS",
    "AdminAuditLog",
    "Notification",
    "Property",
    "RevokedToken",
    "Shortlist",
    "StoredFile",
    "User",
]
