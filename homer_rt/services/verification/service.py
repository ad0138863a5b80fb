"""VerificationService: every verification behaviour in one object, the one the handlers and the admin
service call."""

from __future__ import annotations

from homer_rt.services.verification.decisions import VerificationDecisions
from homer_rt.services.verification.queries import VerificationQueries
from homer_rt.services.verification.submissions import VerificationSubmissions


class VerificationService(VerificationSubmissions, VerificationQueries, VerificationDecisions):
    """Verification (see the package's docstring for its invariants)."""
