"""Beanie documents. Every collection Homer RT stores is listed in ALL_DOCUMENTS, which init_beanie reads."""

from __future__ import annotations

from beanie import Document

from documents.audit_log import AdminAuditLog
from documents.chat import Chat, ChatMessage, ChatReport
from documents.job import ScheduledJob
from documents.notification import Notification
from documents.property import Property
from documents.property_view import PropertyView
from documents.revoked_token import RevokedToken
from documents.server_secret import ServerSecret
from documents.shortlist import Shortlist
from documents.stored_file import StoredFile
from documents.transaction import Transaction
from documents.upload_usage import UploadUsage
from documents.user import User

ALL_DOCUMENTS: list[type[Document]] = [
    User,
    RevokedToken,
    ServerSecret,
    Notification,
    AdminAuditLog,
    Property,
    PropertyView,
    Shortlist,
    StoredFile,
    UploadUsage,
    Chat,
    ChatMessage,
    ChatReport,
    Transaction,
    ScheduledJob,
]

__all__ = [
    "ALL_DOCUMENTS",
    "AdminAuditLog",
    "Chat",
    "ChatMessage",
    "ChatReport",
    "Notification",
    "Property",
    "PropertyView",
    "RevokedToken",
    "ScheduledJob",
    "ServerSecret",
    "Shortlist",
    "StoredFile",
    "Transaction",
    "UploadUsage",
    "User",
]
