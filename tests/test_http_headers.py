"""Headers every client and cache relies on: no sniffing, no cached API answers, no server version,
private documents downloaded rather than displayed, Bearer challenges on 401s, and CORS that varies by
Origin on every response."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from handlers.cors import vary_on
from homer_rt.clock import AdjustableClock
from storage.base import attachment_disposition
from tests.factories import PASSWORD, make_chat, register
from tests.listing_support import PDF, files_form, png_bytes, upload_listing_image

ALLOWED_ORIGIN = "http://localhost:3000"  # make_settings' CORS_ORIGINS


async def test_every_response_is_nosniff_and_names_no_server_version(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    image_url = await upload_listing_image(client, owner)
    responses = {
        "root": await client.get("/"),
        "health": await client.get("/api/health"),
        "not found": await client.get("/api/nothing-here"),
        "wrong method": await client.delete("/api/auth/login"),
        "unauthorized": await client.get("/api/auth/me"),
        "malformed JSON": await client.post(
            "/api/auth/login", data=b"{", headers={"Content-Type": "application/json"}
        ),
        "file": await client.get(image_url),
        "missing file": await client.get("/uploads/properties/p1/missing.png"),
        "socket.io polling": await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"}),
        "preflight": await client.options(
            "/api/auth/login", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"}
        ),
    }
    assert responses["file"].status == 200 and responses["socket.io polling"].status == 200
    for name, response in responses.items():
        assert response.headers["Server"] == "Homer", name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name


async def test_api_json_answers_are_never_cached(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    login = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    answers = [
        login,  # a token
        await client.get("/api/users/me", headers=user["headers"]),  # personal data
        await client.get("/api/properties"),  # public search: no-store too (one rule for all JSON)
        await client.get("/api/nothing-here"),
        await client.post("/api/auth/login", json={"email": user["email"], "password": "wrong-password"}),
    ]
    for response in answers:
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store", response.url
    # Socket.IO's long-polling answers carry chat messages, as text/plain.
    polling = await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert polling.status == 200
    assert polling.headers["Cache-Control"] == "no-store"

    # Files keep their own caching: a public listing image may be cached by anyone.
    owner = await register(client, user_type="owner")
    image = await client.get(await upload_listing_image(client, owner))
    assert image.headers["Cache-Control"] == "public, max-age=86400"


async def test_private_documents_are_downloaded_not_displayed(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)

    # As a browser sends it: the name's UTF-8 as is (aiohttp's client would percent-encode it).
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("document_type", "id_proof")
    form.add_field("document", PDF, filename="my ID ಆಧಾರ್.pdf", content_type="application/pdf")
    uploaded = await client.post("/api/verification/upload-document", data=form, headers=renter["headers"])
    assert uploaded.status == 200, await uploaded.text()
    document = await client.get((await uploaded.json())["data"]["file_url"], headers=renter["headers"])
    assert document.status == 200
    assert document.headers["Content-Disposition"] == (
        'attachment; filename="my ID _____.pdf"; '
        "filename*=UTF-8''my%20ID%20%E0%B2%86%E0%B2%A7%E0%B2%BE%E0%B2%B0%E0%B3%8D.pdf"
    )
    assert document.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert document.headers["Content-Type"] == "application/pdf"

    attachment = await client.post(
        f"/api/chats/{chat_id}/attachments",
        data=files_form(("floorplan.png", png_bytes()), field="file", content_type="image/png"),
        headers=renter["headers"],
    )
    assert attachment.status == 200, await attachment.text()
    served = await client.get((await attachment.json())["file_url"], headers=owner["headers"])
    assert served.status == 200
    assert served.headers["Content-Disposition"].startswith('attachment; filename="floorplan.png"')
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"

    # Public listing images are shown inline, as before.
    image = await client.get(await upload_listing_image(client, owner))
    assert "Content-Disposition" not in image.headers
    assert "Content-Security-Policy" not in image.headers


async def test_401s_carry_a_bearer_challenge(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    user = await register(client)

    async def challenge(response: aiohttp.ClientResponse) -> str | None:
        assert response.status == 401
        return response.headers.get("WWW-Authenticate")

    # No token: the client is asked for one.
    assert await challenge(await client.get("/api/auth/me")) == "Bearer"
    basic = await client.get("/api/auth/me", headers={"Authorization": "Basic eDp5"})
    assert await challenge(basic) == "Bearer"
    login = {"email": user["email"], "password": "nope-nope"}
    assert await challenge(await client.post("/api/auth/login", json=login)) == "Bearer"

    # A token that was sent and refused: the client must get a new one.
    invalid = 'Bearer error="invalid_token"'
    bad = await client.get("/api/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert await challenge(bad) == invalid
    renter, _, _, chat_id = await make_chat(client)
    uploaded = await client.post(
        f"/api/chats/{chat_id}/attachments",
        data=files_form(("plan.png", png_bytes()), field="file", content_type="image/png"),
        headers=renter["headers"],
    )
    private_url = (await uploaded.json())["file_url"]
    assert await challenge(await client.get(private_url)) == "Bearer"
    stale = await client.get(private_url, headers={"Authorization": "Bearer stale"})
    assert await challenge(stale) == invalid
    clock.advance(timedelta(days=31))
    assert await challenge(await client.get("/api/auth/me", headers=user["headers"])) == invalid

    # Not a 401, no challenge.
    fresh = await register(client)
    forbidden = await client.get("/api/admin/stats", headers=fresh["headers"])
    assert forbidden.status == 403
    assert "WWW-Authenticate" not in forbidden.headers


async def test_a_refused_preflight_answers_with_the_error_envelope(client: TestClient[Any, Any]) -> None:
    refused = await client.options(
        "/api/auth/login", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status == 403
    assert await refused.json() == {"detail": "Origin not allowed", "error": {"code": "origin_not_allowed"}}
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_every_response_varies_by_origin(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    for origin in (ALLOWED_ORIGIN, "http://evil.example", "null", None):
        headers = {"Origin": origin} if origin else {}
        responses = [
            await client.get("/api/auth/me", headers={**user["headers"], **headers}),
            await client.get("/api/properties", headers=headers),
            await client.get("/api/nothing-here", headers=headers),
            await client.get("/api/auth/me", headers=headers),  # 401
            await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"}, headers=headers),
            await client.options(
                "/api/auth/login", headers={**headers, "Access-Control-Request-Method": "POST"}
            ),
        ]
        for response in responses:
            assert response.headers.getall("Vary") == ["Origin"], (origin, response.url)
            if origin == ALLOWED_ORIGIN:
                assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
                assert response.headers["Access-Control-Allow-Credentials"] == "true"
                # A browser frontend may read the request id, to quote it when something went wrong.
                assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
            else:
                assert "Access-Control-Allow-Origin" not in response.headers


def test_vary_keeps_what_a_response_already_varies_on() -> None:
    response = web.Response(headers={"Vary": "Accept-Encoding"})
    vary_on(response, "Origin")
    assert response.headers.getall("Vary") == ["Accept-Encoding, Origin"]
    vary_on(response, "origin")
    assert response.headers.getall("Vary") == ["Accept-Encoding, Origin"]
    everything = web.Response(headers={"Vary": "*"})
    vary_on(everything, "Origin")
    assert everything.headers.getall("Vary") == ["*"]


def test_an_attachment_name_cannot_break_out_of_its_header() -> None:
    assert attachment_disposition('a"b\\c;d.pdf') == (
        "attachment; filename=\"a_b_c;d.pdf\"; filename*=UTF-8''a%22b%5Cc%3Bd.pdf"
    )
