"""What one user may store: a storage quota that holds under concurrent uploads, an hourly upload budget,
no uploads into a chat that takes no messages, and the scheduled cleanup of uploads nothing referenced."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from documents.job import ScheduledJob
from documents.stored_file import StoredFile
from homer_rt.appkeys import CLOCK, SCHEDULER, UPLOADS
from homer_rt.clock import AdjustableClock
from homer_rt.scheduler import Scheduler
from homer_rt.settings import Settings
from tests.factories import create_listing, make_chat, make_settings, register
from tests.listing_support import JPEG, files_form

QUOTA = 2_621_440  # 2.5 MiB: quota is reserved a MiB ahead while a file streams in, or exactly near the end
HOURLY_UPLOADS = 50


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Tokens outlive the days the cleanup tests move the clock through.
    return make_settings(
        tmp_path,
        upload_quota_bytes_per_user=QUOTA,
        uploads_per_user_per_hour=HOURLY_UPLOADS,
        jwt_expiry_hours=24 * 30,
    )


def pdf_of(size: int) -> bytes:
    """A document the type check accepts, exactly ``size`` bytes long."""
    head = b"%PDF-1.4\n"
    return head + b"0" * (size - len(head))


def attachment_form(data: bytes, name: str = "plan.pdf") -> FormData:
    form = FormData()
    form.add_field("file", io.BytesIO(data), filename=name, content_type="application/pdf")
    return form


def document_form(data: bytes) -> FormData:
    form = FormData()
    form.add_field("document_type", "id_proof")
    form.add_field("document", io.BytesIO(data), filename="id.pdf", content_type="application/pdf")
    return form


async def attach(client: TestClient[Any, Any], who: dict[str, Any], chat_id: str, data: bytes) -> Any:
    return await client.post(
        f"/api/chats/{chat_id}/attachments", data=attachment_form(data), headers=who["headers"]
    )


async def used(client: TestClient[Any, Any], user: dict[str, Any]) -> int:
    used_bytes: int = await client.app[UPLOADS].quota.used(user["user"]["user_id"])
    return used_bytes


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_the_quota_is_refused_at_its_boundary(client: TestClient[Any, Any], settings: Settings) -> None:
    renter, _owner, _, chat_id = await make_chat(client)
    assert (await attach(client, renter, chat_id, pdf_of(1_500_000))).status == 200
    # Exactly filling the quota is allowed.
    exact = await attach(client, renter, chat_id, pdf_of(QUOTA - 1_500_000))
    assert exact.status == 200, await exact.text()
    assert await used(client, renter) == QUOTA

    # One byte more is not, whichever door: chat attachments, verification documents, listing images.
    refused = await attach(client, renter, chat_id, pdf_of(100))
    assert refused.status == 413
    body = await refused.json()
    assert body["error"]["code"] == "upload_quota_exceeded"
    assert "upload storage" in body["detail"] and body["error"]["quota_bytes"] == QUOTA
    document = await client.post(
        "/api/verification/upload-document", data=document_form(pdf_of(100)), headers=renter["headers"]
    )
    assert document.status == 413
    assert (await document.json())["error"]["code"] == "upload_quota_exceeded"
    assert await used(client, renter) == QUOTA
    assert len(stored_files(settings.upload_dir)) == 2  # the refused ones left nothing behind

    # Another user's quota is their own.
    other_renter, _, _, other_chat = await make_chat(client)
    assert (await attach(client, other_renter, other_chat, pdf_of(100))).status == 200


async def test_concurrent_uploads_never_overshoot_the_quota(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    renter, _owner, _, chat_id = await make_chat(client)
    size = 200_000  # thirteen fit in the quota; forty arrive at once
    responses = await asyncio.gather(*(attach(client, renter, chat_id, pdf_of(size)) for _ in range(40)))
    accepted = [r for r in responses if r.status == 200]
    refused = [r for r in responses if r.status != 200]
    assert 1 <= len(accepted) <= QUOTA // size
    for response in refused:
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "upload_quota_exceeded"
    # What is counted is exactly what is stored: no reservation of a refused upload is left behind.
    assert await used(client, renter) == len(accepted) * size
    assert len(stored_files(settings.upload_dir)) == len(accepted)
    assert await StoredFile.find({"uploader_id": renter["user"]["user_id"]}).count() == len(accepted)
    room = QUOTA - len(accepted) * size
    assert (await attach(client, renter, chat_id, pdf_of(room))).status == 200
    assert await used(client, renter) == QUOTA


async def test_listing_images_count_and_removing_one_gives_its_bytes_back(
    client: TestClient[Any, Any],
) -> None:
    owner = await register(client, user_type="owner")
    listing = await create_listing(client, owner)
    image = JPEG[:-2] + b"\x00" * 1_500_000 + b"\xff\xd9"
    uploaded = await client.post(
        f"/api/properties/{listing['property_id']}/upload-images",
        data=files_form(("a.jpg", image)),
        headers=owner["headers"],
    )
    assert uploaded.status == 200, await uploaded.text()
    assert await used(client, owner) == len(image)
    too_many = await client.post(
        f"/api/properties/{listing['property_id']}/upload-images",
        data=files_form(("b.jpg", image)),
        headers=owner["headers"],
    )
    assert too_many.status == 413
    url = (await uploaded.json())["image_urls"][0]
    removed = await client.delete(
        f"/api/properties/{listing['property_id']}/images", json={"image_url": url}, headers=owner["headers"]
    )
    assert removed.status == 200
    assert await used(client, owner) == 0


async def test_uploads_per_hour_are_limited(
    aiohttp_client: Any, tmp_path: Path, clock: AdjustableClock
) -> None:
    from homer_rt.app import create_app

    client = await aiohttp_client(
        create_app(make_settings(tmp_path, uploads_per_user_per_hour=3), clock=clock)
    )
    renter, owner, _, chat_id = await make_chat(client)
    for _ in range(3):
        assert (await attach(client, renter, chat_id, pdf_of(1000))).status == 200
    refused = await attach(client, renter, chat_id, pdf_of(1000))
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    body = await refused.json()
    assert body["error"]["code"] == "rate_limited" and "at most 3 files an hour" in body["detail"]
    # The owner's budget is their own; the renter's comes back after the hour.
    assert (await attach(client, owner, chat_id, pdf_of(1000))).status == 200
    clock.advance(timedelta(hours=1, seconds=1))
    assert (await attach(client, renter, chat_id, pdf_of(1000))).status == 200


async def test_no_uploads_into_a_blocked_chat(client: TestClient[Any, Any], settings: Settings) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    assert (await client.post(f"/api/chats/{chat_id}/block", headers=owner["headers"])).status == 200
    for who in (renter, owner):
        refused = await attach(client, who, chat_id, pdf_of(1000))
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "chat_blocked"
    assert stored_files(settings.upload_dir) == []
    assert (await client.post(f"/api/chats/{chat_id}/unblock", headers=owner["headers"])).status == 200
    assert (await attach(client, renter, chat_id, pdf_of(1000))).status == 200


async def test_cleanup_removes_what_nothing_referenced_after_a_day(
    client: TestClient[Any, Any], clock: AdjustableClock, settings: Settings
) -> None:
    renter, owner, _, chat_id = await make_chat(client)

    async def upload(data: bytes) -> str:
        response = await attach(client, renter, chat_id, data)
        assert response.status == 200, await response.text()
        return str((await response.json())["file_url"])

    async def upload_document(data: bytes) -> str:
        response = await client.post(
            "/api/verification/upload-document", data=document_form(data), headers=renter["headers"]
        )
        assert response.status == 200, await response.text()
        return str((await response.json())["data"]["file_url"])

    sent, unsent = await upload(pdf_of(1000)), await upload(pdf_of(2000))
    submitted, abandoned = await upload_document(pdf_of(3000)), await upload_document(pdf_of(4000))
    message = await client.post(
        f"/api/chats/{chat_id}/messages",
        json={"message": "Floor plan", "attachments": [sent]},
        headers=renter["headers"],
    )
    assert message.status == 200, await message.text()
    submission = await client.post(
        "/api/verification/renter/submit",
        headers=renter["headers"],
        json={
            "documents": {"id_proof": {"file_url": submitted}},
            "employment_details": {
                "company_name": "Acme",
                "employment_type": "salaried",
                "annual_income": 1e6,
            },
        },
    )
    assert submission.status == 200, await submission.text()
    clock.advance(timedelta(hours=20))
    fresh = await upload(pdf_of(5000))
    clock.advance(timedelta(hours=5))  # the first uploads are 25 h old, the fresh one 5 h

    assert "upload-cleanup" in await client.app[SCHEDULER].tick()

    async def status(url: str, who: dict[str, Any]) -> int:
        return (await client.get(url, headers=who["headers"])).status

    assert await status(unsent, renter) == 404 and await status(abandoned, renter) == 404
    assert await status(sent, owner) == 200 and await status(submitted, renter) == 200
    assert await status(fresh, renter) == 200
    assert await used(client, renter) == 1000 + 3000 + 5000
    assert len(stored_files(settings.upload_dir)) == 3
    # A removed attachment cannot be sent any more; the fresh one can, and then it is kept for good.
    late = await client.post(
        f"/api/chats/{chat_id}/messages",
        json={"message": "x", "attachments": [unsent]},
        headers=renter["headers"],
    )
    assert late.status == 400 and (await late.json())["error"]["code"] == "invalid_attachment"
    ok = await client.post(
        f"/api/chats/{chat_id}/messages",
        json={"message": "y", "attachments": [fresh]},
        headers=renter["headers"],
    )
    assert ok.status == 200
    clock.advance(timedelta(days=3))
    assert "upload-cleanup" in await client.app[SCHEDULER].tick()
    assert await status(fresh, owner) == 200 and await status(sent, owner) == 200


async def test_two_schedulers_run_the_cleanup_once(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    renter, _owner, _, chat_id = await make_chat(client)
    assert (await attach(client, renter, chat_id, pdf_of(1000))).status == 200
    clock.advance(timedelta(hours=25))

    runs: list[int] = []
    started, proceed = asyncio.Event(), asyncio.Event()

    async def cleanup() -> None:
        started.set()
        await proceed.wait()  # the first run is still going when the second scheduler looks
        runs.append(await client.app[UPLOADS].remove_unreferenced())

    schedulers = [Scheduler(clock=client.app[CLOCK], poll_seconds=3600, worker_id=name) for name in "ab"]
    for scheduler in schedulers:
        scheduler.every("upload-cleanup", timedelta(hours=1), cleanup)
    first = asyncio.create_task(schedulers[0].tick())
    await started.wait()
    assert await schedulers[1].tick() == []  # claimed by the first: not run twice
    proceed.set()
    assert await first == ["upload-cleanup"]
    assert runs == [1]
    job = await ScheduledJob.get("upload-cleanup")
    assert job is not None and job.runs == 1 and job.lease_id is None
    assert await schedulers[1].tick() == []  # done for this hour, whoever asks
