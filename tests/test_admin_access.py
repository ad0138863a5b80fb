"""Every /api/admin route: 401 without a token, 403 for a signed-in non-admin, never a change of state."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.audit_log import AdminAuditLog
from tests.factories import register

ROUTES = [
    ("GET", "/api/admin/stats"),
    ("GET", "/api/admin/users"),
    ("GET", "/api/admin/users/{id}"),
    ("PUT", "/api/admin/users/{id}"),
    ("DELETE", "/api/admin/users/{id}"),
    ("GET", "/api/admin/properties"),
    ("PUT", "/api/admin/properties/{id}"),
    ("DELETE", "/api/admin/properties/{id}"),
    ("POST", "/api/admin/properties/{id}/force-verify"),
    ("GET", "/api/admin/verifications/pending"),
    ("POST", "/api/admin/verifications/approve"),
    ("POST", "/api/admin/verifications/reject"),
    ("GET", "/api/admin/transactions"),
    ("POST", "/api/admin/transactions/{id}/refund"),
    ("GET", "/api/admin/reports"),
    ("POST", "/api/admin/reports/{id}/resolve"),
    ("GET", "/api/admin/audit-logs"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_admin_route_needs_an_admin(client: TestClient[Any, Any], method: str, path: str) -> None:
    user = await register(client)
    url = path.format(id=user["user_id"])
    body = {
        "is_admin": True,
        "action": "dismiss",
        "verification_type": "renter",
        "entity_id": user["user_id"],
    }
    anonymous = await client.request(method, url, json=body)
    assert anonymous.status == 401
    assert "detail" in await anonymous.json()
    signed_in = await client.request(method, url, json=body, headers=user["headers"])
    assert signed_in.status == 403
    assert (await signed_in.json())["error"]["code"] == "admin_required"
    me = await (await client.get("/api/users/me", headers=user["headers"])).json()
    assert me["is_admin"] is False
    assert await AdminAuditLog.find({}).count() == 0
