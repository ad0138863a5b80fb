"""Verification: renters, owners and properties submit documents they uploaded; admins decide.

Every state change is one atomic update guarded on the state it leaves, so a request is decided once:
a second approve or reject finds it no longer pending and gets a 409. The admin routes here and the
/api/admin/verifications routes call the same approve/reject, so a decision has one code path.

VerificationService is assembled from one class per behaviour, each in its own module: core (dependencies,
request ids), submissions (documents and requests), queries (a user's status, the admins' queue) and
decisions (approve, reject). What an approved listing grants its owner, and taking it back on a refund,
is in grants.
"""

from __future__ import annotations

from homer_rt.services.verification.core import VERIFICATION_TYPES, parse_verification_id
from homer_rt.services.verification.grants import grant_owner_verification, withdraw_owner_verification
from homer_rt.services.verification.service import VerificationService

__all__ = [
    "VERIFICATION_TYPES",
    "VerificationService",
    "grant_owner_verification",
    "parse_verification_id",
    "withdraw_owner_verification",
]
