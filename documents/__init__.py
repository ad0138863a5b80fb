"""Beanie documents. Every collection Homer RT stores is listed in ALL_DOCUMENTS, which init_beanie reads.

The data model. Documents are shaped for MongoDB, the production store: every id is a string UUID (the
spec's ``*_id`` columns), money is integer paise, every state change is one atomic update of one document,
each query a route makes has an index, and every invariant a unique index can state is stated by one (the
database refuses a duplicate, whatever the code does). The embedded store (mongomock) is for trying the
server, demos and tests; it checks unique indexes by key (homer_rt/embedded_indexes.py), not by scanning the
collection as mongomock does. Where its costs or limits shaped a document anyway, that is said below
("embedded:") with what it means on MongoDB.

users (User)
    unique email, unique phone; created_at; renter_verification_status; owner_verification_status;
    (subscription_tier, subscription_end). ``active_listings`` is the owner's listing cap, taken with one
    conditional ``$inc``; ``token_version`` ends every older token.
revoked_tokens (RevokedToken)
    _id is the token's jti; TTL on expires_at (embedded: TTL indexes are ignored, marks stay).
server_secrets (ServerSecret)
    _id names the key (chat ids are keyed with one); no other index.
notifications (Notification)
    (user_id, created_at); (user_id, is_read).
admin_audit_logs (AdminAuditLog)
    timestamp; (action_type, timestamp); (entity_type, timestamp); (admin_id, timestamp).
properties (Property)
    (owner_id, created_at); (status, is_verified, created_at), the default search sort; (status,
    rent_paise); (status, created_at); (location.city, status); (location.locality, status); (bhk_type,
    status); (property_type, status); (details.furnishing, status); verification_tier; (status,
    is_verified, lifestyle_data.aqi_score, rent_paise). ``analytics.views_history`` maps a UTC day
    ("YYYY-MM-DD") to its views so a view is one ``$inc``: on MongoDB a day is readable by its key but days
    cannot be range-queried (field names are data); not an embedded-store shape, and nothing queries it.
property_views (PropertyView)
    _id is a hash of (listing, viewer, day): a view counts once per viewer and day by the primary key;
    TTL on expires_at (embedded: ignored, marks stay).
shortlists (Shortlist)
    unique (user_id, property_id); (user_id, created_at); property_id.
stored_files (StoredFile)
    unique url; uploader_id; unreferenced_since.
upload_usage (UploadUsage)
    _id is the user id; one conditional ``$inc`` reserves quota.
chats (Chat)
    unique (property_id, renter_id): one chat per renter and listing, and the index initiate finds it by;
    (participants, status, last_message_at); (owner_id, last_message_at); (renter_id, last_message_at);
    (status, created_at). The _id is also derived from (property_id, renter_id) (HMAC under a server secret,
    so ids cannot be guessed): two racing initiates insert the same id.
    embedded: ``recent`` (the newest 50 messages) holds each message packed into one string (zero-padded
    seq + its API JSON), because mongomock deep-copies the whole document on every update (and on every
    read). Measured on mongomock 4.3.0 (a send's chat update, $push with $slice, and a find_one of the chat,
    50 entries, 20 chats, medians of 5 x 2,000): strings 70 us per update and 45 us per read, subdocuments
    370 and 180 us (5x and 4x). A faster copy patched into mongomock (JSON-shaped values copied without
    deepcopy's memo; tried, not installed) gave strings 57 and 45 us, subdocuments 128 and 186 us (2.2x and
    4x: mongomock's reads copy with a function of their own), so the packing stays. On MongoDB those
    entries are opaque: ``recent.sender_id`` and the like cannot be queried or indexed. Nothing queries them
    (messages are queried in chat_messages), so this costs readability in the database, not a feature.
chat_messages (ChatMessage)
    unique (chat_id, seq), named "chat_seq" (a seq comes from one atomic increment of the chat; the index
    refuses a second message under one seq); (chat_id, sender_id, seq); (chat_id, timestamp). The _id is
    derived from the sender's client_msg_id, so a retry collides with the stored message on the primary key
    and is answered with it.
chat_reports (ChatReport)
    unique (chat_id, reporter_id) among open reports (partial index "one_open_report": one open report per
    reporter and chat, and the index a new report looks for that one by); (status, created_at); (chat_id,
    created_at); reported_user_id.
transactions (Transaction)
    unique order_id; unique purchase_key, never null (a listing's fee has one open or paid order); (user_id,
    created_at); payment_id; (payment_status, created_at); (transaction_type, created_at);
    (metadata.property_id, payment_status).
scheduled_jobs (ScheduledJob)
    _id is the job's name; claimed by one atomic update of due_at and the lease.
"""

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
