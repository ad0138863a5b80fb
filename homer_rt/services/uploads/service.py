"""UploadService: every upload behaviour in one object, the one the handlers, the other services and the
scheduler call."""

from __future__ import annotations

from homer_rt.services.uploads.cleanup import UploadCleanup
from homer_rt.services.uploads.saving import UploadSaving
from homer_rt.services.uploads.serving import UploadServing


class UploadService(UploadSaving, UploadCleanup, UploadServing):
    """Uploads (see the package's docstring for what they promise)."""
