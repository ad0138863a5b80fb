"""Verification: private document uploads, renter/owner/property submissions, status, admin decisions."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from documents.audit_log import AdminAuditLog
from documents.notification import Notification
from documents.property import Property
from documents.user import User
from homer_rt.appkeys import VERIFICATION
from homer_rt.services.audit import AdminActor
from homer_rt.services.verification import parse_verification_id
from tests.chat_support import base_url, live
from tests.factories import make_admin, make_property, register
from tests.payment_helpers import pay_mock

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EMPLOYMENT = {
    "company_name": "Acme Technologies",
    "designation": "Engineer",
    "employment_type": "salaried",
    "annual_income": 1500000,
    "years_of_experience": 5,
}


async def upload(
    client: TestClient[Any, Any], user: dict[str, Any], document_type: str = "id_proof", content: bytes = PDF
) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("document_type", document_type)
    form.add_field("document", content, filename=f"{document_type}.pdf", content_type="application/pdf")
    response = await client.post("/api/verification/upload-document", data=form, headers=user["headers"])
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def submit_renter(client: TestClient[Any, Any], user: dict[str, Any], url: str) -> Any:
    return await client.post(
        "/api/verification/renter/submit",
        json={
            "documents": {"id_proof": {"file_url": url, "file_name": "x.pdf"}},
            "employment_details": EMPLOYMENT,
        },
        headers=user["headers"],
    )


async def test_upload_returns_the_spec_metadata(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    body = await upload(client, renter)
    assert body["success"] is True
    data = body["data"]
    assert data["file_url"].startswith(f"/uploads/verification/{renter['user']['user_id']}/")
    assert data["file_name"] == "id_proof.pdf"
    assert data["file_size"] == len(PDF)
    assert data["file_type"] == "application/pdf"
    assert data["uploaded_at"]


async def test_upload_needs_a_document_and_its_type(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    no_type = aiohttp.FormData()
    no_type.add_field("document", PDF, filename="a.pdf", content_type="application/pdf")
    response = await client.post("/api/verification/upload-document", data=no_type, headers=renter["headers"])
    assert response.status == 422
    no_file = aiohttp.FormData(default_to_multipart=True)
    no_file.add_field("document_type", "id_proof")
    no_file.add_field("other", "x")
    response = await client.post("/api/verification/upload-document", data=no_file, headers=renter["headers"])
    assert response.status == 422
    not_a_document = aiohttp.FormData()
    not_a_document.add_field("document_type", "id_proof")
    not_a_document.add_field(
        "document", b"MZ\x90\x00 executable", filename="a.pdf", content_type="application/pdf"
    )
    response = await client.post(
        "/api/verification/upload-document", data=not_a_document, headers=renter["headers"]
    )
    assert response.status == 415
    anonymous = await client.post("/api/verification/upload-document", data=aiohttp.FormData({"a": "b"}))
    assert anonymous.status == 401
    not_multipart = await client.post("/api/verification/upload-document", json={}, headers=renter["headers"])
    assert not_multipart.status == 400


async def test_documents_are_private_to_the_uploader_and_admins(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    other = await register(client)
    admin = await make_admin(client)
    url = (await upload(client, renter))["data"]["file_url"]
    mine = await client.get(url, headers=renter["headers"])
    assert mine.status == 200 and await mine.read() == PDF
    assert (await client.get(url, headers=admin["headers"])).status == 200
    assert (await client.get(url, headers=other["headers"])).status == 403
    assert (await client.get(url)).status == 401


async def test_renter_submits_and_admin_approves(client: TestClient[Any, Any]) -> None:
    renter = await register(client, full_name="Riya Renter")
    admin = await make_admin(client)
    user_id = renter["user"]["user_id"]
    url = (await upload(client, renter))["data"]["file_url"]

    submitted = await submit_renter(client, renter, url)
    assert submitted.status == 200, await submitted.text()
    assert await submitted.json() == {
        "success": True,
        "message": "Verification request submitted successfully",
        "verification_id": f"renter_{user_id}",
        "status": "pending",
    }
    status = await (
        await client.get("/api/verification/my-status?type=renter", headers=renter["headers"])
    ).json()
    assert status["status"] == "pending" and status["is_verified"] is False
    assert status["verification"]["documents"]["id_proof"]["file_url"] == url
    assert status["verification"]["employment_details"]["company_name"] == "Acme Technologies"
    assert status["verification"]["submitted_at"] is not None
    assert status["verification"]["reviewed_at"] is None

    pending = await (await client.get("/api/verification/admin/pending", headers=admin["headers"])).json()
    entry = next(v for v in pending if v["verification_id"] == f"renter_{user_id}")
    assert entry["verification_type"] == "renter"
    assert entry["user_name"] == "Riya Renter" and entry["user_email"] == renter["email"]
    assert entry["documents"]["id_proof"]["file_url"] == url
    assert entry["status"] == "pending" and entry["submitted_at"]

    approved = await client.post(
        f"/api/verification/admin/approve/renter_{user_id}", headers=admin["headers"]
    )
    assert approved.status == 200
    assert (await approved.json())["success"] is True
    status = await (
        await client.get("/api/verification/my-status?type=renter", headers=renter["headers"])
    ).json()
    assert status["status"] == "verified" and status["is_verified"] is True
    assert status["verification"]["reviewed_at"] is not None
    me = await (await client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["is_verified_renter"] is True

    logs = await AdminAuditLog.find({"entity_id": user_id}).to_list()
    assert [(log.action_type, log.entity_type, log.status.value) for log in logs] == [
        ("verification_approve", "renter", "success")
    ]
    assert logs[0].admin_id == admin["user"]["user_id"]
    assert await Notification.find({"user_id": user_id, "type": "verification_approved"}).count() == 1

    again = await client.post(f"/api/verification/admin/approve/renter_{user_id}", headers=admin["headers"])
    assert again.status == 409
    rejected_late = await client.post(
        f"/api/verification/admin/reject/renter_{user_id}", json={"reason": "late"}, headers=admin["headers"]
    )
    assert rejected_late.status == 409


async def test_someone_elses_document_url_is_refused(client: TestClient[Any, Any]) -> None:
    victim = await register(client)
    thief = await register(client)
    url = (await upload(client, victim))["data"]["file_url"]
    response = await submit_renter(client, thief, url)
    assert response.status == 403
    assert "detail" in await response.json()
    invented = await submit_renter(
        client, thief, f"/uploads/verification/{thief['user']['user_id']}/made-up.pdf"
    )
    assert invented.status == 403
    outside = await submit_renter(client, thief, "https://evil.example/doc.pdf")
    assert outside.status == 422
    stored = await User.get(thief["user"]["user_id"])
    assert stored is not None and stored.renter_verification_status.value == "none"


async def test_employment_details_are_validated(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    url = (await upload(client, renter))["data"]["file_url"]
    for bad in (
        {**EMPLOYMENT, "annual_income": -5},
        {**EMPLOYMENT, "employment_type": "astronaut"},
        {k: v for k, v in EMPLOYMENT.items() if k != "company_name"},
    ):
        response = await client.post(
            "/api/verification/renter/submit",
            json={"documents": {"id_proof": {"file_url": url}}, "employment_details": bad},
            headers=renter["headers"],
        )
        assert response.status == 422
    empty = await client.post(
        "/api/verification/renter/submit",
        json={"documents": {}, "employment_details": EMPLOYMENT},
        headers=renter["headers"],
    )
    assert empty.status == 422


async def test_rejection_reason_is_shown_and_resubmission_works(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    admin = await make_admin(client)
    user_id = renter["user"]["user_id"]
    first = (await upload(client, renter))["data"]["file_url"]
    await submit_renter(client, renter, first)
    # While waiting for a decision the request cannot be replaced.
    assert (await submit_renter(client, renter, first)).status == 409

    missing_reason = await client.post(
        f"/api/verification/admin/reject/renter_{user_id}", json={}, headers=admin["headers"]
    )
    assert missing_reason.status == 422
    rejected = await client.post(
        f"/api/verification/admin/reject/renter_{user_id}",
        json={"reason": "ID is blurry"},
        headers=admin["headers"],
    )
    assert rejected.status == 200
    status = await (
        await client.get("/api/verification/my-status?type=renter", headers=renter["headers"])
    ).json()
    assert status["status"] == "rejected"
    assert status["verification"]["rejection_reason"] == "ID is blurry"
    note = await Notification.find_one({"user_id": user_id, "type": "verification_rejected"})
    assert note is not None and "ID is blurry" in note.message

    second = (await upload(client, renter))["data"]["file_url"]
    assert (await submit_renter(client, renter, second)).status == 200
    status = await (
        await client.get("/api/verification/my-status?type=renter", headers=renter["headers"])
    ).json()
    assert status["status"] == "pending"
    assert status["verification"]["rejection_reason"] is None
    assert status["verification"]["documents"]["id_proof"]["file_url"] == second
    approved = await client.post(
        f"/api/verification/admin/approve/renter_{user_id}", headers=admin["headers"]
    )
    assert approved.status == 200


async def test_owner_pays_submits_property_and_admin_approves(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner", full_name="Omar Owner")
    admin = await make_admin(client)
    owner_id = owner["user"]["user_id"]
    property_id = (await make_property(owner_id=owner_id, title="Verified Villa")).id
    url = (await upload(client, owner, "ownership_proof"))["data"]["file_url"]
    body = {"property_id": property_id, "documents": {"ownership_proof": {"file_url": url}}}

    # The client's word about payment is not enough.
    unpaid = await client.post(
        "/api/verification/property/submit",
        json={**body, "payment_status": "success", "payment_id": "pay_fake"},
        headers=owner["headers"],
    )
    assert unpaid.status == 400
    prop = await Property.get(property_id)
    assert prop is not None and prop.verification_fee_paid is False and prop.verification_tier.value == "free"

    await pay_mock(
        client, owner["headers"], type="property_verification", metadata={"property_id": property_id}
    )
    submitted = await client.post("/api/verification/property/submit", json=body, headers=owner["headers"])
    assert submitted.status == 200, await submitted.text()
    assert (await submitted.json())["verification_id"] == f"property_{property_id}"

    status = await (
        await client.get(
            f"/api/verification/my-status?type=property&property_id={property_id}", headers=owner["headers"]
        )
    ).json()
    assert status["status"] == "pending" and status["verification_fee_paid"] is True

    pending = await (await client.get("/api/verification/admin/pending", headers=admin["headers"])).json()
    entry = next(v for v in pending if v["verification_id"] == f"property_{property_id}")
    assert entry["property_title"] == "Verified Villa"
    assert entry["owner_name"] == "Omar Owner" and entry["owner_email"] == owner["email"]
    assert entry["payment_status"] == "success"

    approved = await client.post(
        f"/api/verification/admin/approve/property_{property_id}", headers=admin["headers"]
    )
    assert approved.status == 200
    listing = await (await client.get(f"/api/properties/{property_id}")).json()
    assert listing["is_verified"] is True and listing["verification_tier"] == "verified"
    me = await (await client.get("/api/users/me", headers=owner["headers"])).json()
    assert me["is_verified_owner"] is True and me["owner_verification_status"] == "verified"
    assert await Notification.find({"user_id": owner_id, "type": "verification_approved"}).count() == 1
    log = await AdminAuditLog.find_one({"entity_id": property_id})
    assert log is not None and log.action_type == "verification_approve" and log.entity_type == "property"
    assert (
        await client.post(f"/api/verification/admin/approve/property_{property_id}", headers=admin["headers"])
    ).status == 409


async def test_property_submission_only_for_your_own_property(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    other = await register(client, user_type="owner")
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    url = (await upload(client, other, "ownership_proof"))["data"]["file_url"]
    response = await client.post(
        "/api/verification/property/submit",
        json={"property_id": property_id, "documents": {"ownership_proof": {"file_url": url}}},
        headers=other["headers"],
    )
    assert response.status == 403
    status = await client.get(
        f"/api/verification/my-status?type=property&property_id={property_id}", headers=other["headers"]
    )
    assert status.status == 403


async def test_rejected_property_can_be_resubmitted_without_paying_again(
    client: TestClient[Any, Any],
) -> None:
    owner = await register(client, user_type="owner")
    admin = await make_admin(client)
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    await pay_mock(
        client, owner["headers"], type="property_verification", metadata={"property_id": property_id}
    )
    url = (await upload(client, owner, "ownership_proof"))["data"]["file_url"]
    body = {"property_id": property_id, "documents": {"ownership_proof": {"file_url": url}}}
    assert (
        await client.post("/api/verification/property/submit", json=body, headers=owner["headers"])
    ).status == 200
    rejected = await client.post(
        f"/api/verification/admin/reject/property_{property_id}",
        json={"reason": "Sale deed page missing"},
        headers=admin["headers"],
    )
    assert rejected.status == 200
    status = await (
        await client.get(
            f"/api/verification/my-status?type=property&property_id={property_id}", headers=owner["headers"]
        )
    ).json()
    assert status["status"] == "rejected" and status["verification_tier"] == "free"
    assert status["verification"]["rejection_reason"] == "Sale deed page missing"
    assert (
        await client.post("/api/verification/property/submit", json=body, headers=owner["headers"])
    ).status == 200


async def test_owner_verification_submit_and_decision(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    admin = await make_admin(client)
    owner_id = owner["user"]["user_id"]
    url = (await upload(client, owner, "pan_card"))["data"]["file_url"]
    submitted = await client.post(
        "/api/verification/owner/submit",
        json={"documents": {"pan_card": {"file_url": url}}},
        headers=owner["headers"],
    )
    assert submitted.status == 200
    assert (await submitted.json())["verification_id"] == f"owner_{owner_id}"
    pending = await (await client.get("/api/verification/admin/pending", headers=admin["headers"])).json()
    assert any(
        v["verification_id"] == f"owner_{owner_id}" and v["verification_type"] == "owner" for v in pending
    )
    approved = await client.post(
        f"/api/verification/admin/approve/owner_{owner_id}", headers=admin["headers"]
    )
    assert approved.status == 200
    status = await (
        await client.get("/api/verification/my-status?type=owner", headers=owner["headers"])
    ).json()
    assert status["status"] == "verified" and status["is_verified"] is True


async def test_admin_routes_refuse_non_admins_and_anonymous(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    url = (await upload(client, renter))["data"]["file_url"]
    await submit_renter(client, renter, url)
    verification_id = f"renter_{renter['user']['user_id']}"
    for method, path in (
        ("GET", "/api/verification/admin/pending"),
        ("POST", f"/api/verification/admin/approve/{verification_id}"),
        ("POST", f"/api/verification/admin/reject/{verification_id}"),
    ):
        assert (await client.request(method, path, json={"reason": "x"})).status == 401
        assert (
            await client.request(method, path, json={"reason": "x"}, headers=renter["headers"])
        ).status == 403
    stored = await User.get(renter["user"]["user_id"])
    assert stored is not None and stored.renter_verification_status.value == "pending"
    assert await AdminAuditLog.find_all().count() == 0


async def test_bad_verification_ids(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    for bad in ("renter", "tenant_123", "renter_"):
        response = await client.post(f"/api/verification/admin/approve/{bad}", headers=admin["headers"])
        assert response.status == 400
    missing = await client.post(
        "/api/verification/admin/approve/renter_no-such-user", headers=admin["headers"]
    )
    assert missing.status == 404
    # Only the first underscore separates the kind: ids with underscores stay whole.
    assert parse_verification_id("property_prop_456") == ("property", "prop_456")


async def test_concurrent_decisions_decide_once(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    admin = await make_admin(client)
    url = (await upload(client, renter))["data"]["file_url"]
    await submit_renter(client, renter, url)
    service = client.app[VERIFICATION]
    actor = AdminActor(admin_id=admin["user"]["user_id"], ip_address=None, user_agent=None)
    user_id = renter["user"]["user_id"]
    results = await asyncio.gather(
        *(service.approve(verification_type="renter", entity_id=user_id, actor=actor) for _ in range(3)),
        *(
            service.reject(verification_type="renter", entity_id=user_id, reason="no", actor=actor)
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    assert await AdminAuditLog.find({"entity_id": user_id, "status": "success"}).count() == 1
    decided = await Notification.find(
        {"user_id": user_id, "type": {"$in": ["verification_approved", "verification_rejected"]}}
    ).count()
    assert decided == 1


async def test_owner_gets_payment_and_decision_notifications_live(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    admin = await make_admin(client)
    property_id = (await make_property(owner_id=owner["user"]["user_id"])).id
    async with live(base_url(client), owner["token"], namespace="/notifications") as conn:
        await pay_mock(
            client, owner["headers"], type="property_verification", metadata={"property_id": property_id}
        )
        paid = await conn.recorder.wait_for("notification", lambda n: n["type"] == "payment_success")
        assert paid["title"] == "Verification fee paid"
        url = (await upload(client, owner, "ownership_proof"))["data"]["file_url"]
        body = {"property_id": property_id, "documents": {"ownership_proof": {"file_url": url}}}
        assert (
            await client.post("/api/verification/property/submit", json=body, headers=owner["headers"])
        ).status == 200
        approved = await client.post(
            f"/api/verification/admin/approve/property_{property_id}", headers=admin["headers"]
        )
        assert approved.status == 200
        decided = await conn.recorder.wait_for("notification", lambda n: n["type"] == "verification_approved")
        assert decided["action_url"] == f"/properties/{property_id}"
        await conn.recorder.wait_for("unread_notifications", lambda e: e["count"] == 2)
