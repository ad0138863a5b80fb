"""?page=&limit= for list routes that had none: every list a route returns is bounded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Large enough that a frontend calling without parameters gets an owner's or a user's whole list in any
# ordinary case (an owner has at most MAX_ACTIVE_LISTINGS_PER_OWNER active listings); a longer one pages.
LIST_PAGE_MAX = 100


class ListPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=10_000)
    limit: int = Field(default=LIST_PAGE_MAX, ge=1, le=LIST_PAGE_MAX)


class AdminListPage(ListPage):
    """The admin console's lists (users, listings, transactions, reports, audit log): 50 rows unless asked,
    at most 200."""

    page: int = Field(default=1, ge=1, le=100_000)
    limit: int = Field(default=50, ge=1, le=200)
