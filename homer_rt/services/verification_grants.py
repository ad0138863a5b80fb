"""Moved to homer_rt.services.verification.grants; kept while the payment service imports it from here."""

from homer_rt.services.verification.grants import (
    OWNER_VERIFIED_BY,
    grant_owner_verification,
    withdraw_owner_verification,
)

__all__ = ["OWNER_VERIFIED_BY", "grant_owner_verification", "withdraw_owner_verification"]
