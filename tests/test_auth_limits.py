"""Sign-in and registration limits as an attacker and a user behind the same proxy or NAT meet them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from handlers.forwarded import forwarded_client
from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from homer_rt.ratelimit import address_key
from tests.admin_support import audit_entries
from tests.factories import PASSWORD, make_admin, make_settings, register, unique_identity

WRONG = "wrong-password-here"


async def limited_client(aiohttp_client: Any, tmp_path: Path, **overrides: Any) -> TestClient[Any, Any]:
    settings = make_settings(tmp_path, **overrides)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, clock=AdjustableClock()))
    return client


def via(address: str) -> dict[str, str]:
    """What nginx (the trusted peer 127.0.0.1 in these tests) adds for a client at ``address``."""
    return {"X-Forwarded-For": address}


async def registrations_from(client: TestClient[Any, Any], addresses: list[str]) -> list[int]:
    """The statuses of one fresh registration from each address, in turn (through the trusted proxy)."""
    statuses = []
    for address in addresses:
        email, phone = unique_identity()
        response = await client.post(
            "/api/auth/register",
            json={"email": email, "phone": phone, "password": PASSWORD},
            headers=via(address),
        )
        statuses.append(response.status)
    return statuses


async def login(
    client: TestClient[Any, Any], identifier: str, password: str, headers: dict[str, str] | None = None
) -> int:
    response = await client.post(
        "/api/auth/login", json={"email": identifier, "password": password}, headers=headers or {}
    )
    return response.status


def test_forwarded_for_is_read_from_the_right_and_only_from_a_trusted_peer() -> None:
    proxies = [ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32")]
    # A direct client's header is ignored: it could write anything there.
    assert forwarded_client("203.0.113.9", ["198.51.100.1"], proxies) == "203.0.113.9"
    # Through nginx: the address nginx appended, not what the client claimed to its left.
    assert forwarded_client("127.0.0.1", ["1.2.3.4, 203.0.113.9"], proxies) == "203.0.113.9"
    # Through two trusted hops (an ingress, then nginx): the first untrusted address from the right.
    assert forwarded_client("127.0.0.1", ["1.2.3.4, 203.0.113.9, 10.1.2.3"], proxies) == "203.0.113.9"
    assert forwarded_client("127.0.0.1", ["203.0.113.9", "10.1.2.3"], proxies) == "203.0.113.9"
    # Only trusted hops: the leftmost; garbage ends the walk at the last readable hop.
    assert forwarded_client("127.0.0.1", ["10.9.9.9, 10.1.2.3"], proxies) == "10.9.9.9"
    assert forwarded_client("127.0.0.1", ["evil, 10.1.2.3"], proxies) == "10.1.2.3"
    assert forwarded_client("127.0.0.1", ["::ffff:203.0.113.9"], proxies) == "203.0.113.9"
    assert forwarded_client("127.0.0.1", [], proxies) == "127.0.0.1"


async def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await limited_client(aiohttp_client, tmp_path, login_attempts_per_address=3)
    for n in range(3):
        assert await login(client, f"spray{n}@example.com", WRONG, via(f"198.51.100.{n}")) == 401
    # Each attempt claimed another address; all came from one, and its ceiling is reached.
    assert await login(client, "spray9@example.com", WRONG, via("198.51.100.99")) == 429


async def test_behind_a_trusted_proxy_one_client_failing_does_not_lock_out_the_others(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await limited_client(
        aiohttp_client, tmp_path, trusted_proxies="127.0.0.1/32", login_attempts_per_address=5
    )
    user = await register(client, headers=via("203.0.113.50"))
    for n in range(12):
        await login(client, f"spray{n}@example.com", WRONG, via("198.51.100.7"))
    assert await login(client, "spray99@example.com", WRONG, via("198.51.100.7")) == 429
    # Everyone else arrives through the same nginx, and signs in.
    assert await login(client, user["email"], PASSWORD, via("203.0.113.50")) == 200
    assert await login(client, user["email"], PASSWORD, via("192.0.2.10")) == 200


async def test_an_admin_action_is_audited_with_the_forwarded_client_address(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await limited_client(aiohttp_client, tmp_path, trusted_proxies="127.0.0.0/8")
    admin = await make_admin(client)
    user = await register(client)
    response = await client.put(
        f"/api/admin/users/{user['user_id']}",
        json={"full_name": "Renamed"},
        headers={**admin["headers"], **via("1.2.3.4, 203.0.113.77")},
    )
    assert response.status == 200, await response.text()
    [entry] = await audit_entries(action_type="user_update", entity_id=user["user_id"])
    assert entry.ip_address == "203.0.113.77"


async def test_a_correct_password_is_never_refused_for_other_accounts_failures(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await limited_client(aiohttp_client, tmp_path, login_attempts_per_address=5)
    user = await register(client)  # registered from this address: known here
    for n in range(20):
        await login(client, f"spray{n}@example.com", WRONG)
    assert await login(client, "someone-new@example.com", WRONG) == 429
    assert await login(client, user["email"], PASSWORD) == 200
    assert await login(client, user["phone"], PASSWORD) == 200


async def test_an_account_signed_in_from_an_address_before_is_exempt_from_its_ceiling(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await limited_client(
        aiohttp_client, tmp_path, trusted_proxies="127.0.0.1/32", login_attempts_per_address=3
    )
    user = await register(client, headers=via("203.0.113.1"))  # registered at home
    assert await login(client, user["email"], PASSWORD, via("192.0.2.44")) == 200  # then at the office
    for n in range(5):
        await login(client, f"spray{n}@example.com", WRONG, via("192.0.2.44"))  # a colleague sprays
    assert await login(client, user["email"], PASSWORD, via("192.0.2.44")) == 200


async def test_guessing_an_account_elsewhere_does_not_lock_its_owner_out_where_they_sign_in(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await limited_client(aiohttp_client, tmp_path, trusted_proxies="127.0.0.1/32")
    admin = await make_admin(client)  # signed in from the admin's desk, 127.0.0.1
    for n in range(25):  # 20 is the account's budget; five per address stays under each pair's
        await login(client, admin["user"]["email"], WRONG, via(f"198.51.100.{n // 5}"))
    assert await login(client, admin["user"]["email"], WRONG, via("198.51.100.77")) == 429
    assert await login(client, admin["user"]["email"], PASSWORD) == 200


def test_an_ipv6_client_is_counted_by_its_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key("203.0.113.9") != address_key("203.0.113.10")


async def test_addresses_of_one_ipv6_network_share_the_registration_budget(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await limited_client(
        aiohttp_client, tmp_path, trusted_proxies="127.0.0.1/32", registrations_per_address_per_hour=2
    )
    addresses = [f"2001:db8:7:7:{n:x}::1" for n in range(4)]
    assert await registrations_from(client, addresses) == [200, 200, 429, 429]


async def test_email_and_phone_share_one_budget(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    for identifier in (user["email"], user["phone"], user["email"].upper(), user["phone"], user["email"]):
        assert await login(client, identifier, WRONG) == 401
    assert await login(client, user["phone"], PASSWORD) == 429


async def test_an_account_guessed_from_many_addresses_is_limited_as_a_whole(
    aiohttp_client: Any, tmp_path: Path, clock: AdjustableClock
) -> None:
    settings = make_settings(tmp_path, trusted_proxies="127.0.0.1/32", login_attempts_per_account=6)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, clock=clock))
    user = await register(client, headers=via("203.0.113.1"))
    for n in range(6):
        assert await login(client, user["email"], WRONG, via(f"198.51.100.{n}")) == 401
    assert await login(client, user["email"], WRONG, via("198.51.100.200")) == 429
    clock.advance(timedelta(minutes=6))
    assert await login(client, user["email"], PASSWORD, via("198.51.100.200")) == 200


async def test_wrong_old_passwords_in_change_password_meet_the_login_limit(
    client: TestClient[Any, Any],
) -> None:
    user = await register(client)
    statuses = []
    for _ in range(6):
        response = await client.post(
            "/api/auth/change-password",
            json={"old_password": WRONG, "new_password": "a-brand-new-secret"},
            headers=user["headers"],
        )
        statuses.append(response.status)
    assert statuses == [400] * 5 + [429]
    # The same budget as signing in: the guesser cannot switch doors.
    assert await login(client, user["email"], PASSWORD) == 429


async def test_registrations_are_limited_per_address_and_the_409_counts(
    aiohttp_client: Any, tmp_path: Path, clock: AdjustableClock
) -> None:
    settings = make_settings(tmp_path, registrations_per_address_per_hour=3)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, clock=clock))
    first = await register(client)
    taken = await client.post(
        "/api/auth/register",
        json={"email": first["email"], "phone": unique_identity()[1], "password": PASSWORD},
    )
    assert taken.status == 409
    await register(client)
    email, phone = unique_identity()
    refused = await client.post(
        "/api/auth/register", json={"email": email, "phone": phone, "password": PASSWORD}
    )
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many registrations" in (await refused.json())["detail"]
    # The probe an enumerator would send next learns nothing either.
    probe = await client.post(
        "/api/auth/register",
        json={"email": first["email"], "phone": unique_identity()[1], "password": PASSWORD},
    )
    assert probe.status == 429
    clock.advance(timedelta(hours=1, seconds=1))
    assert (
        await client.post("/api/auth/register", json={"email": email, "phone": phone, "password": PASSWORD})
    ).status == 200


async def test_registrations_are_limited_overall(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await limited_client(
        aiohttp_client, tmp_path, trusted_proxies="127.0.0.1/32", registrations_per_minute=4
    )
    addresses = [f"198.51.100.{n}" for n in range(6)]
    assert await registrations_from(client, addresses) == [200] * 4 + [429] * 2


async def test_the_most_common_passwords_are_refused(client: TestClient[Any, Any]) -> None:
    for password in ("12345678", "Password123", "qwertyuiop"):
        email, phone = unique_identity()
        response = await client.post(
            "/api/auth/register", json={"email": email, "phone": phone, "password": password}
        )
        assert response.status == 400, password
        body = await response.json()
        assert body["error"]["code"] == "common_password"
        assert "commonly used" in body["detail"]
    user = await register(client)
    change = await client.post(
        "/api/auth/change-password",
        json={"old_password": PASSWORD, "new_password": "iloveyou"},
        headers=user["headers"],
    )
    assert change.status == 400
    assert (await change.json())["error"]["code"] == "common_password"


async def test_a_registration_flood_does_not_refuse_sign_ins(aiohttp_client: Any, tmp_path: Path) -> None:
    # Queues of one: were registrations and sign-ins one queue, the sign-in would find it full (503).
    client = await limited_client(
        aiohttp_client, tmp_path, bcrypt_rounds=12, bcrypt_max_pending=1, bcrypt_max_pending_new_passwords=1
    )
    user = await register(client)

    async def registration() -> int:
        email, phone = unique_identity()
        response = await client.post(
            "/api/auth/register", json={"email": email, "phone": phone, "password": PASSWORD}
        )
        return response.status

    async def sign_in() -> int:
        await asyncio.sleep(0.05)  # while the first registration's hash (~250 ms) runs
        return await login(client, user["email"], PASSWORD)

    *registrations, signed_in = await asyncio.gather(*(registration() for _ in range(4)), sign_in())
    assert signed_in == 200
    assert 503 in registrations and 200 in registrations
