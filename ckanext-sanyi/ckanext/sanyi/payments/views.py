"""Order and payment pages (all through the payment actions), and the Stripe webhook.

* ``/orders``: the caller's orders (operator and bureau staff: all), pending refunds for staff.
* ``/order/<id>``: an order: amount, quote lines, status, refunds and the full trace; the
  operator records a bank transfer (对公转账) or completes a bank-transfer refund here.
* ``/order/<id>/pay``: the payment page: Stripe.js (from ``ckanext.sanyi.stripe.js_url``)
  confirms the order's PaymentIntent, then returns to ``/order/<id>``. The order becomes paid
  when the signed webhook arrives, never from the browser.
* ``POST /stripe/webhook``: Stripe's signed events (no CSRF token: the signature is checked).
"""
from __future__ import annotations

import logging
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.config.middleware.flask_app import csrf
from flask import Blueprint, jsonify

from feeengine import PricingError

from ..common.errors import refusal_text, refusals
from ..common.i18n_text import bi
from ..common.money import yuan_grouped, yuan_to_fen
from ..common.user import login_redirect, page_context, site_user_name
from . import documents, events, gateway

__all__ = ["payments", "stripe_webhooks"]

log = logging.getLogger(__name__)
payments = Blueprint("sanyi_payments", __name__)
stripe_webhooks = Blueprint("sanyi_stripe", __name__)
csrf.exempt(stripe_webhooks)


payments.add_app_template_filter(yuan_grouped, "sanyi_yuan")


def _show(id: str) -> dict[str, Any]:
    try:
        return tk.get_action("sanyi_order_show")(page_context(), {"id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, bi("未找到该订单", "Order not found"))
    except tk.NotAuthorized:
        return tk.abort(403, bi("只有该订单的数商、运营机构和数据局可以查看",
                                "Only the order's merchant, the operator and the data bureau "
                                "may see it"))


def _can(action: str, data: dict[str, Any]) -> bool:
    try:
        return bool(tk.check_access(action, page_context(), data))
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False


@payments.route("/orders")
def order_list() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    status = tk.request.args.get("status") or None
    try:
        rows = tk.get_action("sanyi_order_list")(page_context(), {"status": status})["results"]
    except tk.ValidationError:
        rows, status = tk.get_action("sanyi_order_list")(page_context(), {})["results"], None
    operator = _can("sanyi_refund_complete", {})
    pending = tk.get_action("sanyi_refund_list")(page_context(), {"status": "pending"})["results"] \
        if operator else []
    return tk.render("sanyi/payments/orders.html", {
        "orders": rows, "status": status, "pending_refunds": pending})


@payments.route("/order/<id>")
def order_read(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    order = _show(id)
    return tk.render("sanyi/payments/order.html", {
        "order": order,
        "can_pay": order["status"] == "awaiting_payment" and _can("sanyi_order_pay", {"id": id}),
        "online_payment": documents.online_payment_configured(),
        "bank_account": documents.bank_account(),
        "payee_name": documents.payee_name(),
        "order_reference": documents.order_reference(order),
        "has_documents": order["status"] in documents.DOCUMENT_STATUSES,
        "is_operator": _can("sanyi_order_record_bank_transfer", {"id": id}),
        "redirect_status": tk.request.args.get("redirect_status")})


@payments.route("/order/<id>/pay")
def pay(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    order = _show(id)
    try:
        payment = tk.get_action("sanyi_order_pay")(page_context(), {"id": id})
    except tk.NotAuthorized:
        return tk.abort(403, bi("只有该订单的数商可以付款", "Only the order's merchant may pay it"))
    except tk.ValidationError as err:
        tk.h.flash_error(refusal_text(err))
        return tk.redirect_to("sanyi_payments.order_read", id=id)
    return tk.render("sanyi/payments/pay.html", {
        "order": order, "payment": payment,
        "return_url": tk.url_for("sanyi_payments.order_read", id=id, _external=True)})


def _paid_order(id: str) -> dict[str, Any]:
    order = _show(id)
    if order["status"] not in documents.DOCUMENT_STATUSES:
        return tk.abort(409, bi("该订单尚未支付，没有收据和授权书",
                                "The order is not paid: it has no receipt or authorization letter"))
    return order


@payments.route("/order/<id>/receipt")
def receipt(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    order = _paid_order(id)
    return tk.render("sanyi/payments/receipt.html", {
        "order": order, "payee_name": documents.payee_name(),
        "order_reference": documents.order_reference(order)})


@payments.route("/order/<id>/authorization")
def authorization(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    order = _paid_order(id)
    if order.get("kind") not in (None, "application"):
        return tk.abort(404, bi("该订单不是授权申请的订单，没有授权书",
                                "This order is not an application's: it has no authorization letter"))
    try:  # whoever may see the paid order may see what it bought (the operator included)
        application = tk.get_action("sanyi_application_show")(
            dict(page_context(), ignore_auth=True), {"id": order["application_id"]})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, bi("未找到该订单的授权申请", "The order's application was not found"))
    if not application.get("entitlement"):
        return tk.abort(409, bi("该申请尚未生成授权", "The application has no entitlement yet"))
    return tk.render("sanyi/payments/authorization.html", {
        "order": order, "application": application, "entitlement": application["entitlement"],
        "payee_name": documents.payee_name(), "order_reference": documents.order_reference(order)})


@payments.route("/order/<id>/bank-transfer", methods=["POST"])
def bank_transfer(id: str) -> Any:
    form = tk.request.form
    try:
        data = {"id": id, "reference": form.get("reference"),
                "amount_fen": yuan_to_fen(form.get("amount"), "amount"),
                "received_on": form.get("received_on")}
        tk.get_action("sanyi_order_record_bank_transfer")(page_context(), data)
        tk.h.flash_success(bi("已记录对公转账，订单已支付", "Bank transfer recorded; the order is paid"))
    except (PricingError, tk.ValidationError) as err:
        tk.h.flash_error(refusal_text(err))
    except tk.NotAuthorized:
        return tk.abort(403, bi("只有运营机构工作人员可以记录对公转账",
                                "Only operator staff may record bank transfers"))
    except tk.ObjectNotFound:
        return tk.abort(404, bi("未找到该订单", "Order not found"))
    return tk.redirect_to("sanyi_payments.order_read", id=id)


@payments.route("/refund/<id>/complete", methods=["POST"])
def refund_complete(id: str) -> Any:
    order_id = tk.request.form.get("order_id") or ""
    try:
        refund = tk.get_action("sanyi_refund_complete")(
            page_context(), {"id": id, "reference": tk.request.form.get("reference")})
        order_id = refund["order_id"]
        tk.h.flash_success(bi("已记录退款完成", "Refund recorded as done"))
    except tk.ValidationError as err:
        tk.h.flash_error(refusal_text(err))
    except tk.NotAuthorized:
        return tk.abort(403, bi("只有运营机构工作人员可以完成退款", "Only operator staff may complete refunds"))
    except tk.ObjectNotFound:
        return tk.abort(404, bi("未找到该退款", "Refund not found"))
    if order_id:
        return tk.redirect_to("sanyi_payments.order_read", id=order_id)
    return tk.redirect_to("sanyi_payments.order_list")


@stripe_webhooks.route("/stripe/webhook", methods=["POST"])
def stripe_webhook() -> Any:
    """Stripe's events: 400 unless the signature verifies and the body is an event of the
    shape we read (``events.check_shape``); 200 once recorded (also for a replay or an event
    of no interest); 500 on a failure while processing, so that Stripe retries."""
    try:
        event = gateway.verify_webhook(tk.request.get_data(),
                                       tk.request.headers.get("Stripe-Signature"))
    except gateway.NotConfigured:
        log.error("Stripe webhook refused: ckanext.sanyi.stripe.webhook_secret is not set")
        return jsonify(error="webhook secret not configured"), 503
    except gateway.InvalidWebhook as err:
        log.warning("Stripe webhook refused: %s", err)
        return jsonify(error="invalid signature"), 400
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as err:
        # signed, but not a JSON object Stripe's library can read (a list, nested too deep)
        log.warning("Stripe webhook refused: malformed body (%s)", type(err).__name__)
        return jsonify(error="malformed event"), 400
    try:
        events.check_shape(event)
    except events.MalformedEvent as err:
        log.warning("Stripe webhook %r refused: %s", str(event.get("id"))[:100], err)
        return jsonify(error="malformed event", detail=str(err)), 400
    try:
        with refusals({}):  # committed, or rolled back on any error
            result = events.handle(event, site_user_name())
    except Exception:
        log.exception("Stripe webhook %s (%s) failed", event.get("id"), event.get("type"))
        return jsonify(error="processing failed"), 500
    return jsonify(received=True, **result)
