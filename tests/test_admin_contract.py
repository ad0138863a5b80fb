"""Every admin route answers exactly the type it declares: no key missing, none extra, each value of its type.

The OpenAPI document and schemathesis read these declarations; a view that drifted from the JSON the
server sends (a key renamed in a document's view, a field added) fails here, route by route.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

import handlers.admin as admin_routes
from handlers.contract import Access, declared_operation
from tests.admin_support import pay_subscription, submit_property_verification, submit_renter_verification
from tests.factories import make_admin, make_property, register
from tests.shape_support import shape_errors


async def answer(
    client: TestClient[Any, Any], method: str, path: str, handler: Any, *, status: int = 200, **kwargs: Any
) -> Any:
    """Call an admin route, check its status, and that its body is exactly the handler's declared type."""
    declared = declared_operation(handler)
    assert declared is not None, f"{handler.__name__} declares no operation"
    assert declared.access is Access.ADMIN
    response = await client.request(method, path, **kwargs)
    assert response.status == status, await response.text()
    body = await response.json()
    assert shape_errors(body, declared.response) == [], (path, shape_errors(body, declared.response))
    return body


async def test_every_admin_route_answers_its_declared_type(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    auth = {"headers": admin["headers"]}
    owner = await register(client, user_type="owner", full_name="Listing Owner")
    renter = await register(client, full_name="Paying Renter")
    kept = await make_property(owner_id=owner["user_id"], title="A flat the admin verifies")
    changed = await make_property(owner_id=owner["user_id"], title="A flat the admin changes")
    pending = await make_property(owner_id=owner["user_id"], title="A flat waiting for review")
    await submit_property_verification(client, owner, pending.id)
    await submit_renter_verification(client, renter)
    paid = await pay_subscription(client, renter)
    started = await client.post(
        "/api/chats/initiate",
        headers=renter["headers"],
        json={"property_id": kept.id, "initial_message": "Is it available?"},
    )
    assert started.status == 200, await started.text()
    reported = await client.post(
        f"/api/chats/{(await started.json())['chat_id']}/report",
        headers=renter["headers"],
        json={"reason": "Asked me to pay outside Homer"},
    )
    assert reported.status == 200, await reported.text()
    report_id = (await reported.json())["report_id"]

    stats = await answer(client, "GET", "/api/admin/stats", admin_routes.stats, **auth)
    assert stats["verifications"]["total_pending"] == 2
    assert stats["recent_activity"]["users"] and stats["recent_activity"]["properties"]

    users = await answer(client, "GET", "/api/admin/users", admin_routes.list_users, **auth)
    assert users["total_count"] >= 3
    user = await answer(client, "GET", f"/api/admin/users/{renter['user_id']}", admin_routes.get_user, **auth)
    assert user["recent_transactions"] and user["listings"] == {"total": 0, "active": 0}
    await answer(
        client,
        "PUT",
        f"/api/admin/users/{renter['user_id']}",
        admin_routes.update_user,
        json={"full_name": "Renamed Renter", "profile_visibility": False},
        **auth,
    )

    listings = await answer(client, "GET", "/api/admin/properties", admin_routes.list_properties, **auth)
    assert any(p["verification_documents"] for p in listings["properties"])
    await answer(
        client,
        "PUT",
        f"/api/admin/properties/{changed.id}",
        admin_routes.update_property,
        json={"rent": 30500.5, "status": "inactive"},
        **auth,
    )
    await answer(
        client,
        "POST",
        f"/api/admin/properties/{kept.id}/force-verify",
        admin_routes.force_verify_property,
        **auth,
    )
    await answer(
        client, "DELETE", f"/api/admin/properties/{changed.id}", admin_routes.delete_property, **auth
    )

    queue = await answer(
        client, "GET", "/api/admin/verifications/pending", admin_routes.pending_verifications, **auth
    )
    assert len(queue["pending_renter_verifications"]) == len(queue["pending_property_verifications"]) == 1
    await answer(
        client,
        "POST",
        "/api/admin/verifications/approve",
        admin_routes.approve_verification,
        json={"verification_type": "property", "entity_id": pending.id},
        **auth,
    )
    await answer(
        client,
        "POST",
        "/api/admin/verifications/reject",
        admin_routes.reject_verification,
        json={"verification_type": "renter", "entity_id": renter["user_id"], "reason": "Blurry scan"},
        **auth,
    )

    transactions = await answer(
        client, "GET", "/api/admin/transactions", admin_routes.list_transactions, **auth
    )
    assert transactions["total_count"] == 2
    await answer(
        client, "POST", f"/api/admin/transactions/{paid}/refund", admin_routes.refund_transaction, **auth
    )

    reports = await answer(client, "GET", "/api/admin/reports", admin_routes.list_reports, **auth)
    assert reports["reports"][0]["reporter_name"] == "Renamed Renter"
    await answer(
        client,
        "POST",
        f"/api/admin/reports/{report_id}/resolve",
        admin_routes.resolve_report,
        json={"action": "block_chat", "note": "Off-platform payment"},
        **auth,
    )

    await answer(client, "DELETE", f"/api/admin/users/{owner['user_id']}", admin_routes.delete_user, **auth)
    logs = await answer(client, "GET", "/api/admin/audit-logs", admin_routes.audit_logs, **auth)
    assert {entry["action_type"] for entry in logs["logs"]} >= {
        "user_update",
        "report_resolve",
        "user_delete",
    }


def test_the_checker_refuses_a_missing_an_extra_and_a_mistyped_key() -> None:
    from homer_rt.services.admin.views import PropertyDeletedResponse

    assert shape_errors({"message": "ok", "property_id": "p1"}, PropertyDeletedResponse) == []
    assert shape_errors({"message": "ok"}, PropertyDeletedResponse) == ["$.property_id: missing"]
    assert shape_errors({"message": "ok", "property_id": "p1", "x": 1}, PropertyDeletedResponse) == [
        "$.x: not declared"
    ]
    assert shape_errors({"message": 1, "property_id": "p1"}, PropertyDeletedResponse) == [
        "$.message: expected str, got 1"
    ]
