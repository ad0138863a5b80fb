"""The audit log as admins read it: newest first, filtered, paginated, with failures recorded too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from homer_rt.clock import AdjustableClock
from tests.admin_support import assert_no_secrets
from tests.factories import make_admin, make_property, register


async def test_audit_log_filters_and_pages(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    admin = await make_admin(client)
    other_admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    headers = admin["headers"]

    start = clock.now()
    assert (
        await client.put(f"/api/admin/users/{owner['user_id']}", headers=headers, json={"full_name": "A B"})
    ).status == 200
    clock.advance(timedelta(hours=1))
    middle = clock.now()
    assert (await client.delete(f"/api/admin/properties/{prop.id}", headers=headers)).status == 200
    clock.advance(timedelta(hours=1))
    assert (await client.delete(f"/api/admin/properties/{prop.id}", headers=headers)).status == 409
    clock.advance(timedelta(hours=1))
    assert (
        await client.post(f"/api/admin/properties/{prop.id}/force-verify", headers=other_admin["headers"])
    ).status == 409

    async def logs(**params: str) -> dict[str, Any]:
        response = await client.get("/api/admin/audit-logs", headers=headers, params=params)
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    everything = await logs()
    assert everything["total_count"] == 4 and everything["limit"] == 100
    assert [e["action_type"] for e in everything["logs"]] == [
        "property_force_verify",
        "property_delete",
        "property_delete",
        "user_update",
    ]
    assert [e["status"] for e in everything["logs"]] == ["failed", "failed", "success", "success"]
    assert everything["logs"][1]["error_message"] == "Property already deleted"
    assert_no_secrets(everything)

    assert (await logs(entity_type="user"))["total_count"] == 1
    assert (await logs(action_type="property_delete"))["total_count"] == 2
    assert (await logs(admin_id=other_admin["user_id"]))["total_count"] == 1
    assert (await logs(status="failed"))["total_count"] == 2
    assert (await logs(entity_id=prop.id))["total_count"] == 3
    window = await logs(date_from=start.isoformat(), date_to=(middle + timedelta(minutes=1)).isoformat())
    assert [e["action_type"] for e in window["logs"]] == ["property_delete", "user_update"]
    first_page = await logs(limit="3")
    second_page = await logs(limit="3", page="2")
    assert first_page["has_more"] is True and len(first_page["logs"]) == 3
    assert second_page["has_more"] is False and [e["action_type"] for e in second_page["logs"]] == [
        "user_update"
    ]

    assert (await client.get("/api/admin/audit-logs", headers=headers, params={"limit": "0"})).status == 422
    assert (await client.get("/api/admin/audit-logs", headers=owner["headers"])).status == 403
