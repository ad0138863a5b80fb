"""The arithmetic of a page of a chat's messages: which seqs it covers and whether older ones exist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from homer_rt.services.chats.commands import MAX_PAGE_SIZE

T = TypeVar("T")


def older_exist(oldest_seq: int | None) -> bool:
    """Whether messages older than a page's oldest exist. Seq 1 (the opening message) always exists, so
    any page starting after it has older ones; an empty page has none."""
    return oldest_seq is not None and oldest_seq > 1


@dataclass(frozen=True, slots=True)
class PageBounds:
    """The newest ``size`` messages with seq < ``upper``."""

    upper: int
    size: int

    @classmethod
    def of(cls, *, last_seq: int, before_seq: int | None, limit: int | None, default_size: int) -> PageBounds:
        """The latest page (``before_seq`` None) or the page before ``before_seq``; ``limit`` messages, or
        the server's page size, never more than MAX_PAGE_SIZE."""
        return cls(
            upper=before_seq if before_seq is not None else last_seq + 1,
            size=min(limit or default_size, MAX_PAGE_SIZE),
        )

    @property
    def lower(self) -> int:
        """The lowest of the size + 1 seqs below ``upper``. Seqs are dense (a gap only where a retry's
        reservation was undone), so [lower, upper) holds the page and the one message that tells older ones
        exist: one range query touches size + 1 messages whatever the chat's length."""
        return max(1, self.upper - self.size - 1)

    def range_had_gap(self, found: int) -> bool:
        """Whether a range query over [lower, upper) that found ``found`` messages missed some the page
        needs: fewer than size + 1 although the range did not reach seq 1. Then sort + limit answers."""
        return found < self.size + 1 and self.lower > 1

    def page(self, newest_first: Sequence[T]) -> tuple[list[T], bool]:
        """From up to size + 1 messages, newest first: the page, oldest first, and whether older exist."""
        return list(reversed(newest_first[: self.size])), len(newest_first) > self.size
