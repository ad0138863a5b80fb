"""A multipart body whose part headers cannot be parsed is the client's error (400), never a 500 (found by
schemathesis: a control character in a part's name)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

PASSWORD = "correct-horse-battery"


async def test_a_part_header_with_a_control_character_is_a_400(client: TestClient[Any, Any]) -> None:
    registered = await client.post(
        "/api/auth/register", json={"email": "mp@example.com", "phone": "+919876500003", "password": PASSWORD}
    )
    token = (await registered.json())["token"]
    boundary = "e217e87e7f19e76c755121f7156d009f"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="K\x12m"\r\n\r\nx\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"\r\n\r\ntrue\r\n--{boundary}--\r\n'
    ).encode()
    response = await client.post(
        "/api/users/me/photo",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "malformed_multipart"
