"""Uploads: stream a multipart part into storage with the size cap enforced while reading, check its type
from its first bytes, record it, and decide who may read it back.

URLs are ``/uploads/<area>/<owner_segment>/<generated name>`` whichever backend holds the bytes. Each
area has an access policy: properties and profiles are public, verification is the uploader's or an
admin's, and other services register their own (chat registers ``chat``).

Every upload counts against its uploader's hourly upload budget and storage quota. The quota is reserved
in the store while the file streams in (a conditional ``$inc``, so concurrent uploads cannot pass it) and
given back when the file is removed. Files a later request must put in use (chat attachments, verification
documents) are removed by the scheduled cleanup when nothing referenced them in time.

UploadService is assembled from one class per behaviour, each in its own module: core (dependencies, access
policies, record lookups, the storage backend), saving (streaming, sniffing, recording), cleanup
(references and removal) and serving. Areas, URLs and policies are in areas; the storage quota is in quota.
"""

from __future__ import annotations

from homer_rt.services.uploads.areas import (
    MAX_FILE_NAME_CHARS,
    PROFILES_AREA,
    PUBLIC_AREAS,
    VERIFICATION_AREA,
    AccessPolicy,
    client_file_name,
    is_safe_segment,
    public_policy,
    upload_url,
    uploader_or_admin_policy,
)
from homer_rt.services.uploads.cleanup import CLEANUP_BATCH
from homer_rt.services.uploads.core import storage_from_settings
from homer_rt.services.uploads.quota import QUOTA_RESERVE_STEP_BYTES, StorageQuota
from homer_rt.services.uploads.saving import READ_CHUNK_BYTES
from homer_rt.services.uploads.service import UploadService
from homer_rt.services.uploads.serving import ServedFile

__all__ = [
    "CLEANUP_BATCH",
    "MAX_FILE_NAME_CHARS",
    "PROFILES_AREA",
    "PUBLIC_AREAS",
    "QUOTA_RESERVE_STEP_BYTES",
    "READ_CHUNK_BYTES",
    "VERIFICATION_AREA",
    "AccessPolicy",
    "ServedFile",
    "StorageQuota",
    "UploadService",
    "client_file_name",
    "is_safe_segment",
    "public_policy",
    "storage_from_settings",
    "upload_url",
    "uploader_or_admin_policy",
]
