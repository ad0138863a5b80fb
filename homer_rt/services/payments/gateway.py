"""Payment gateways behind one interface: Razorpay (the real SDK) and a deterministic offline mock.

The razorpay SDK is synchronous (requests), so every call runs in a thread under a timeout: a slow or
failing Razorpay becomes a clean 504 or 502, never a hung request or a blocked event loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError
from typing_extensions import TypedDict

from homer_rt.errors import ServiceUnavailable, UpstreamError, UpstreamTimeout
from homer_rt.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

GATEWAY_NAME = "razorpay"


class RequestOptions(TypedDict):
    """Keyword options of the razorpay SDK's calls."""

    timeout: float


class PaymentGateway(Protocol):
    @property
    def is_mock(self) -> bool: ...

    @property
    def key_id(self) -> str: ...

    async def create_order(
        self, *, amount_paise: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> str:
        """Create an order for the amount; returns the gateway's order id."""

    async def verify_payment(self, *, order_id: str, payment_id: str, signature: str | None) -> bool:
        """Whether the checkout's signature proves this payment paid this order."""

    async def refund(self, *, payment_id: str, amount_paise: int, notes: dict[str, str]) -> str:
        """Refund a captured payment in full; returns the refund id."""


def verify_webhook_signature(*, body: bytes, signature: str, secret: str) -> bool:
    """Razorpay signs the raw request body (HMAC-SHA256, hex) with the webhook secret."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        razorpay.Utility(None).verify_webhook_signature(text, signature, secret)
    except (SignatureVerificationError, TypeError):  # TypeError: a non-ASCII signature header
        return False
    return True


class RazorpayGateway:
    def __init__(self, *, key_id: str, key_secret: str, base_url: str | None, timeout_seconds: float) -> None:
        self._key_id = key_id
        self._key_secret = key_secret
        self._base_url = base_url.rstrip("/") if base_url else None
        self._timeout = timeout_seconds

    @property
    def is_mock(self) -> bool:
        return False

    @property
    def key_id(self) -> str:
        return self._key_id

    def _client(self, session: requests.Session) -> razorpay.Client:
        options: dict[str, Any] = {}
        if self._base_url:
            options["base_url"] = self._base_url
        return razorpay.Client(session=session, auth=(self._key_id, self._key_secret), **options)

    async def _call(self, what: str, call: Callable[[razorpay.Client], T]) -> T:
        def run() -> T:
            # A fresh session per call, closed afterwards: no sockets outlive the call, and the
            # requests-level timeout ends the thread even after asyncio stopped waiting for it.
            with requests.Session() as session:
                return call(self._client(session))

        try:
            return await asyncio.wait_for(asyncio.to_thread(run), timeout=self._timeout)
        except (TimeoutError, requests.Timeout) as exc:
            log.warning("razorpay %s timed out after %.1fs", what, self._timeout)
            raise UpstreamTimeout(f"Payment gateway did not answer in time ({what})") from exc
        except (BadRequestError, GatewayError, ServerError, requests.RequestException, ValueError) as exc:
            log.warning("razorpay %s failed: %s", what, exc)
            raise UpstreamError(f"Payment gateway error ({what}): {exc}") from exc

    def _request_options(self) -> RequestOptions:
        return {"timeout": self._timeout}

    async def create_order(
        self, *, amount_paise: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> str:
        data = {"amount": amount_paise, "currency": currency, "receipt": receipt, "notes": notes}
        order = await self._call(
            "order create", lambda client: client.order.create(data, **self._request_options())
        )
        order_id = order.get("id") if isinstance(order, dict) else None
        if not isinstance(order_id, str) or not order_id:
            raise UpstreamError("Payment gateway returned an order without an id")
        return order_id

    async def verify_payment(self, *, order_id: str, payment_id: str, signature: str | None) -> bool:
        if not signature:
            return False
        params = {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": signature,
        }

        def check(client: razorpay.Client) -> bool:
            try:
                return bool(client.utility.verify_payment_signature(params))
            # hmac.compare_digest raises TypeError for a non-ASCII signature: just another bad signature.
            except (SignatureVerificationError, TypeError):
                return False

        return await self._call("signature verify", check)

    async def refund(self, *, payment_id: str, amount_paise: int, notes: dict[str, str]) -> str:
        data = {"amount": amount_paise, "notes": notes}
        refund = await self._call(
            "refund create", lambda client: client.payment.refund(payment_id, data, **self._request_options())
        )
        refund_id = refund.get("id") if isinstance(refund, dict) else None
        if not isinstance(refund_id, str) or not refund_id:
            raise UpstreamError("Payment gateway returned a refund without an id")
        return refund_id


class MockGateway:
    """Offline payments for development and tests: orders and refunds succeed, ids are marked mock."""

    @property
    def is_mock(self) -> bool:
        return True

    @property
    def key_id(self) -> str:
        return "mock_razorpay_key"

    async def create_order(
        self, *, amount_paise: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> str:
        return f"mock_order_{uuid.uuid4().hex[:16]}"

    async def verify_payment(self, *, order_id: str, payment_id: str, signature: str | None) -> bool:
        # The caller only reaches this for a pending mock order the server itself created.
        return order_id.startswith("mock_order_")

    async def refund(self, *, payment_id: str, amount_paise: int, notes: dict[str, str]) -> str:
        return f"mock_rfnd_{uuid.uuid4().hex[:16]}"


def build_gateway(settings: Settings) -> PaymentGateway | None:
    """The gateway the settings ask for; None when payments must be refused (production without keys)."""
    if settings.razorpay_key_id:
        if not settings.razorpay_key_secret:
            log.error("RAZORPAY_KEY_ID is set without RAZORPAY_KEY_SECRET: payments are disabled")
            return None
        return RazorpayGateway(
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret,
            base_url=settings.razorpay_base_url,
            timeout_seconds=settings.razorpay_timeout_seconds,
        )
    if settings.app_env == "production":
        log.error("APP_ENV=production without RAZORPAY_KEY_ID: payments are disabled, never mocked")
        return None
    log.warning("RAZORPAY_KEY_ID is not set: payments run in MOCK mode (nothing is charged)")
    return MockGateway()


def require_gateway(gateway: PaymentGateway | None) -> PaymentGateway:
    if gateway is None:
        raise ServiceUnavailable("Payments are not configured on this server", code="payments_unavailable")
    return gateway
