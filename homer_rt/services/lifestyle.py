"""Lifestyle data for a listing (AQI, noise, walkability, what is nearby).

Real providers need AQI and maps API keys; Homer RT ships the deterministic offline provider the design
asks for: the same coordinates and locality always give the same numbers, marked ``is_mock: true``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol

from documents.property import LifestyleData, Location


class LifestyleProvider(Protocol):
    async def lifestyle_for(self, *, location: Location, now: datetime) -> LifestyleData:
        """Lifestyle data for a place, stamped with ``now`` as calculated_at."""


class MockLifestyleProvider:
    """Numbers derived from a hash of the place: stable across runs and processes, plausible for India."""

    # (field, low, high) — inclusive ranges typical of Indian cities.
    _RANGES: tuple[tuple[str, int, int], ...] = (
        ("aqi_score", 35, 220),
        ("noise_level", 40, 85),
        ("walkability_score", 25, 95),
        ("nearby_parks", 0, 8),
        ("nearby_hospitals", 1, 12),
        ("nearby_schools", 1, 15),
        ("nearby_malls", 0, 6),
        ("public_transport_score", 20, 95),
        ("safety_score", 45, 95),
    )

    async def lifestyle_for(self, *, location: Location, now: datetime) -> LifestyleData:
        return self.compute(location=location, now=now)

    def compute(self, *, location: Location, now: datetime) -> LifestyleData:
        lat = f"{location.latitude:.4f}" if location.latitude is not None else "-"
        lon = f"{location.longitude:.4f}" if location.longitude is not None else "-"
        place = "|".join([lat, lon, (location.locality or "").strip().lower(), location.city.strip().lower()])
        digest = hashlib.sha256(place.encode("utf-8")).digest()
        values: dict[str, int] = {}
        for index, (field, low, high) in enumerate(self._RANGES):
            raw = int.from_bytes(digest[index * 2 : index * 2 + 2], "big")
            values[field] = low + raw % (high - low + 1)
        return LifestyleData(**values, calculated_at=now, is_mock=True)
