"""Helpers of the payment tests (no tests here): localstripe, Stripe config, orders, signed
webhooks. The fixtures built on them are in tests/integration/conftest.py (``localstripe``,
``stripe_config``, ``pay_world``) and tests/integration/payments/conftest.py
(``captured_webhooks``).

``localstripe`` runs once per session on a free loopback port (``run_localstripe``); the
real ``stripe`` client talks to it. Webhooks are posted to the test app with a
``Stripe-Signature`` computed here exactly as Stripe does (HMAC-SHA256 of ``"{t}.{payload}"``
with the endpoint secret), or forwarded as localstripe itself signed and delivered them
(``capture_webhooks``).
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import stripe
from ckan import model
from ckan.tests import helpers

from ckanext.sanyi.payments import create_order, orders

SECRET_KEY = "sk_test_sanyi"
PUBLISHABLE_KEY = "pk_test_sanyi"
WEBHOOK_SECRET = "whsec_test_sanyi"
AMOUNT = 650000  # ¥6,500.00: the golden tier example of the fee engine's tests
QUOTE = {"amount_fen": AMOUNT, "amount_yuan": "6500.00", "currency": "CNY", "free": False,
         "lines": [{"kind": "band", "quantity": 10000, "unit_price": "0.50", "amount_fen": 500000,
                    "label_zh": "第 1 档", "label_en": "Band 1"},
                   {"kind": "band", "quantity": 5000, "unit_price": "0.30", "amount_fen": 150000,
                    "label_zh": "第 2 档", "label_en": "Band 2"}],
         "version": {"id": "price-1", "ceiling_id": "ceiling-1"}}
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
ROLES = ["anonymous", "merchant_user", "merchant_two", "wj_editor", "operator_user",
         "bureau_user", "sysadmin"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"localstripe exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("localstripe did not start")


@contextlib.contextmanager
def run_localstripe(log_dir: Path) -> Iterator[str]:
    """The base URL of a localstripe started on a free port (killed at the end)."""
    port = _free_port()
    log = (log_dir / "localstripe.log").open("w")
    binary = Path(sys.executable).with_name("localstripe")
    proc = subprocess.Popen([str(binary), "--port", str(port), "--from-scratch"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def stripe_settings(localstripe: str) -> dict[str, str]:
    """The extension's Stripe settings (``ckanext.sanyi.stripe.<key>``) for localstripe."""
    return {"secret_key": SECRET_KEY, "publishable_key": PUBLISHABLE_KEY,
            "api_base": localstripe, "js_url": f"{localstripe}/js.stripe.com/v3/",
            "webhook_secret": WEBHOOK_SECRET, "payment_method_types": "card alipay wechat_pay"}


class FakeApplications:
    """Stands in for the applications service behind the ``order_paid`` subscription: records
    mark_paid calls."""

    def __init__(self) -> None:
        self.paid: list[tuple[str, str, str]] = []
        self.fail: Exception | None = None
        self.applicants: dict[str, str] = {}

    def mark_paid(self, application_id: str, actor: str, payment_ref: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.paid.append((application_id, actor, payment_ref))

    def get(self, application_id: str) -> dict[str, Any]:
        return {"id": application_id, "applicant_id": self.applicants[application_id]}


def new_order(application_id: str = "app-1", *, merchant: str = "merchant_user",
              quote: dict[str, Any] | None = None, actor: str = "bureau_user") -> dict[str, Any]:
    order = create_order(application_id, dict(quote or QUOTE), actor, merchant=merchant)
    model.Session.commit()
    return order


def call_as(role: str, action: str, **data: Any) -> Any:
    user = "" if role == "anonymous" else role
    return helpers.call_action(action, context={"user": user, "ignore_auth": False}, **data)


def client() -> stripe.StripeClient:
    from ckan.plugins import toolkit as tk
    return stripe.StripeClient(SECRET_KEY,
                               base_addresses={"api": tk.config["ckanext.sanyi.stripe.api_base"]})


def confirm_card(intent_id: str, number: str = CARD_OK) -> stripe.PaymentIntent:
    """What Stripe.js does on the payment page: attach a card and confirm the intent
    (localstripe lacks confirm(id, payment_method=...), so attach first, then confirm)."""
    c = client()
    pm = c.v1.payment_methods.create(params={"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    c.v1.payment_intents.update(intent_id, params={"payment_method": pm.id})
    return c.v1.payment_intents.confirm(intent_id)


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_id: str, etype: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": etype, "created": int(time.time()),
            "livemode": False, "api_version": "2024-06-20", "data": {"object": obj}}


def intent_event(event_id: str, etype: str, intent_id: str, **changes: Any) -> dict[str, Any]:
    """An event carrying the intent as localstripe has it now (optionally altered)."""
    obj = client().v1.payment_intents.retrieve(intent_id).to_dict()
    obj.update(changes)
    return event(event_id, etype, obj)


def post_event(app, evt: dict[str, Any] | bytes, *, secret: str = WEBHOOK_SECRET,
               signature: str | None = None, status: int | None = None):
    body = evt if isinstance(evt, bytes) else json.dumps(evt).encode()
    headers = {"Content-Type": "application/json"}
    sig = sign(body, secret) if signature is None else signature
    if sig:
        headers["Stripe-Signature"] = sig
    res = app.post("/stripe/webhook", data=body, headers=headers)
    if status is not None:
        assert res.status_code == status, (res.status_code, res.get_data(as_text=True))
    return res


def order_row(order_id: str) -> dict[str, Any]:
    model.Session.remove()
    return dict(orders.get_row(order_id))


# -- localstripe's own webhook deliveries ----------------------------------------------------
class _Capture(http.server.BaseHTTPRequestHandler):
    deliveries: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).deliveries.append((body, self.headers.get("Stripe-Signature") or ""))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def capture_webhooks(localstripe: str) -> Iterator[list[tuple[bytes, str]]]:
    """Deliveries localstripe signs and sends (secret WEBHOOK_SECRET): a list of
    (body, Stripe-Signature), filled as they arrive."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    requests.post(f"{localstripe}/_config/webhooks/sanyi-tests", timeout=5,
                  json={"url": url, "secret": WEBHOOK_SECRET}).raise_for_status()
    try:
        yield _Capture.deliveries
    finally:
        server.shutdown()


def wait_for_delivery(deliveries: list[tuple[bytes, str]], etype: str, intent_id: str,
                      seconds: float = 10) -> tuple[bytes, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for body, sig in list(deliveries):
            evt = json.loads(body)
            if evt["type"] == etype and evt["data"]["object"].get("id") == intent_id:
                return body, sig
        time.sleep(0.1)
    raise AssertionError(f"localstripe delivered no {etype} for {intent_id}")
