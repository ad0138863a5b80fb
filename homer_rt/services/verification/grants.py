"""What an approved property verification grants its owner, and taking it back.

As the spec has it, a verified property verifies its owner too. The owner keeps the ids of the listings whose
approval made them a verified owner (``owner_verified_by_properties``), so withdrawing one listing's
verification (its fee was refunded) takes the owner's badge only when no other of those listings still holds
it. An owner verified before any listing did it (their own documents, reviewed) has an empty list and keeps
the badge whatever happens to their listings.

Shared by the verification service (which grants) and the payment service (which withdraws on a refund); the
payment service cannot use the verification service, which is built on it.

Each step is one of the user's guarded operations (``User.grant_owner_badge`` and the rest), an atomic update
guarded on the state it expects; when a concurrent approval or withdrawal of the same owner's listings changed
that state first, the step is tried again on what is there now.
"""

from __future__ import annotations

from datetime import datetime

from documents.user import User
from homer_rt.errors import Conflict

# Contention on one owner is a handful of that owner's listings decided at the same moment.
_ATTEMPTS = 20


async def grant_owner_verification(*, owner_id: str, property_id: str, now: datetime) -> None:
    for _ in range(_ATTEMPTS):
        # Not a verified owner yet: this listing is what makes them one.
        if await User.grant_owner_badge(owner_id, property_id=property_id, now=now):
            return
        # Verified through other listings: this one holds the badge as well.
        if await User.join_owner_badge(owner_id, property_id=property_id):
            return
        owner = await User.get(owner_id)
        if owner is None or (owner.is_verified_owner and not owner.owner_verified_by_properties):
            return  # gone, or verified on their own documents: nothing rests on this listing
    raise Conflict("The owner's verification is being changed concurrently; try again", code="owner_busy")


async def withdraw_owner_verification(*, owner_id: str, property_id: str) -> bool:
    """Take back what ``grant_owner_verification`` gave for this listing; True if the owner lost the badge."""
    for _ in range(_ATTEMPTS):
        # The last listing holding the badge: the owner is no longer verified.
        if await User.withdraw_owner_badge(owner_id, property_id=property_id):
            return True
        # Other listings still hold it: only this one lets go.
        if await User.release_owner_badge(owner_id, property_id=property_id):
            return False
        owner = await User.get(owner_id)
        if owner is None or property_id not in owner.owner_verified_by_properties:
            return False  # this listing never verified the owner (or no longer does)
    raise Conflict("The owner's verification is being changed concurrently; try again", code="owner_busy")
