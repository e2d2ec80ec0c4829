"""The Stripe side of payments: a StripeClient per call, configured from ``ckanext.sanyi.stripe.*``.

Only PaymentIntents, refunds and signed webhooks are used (the emulator, localstripe, has no
Checkout Sessions). Amounts go to Stripe as integer 分: CNY's smallest unit.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
import stripe

from ..common.i18n_text import bi

__all__ = ["NotConfigured", "InvalidWebhook", "client", "payment_method_types", "create_intent",
           "retrieve_intent", "cancel_intent", "create_refund", "verify_webhook", "error_text"]

TIMEOUT_SECONDS = 30


class NotConfigured(RuntimeError):
    """A Stripe key or secret is missing from the configuration."""


class InvalidWebhook(ValueError):
    """The webhook's signature is missing, forged or too old, or its body is not JSON."""


def _setting(name: str) -> str:
    value = tk.config.get(f"ckanext.sanyi.stripe.{name}") or ""
    if not value:
        raise NotConfigured(f"ckanext.sanyi.stripe.{name} is not set")
    return value


def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        _setting("secret_key"),
        base_addresses={"api": tk.config.get("ckanext.sanyi.stripe.api_base")},
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=2)


def payment_method_types() -> list[str]:
    value = tk.config.get("ckanext.sanyi.stripe.payment_method_types") or ["card"]
    return value.split() if isinstance(value, str) else list(value)


def create_intent(order: dict[str, Any], idempotency_key: str) -> stripe.PaymentIntent:
    types = payment_method_types()
    params: dict[str, Any] = {
        "amount": order["amount_fen"], "currency": order["currency"].lower(),
        "payment_method_types": types,
        "metadata": {"order_id": order["id"], "application_id": order["application_id"]}}
    if "wechat_pay" in types:  # WeChat Pay needs the client kind; the page is a web page
        params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    return client().v1.payment_intents.create(params=params,
                                              options={"idempotency_key": idempotency_key})


def retrieve_intent(intent_id: str) -> stripe.PaymentIntent:
    return client().v1.payment_intents.retrieve(intent_id)


def cancel_intent(intent_id: str) -> stripe.PaymentIntent:
    return client().v1.payment_intents.cancel(intent_id)


def create_refund(intent_id: str, amount_fen: int, metadata: dict[str, str],
                  idempotency_key: str) -> stripe.Refund:
    return client().v1.refunds.create(
        params={"payment_intent": intent_id, "amount": amount_fen, "metadata": metadata},
        options={"idempotency_key": idempotency_key})


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event as a plain dict, once ``Stripe-Signature`` is verified against the secret."""
    secret = _setting("webhook_secret")
    if not signature:
        raise InvalidWebhook("missing Stripe-Signature header")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as err:
        raise InvalidWebhook(str(err)) from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise InvalidWebhook("not a Stripe event")
    return event


def error_text(err: stripe.StripeError) -> str:
    """A Stripe error as a bilingual message (Stripe's own text is English)."""
    detail = getattr(err, "user_message", None) or str(err) or err.__class__.__name__
    if isinstance(err, stripe.CardError):
        return bi(f"银行卡被拒绝：{detail}", f"The card was declined: {detail}")
    return bi(f"支付服务出错：{detail}", f"The payment service reported an error: {detail}")
