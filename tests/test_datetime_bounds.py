"""Dates and times a client sends are checked where they are parsed: one that has no UTC equivalent (year 1
at +05:30 is year 0 in UTC) or lies outside the years anything here can mean is a 422 naming its field, on
every REST route and socket event that takes one, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.user import User
from tests.admin_support import audit_entries
from tests.chat_support import base_url, live
from tests.factories import make_admin, register

OUT_OF_RANGE = [
    "0001-01-01T00:00:00+05:30",  # before year 1 in UTC
    "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",  # valid, but a subscription ending then could never be renewed
    "1850-06-01T00:00:00",
]
IN_RANGE = "2024-06-01T10:00:00+05:30"


def _refused_field(body: dict[str, Any]) -> list[str]:
    assert body["error"]["code"] == "validation_failed", body
    assert body["detail"], body
    return [field["field"] for field in body["error"]["fields"]]


@pytest.mark.parametrize("path", ["/api/admin/transactions", "/api/admin/audit-logs"])
@pytest.mark.parametrize("name", ["date_from", "date_to"])
async def test_admin_list_filters_refuse_out_of_range_dates(
    client: TestClient[Any, Any], path: str, name: str
) -> None:
    admin = await make_admin(client)
    for value in OUT_OF_RANGE:
        response = await client.get(path, headers=admin["headers"], params={name: value})
        assert response.status == 422, (value, await response.text())
        assert _refused_field(await response.json()) == [name], value
    assert (await client.get(path, headers=admin["headers"], params={name: IN_RANGE})).status == 200


async def test_admin_user_edit_refuses_an_out_of_range_subscription_end(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    path = f"/api/admin/users/{renter['user_id']}"
    for value in OUT_OF_RANGE:
        response = await client.put(
            path, headers=admin["headers"], json={"subscription_tier": "premium", "subscription_end": value}
        )
        assert response.status == 422, (value, await response.text())
        assert _refused_field(await response.json()) == ["subscription_end"], value
    stored = await User.get(renter["user_id"])
    assert stored is not None and stored.subscription_end is None
    failed = await audit_entries(action_type="user_update", entity_id=renter["user_id"], status="failed")
    assert len(failed) == len(OUT_OF_RANGE)

    granted = await client.put(
        path,
        headers=admin["headers"],
        json={"subscription_tier": "premium", "subscription_end": "2999-01-01T00:00:00Z"},
    )
    assert granted.status == 200, await granted.text()


async def test_socket_sync_refuses_an_out_of_range_since(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    async with live(base_url(client), renter["token"]) as socket:
        for value in OUT_OF_RANGE:
            error = await socket.error("sync", {"since": value})
            assert error["code"] == "validation_failed", (value, error)
            assert [field["field"] for field in error["fields"]] == ["since"], value
        assert await socket.ok("sync", {"since": IN_RANGE}) is not None
