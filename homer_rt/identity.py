"""Normalised identities: what the unique indexes on users.email and users.phone compare."""

from __future__ import annotations

import re

from homer_rt.errors import BadRequest

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise BadRequest("Enter a valid email address", code="invalid_email")
    return email


def normalize_phone(raw: str) -> str:
    """E.164. A 10-digit Indian mobile number without a country code gets +91."""
    phone = _PHONE_SEPARATORS.sub("", raw.strip())
    if phone.startswith("+"):
        digits = phone[1:]
        if digits.isdigit() and 8 <= len(digits) <= 15 and not digits.startswith("0"):
            return phone
    elif phone.isdigit():
        if len(phone) == 10 and phone[0] in "6789":
            return "+91" + phone
        if len(phone) == 11 and phone.startswith("0") and phone[1] in "6789":
            return "+91" + phone[1:]
        if len(phone) == 12 and phone.startswith("91") and phone[2] in "6789":
            return "+" + phone
    raise BadRequest("Enter a valid phone number (e.g. +919876543210)", code="invalid_phone")


def looks_like_email(identifier: str) -> bool:
    return "@" in identifier
