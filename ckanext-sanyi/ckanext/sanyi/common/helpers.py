"""Template helpers every page uses: the UI language, times, text and numbers as shown, the
bureau role. Registered by the plugin's helpers blanket (each module's ``__all__``), as
are those of ``catalog.helpers`` and ``applications.helpers``."""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from . import clock, roles, words
from .user import acting_user

__all__ = ["sanyi_t", "sanyi_is_zh", "sanyi_list", "sanyi_is_bureau_staff", "sanyi_bar_width",
           "sanyi_locale_url", "sanyi_excerpt", "sanyi_datetime", "render_datetime",
           "dataset_display_name", "sanyi_original_title",
           "sanyi_word", "sanyi_transition", "sanyi_money", "sanyi_money_yuan",
           "sanyi_unit_price", "sanyi_org_title", "sanyi_product_title", "sanyi_en_or_zh",
           "humanize_entity_type", "sanyi_has_cjk", "sanyi_ref", "sanyi_trace_details",
           "sanyi_quantity", "sanyi_object_label", "sanyi_zh_only", "sanyi_msg",
           "sanyi_audit_value", "sanyi_field_label", "sanyi_reason"]


def sanyi_is_zh() -> bool:
    try:
        return tk.h.lang().startswith("zh")
    except Exception:  # outside a request
        return True


def sanyi_t(zh: str, en: str) -> str:
    """Pick the Chinese or the English text for the current UI language."""
    return zh if sanyi_is_zh() else en


def ui_lang() -> str:
    """The scheming language code of the current UI language."""
    return "zh_Hans_CN" if sanyi_is_zh() else "en"


def sanyi_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.startswith("[") else [value]
        except ValueError:
            value = [value]
    return list(value)


def sanyi_is_bureau_staff() -> bool:
    return roles.is_bureau_staff(acting_user())


def sanyi_bar_width(count: Any, largest: Any) -> float:
    """Width in percent of a bar for ``count`` when the largest bar is ``largest``."""
    try:
        count, largest = float(count), float(largest)
    except (TypeError, ValueError):
        return 0.0
    if largest <= 0 or count <= 0:
        return 0.0
    return round(max(2.0, min(100.0, 100.0 * count / largest)), 1)


def sanyi_locale_url(locale: str) -> str:
    """The current page in another UI language (as CKAN's language selector builds it)."""
    try:
        return tk.h.url_for(tk.h.current_url(), locale=locale)
    except Exception:
        return tk.h.url_for("home.index", locale=locale)


def sanyi_excerpt(text: str | None, length: int = 120) -> str:
    """Plain-text excerpt of markdown, cut by characters (CKAN's cuts at spaces, which
    Chinese text has none of, so it would show only "...")."""
    plain = " ".join(str(tk.h.markdown_extract(text or "", extract_length=0)).split())
    if len(plain) <= length:
        return plain
    return plain[:length].rstrip(" ,，。;；、") + "…"


def sanyi_datetime(value: Any) -> str:
    """A stored time as people read it: ``2026-12-02 02:25`` in ``ckan.display_timezone``
    (aware datetimes, naive ones as UTC, ISO strings; "" for None)."""
    return clock.format_datetime(value)


@tk.chained_helper
def render_datetime(next_helper: Any, datetime_: Any, date_format: str | None = None,
                    with_hours: bool = False, with_seconds: bool = False) -> str:
    """CKAN's ``h.render_datetime`` in the display timezone for aware values too.

    CKAN converts naive (UTC) values itself, but returns an aware value or an ISO string with
    an offset unchanged, so an explicit ``date_format`` showed UTC. Every datetime is turned
    into local time first; bare dates and anything unparsable are passed on as they were.
    """
    value = datetime_
    if isinstance(value, dt.datetime) or (isinstance(value, str) and len(value.strip()) > 10):
        value = clock.to_local(value) or datetime_
    return next_helper(value, date_format=date_format, with_hours=with_hours,
                       with_seconds=with_seconds)


@tk.chained_helper
def dataset_display_name(next_helper: Any, package: Any) -> Any:
    """In the English UI, the English title of a catalog resource or product
    (``title_en``) where it has one; otherwise CKAN's (the title, or the name)."""
    if not sanyi_is_zh():
        english = package.get("title_en") if isinstance(package, dict) else \
            (getattr(package, "extras", None) or {}).get("title_en")
        if isinstance(english, str) and english.strip():
            return english.strip()
    return next_helper(package)


def sanyi_original_title(package: Any) -> str:
    """The Chinese title to show under an English one (English UI, ``title_en`` shown), else
    "" (the title shown is already the original)."""
    title = (package.get("title") or "") if isinstance(package, dict) else ""
    shown = tk.h.dataset_display_name(package)
    return title if title and shown != title and not sanyi_is_zh() else ""


def sanyi_word(kind: str, code: Any) -> str:
    """A stored code in words in the UI language (``common.words``): ``order_status``,
    ``application_status``, ``billing_unit``, ``audit_action`` ..."""
    return words.word(kind, code, sanyi_is_zh())


def sanyi_transition(codes: Any, kind: str = "application_status") -> str:
    return words.transition(codes, sanyi_is_zh(), kind)


def sanyi_money(fen: Any) -> str:
    """Integer fen as ``¥6,500.00`` / ``CNY 6,500.00``."""
    return words.money(fen, sanyi_is_zh())


def sanyi_money_yuan(yuan: Any) -> str:
    """Yuan text (``"6500.00"``) as ``¥6,500.00`` / ``CNY 6,500.00``."""
    return words.money_yuan(yuan, sanyi_is_zh())


def sanyi_unit_price(yuan: Any, unit: str) -> str:
    return words.unit_price(yuan, unit, sanyi_is_zh())


def _title(query: Any, key: str) -> str:
    try:
        row = query.first()
    except Exception:  # no database at hand
        return key
    return row[0] if row and row[0] else key


def sanyi_org_title(name: Any) -> str:
    """An organisation's title from its name or id (the name when there is none)."""
    import ckan.model as model
    key = str(name or "")
    if not key:
        return ""
    g = model.Group
    return _title(model.Session.query(g.title).filter((g.name == key) | (g.id == key)), key)


def sanyi_product_title(name: Any) -> str:
    """A product's (or resource's) title from its name or id; on English pages its English
    title (``title_en``) where it has one."""
    import ckan.model as model
    key = str(name or "")
    if not key:
        return ""
    pk = model.Package
    title = pk.title if sanyi_is_zh() else \
        sa.func.coalesce(sa.func.nullif(sa.func.btrim(pk.extras["title_en"].astext), ""), pk.title)
    return _title(model.Session.query(title).filter((pk.name == key) | (pk.id == key)), key)


def sanyi_en_or_zh(en: Any, zh: Any) -> dict[str, Any]:
    """For an English page: ``{"text", "marked"}`` — the English value, or the Chinese one
    marked as such when there is no English one; a Chinese page gets the Chinese value."""
    if sanyi_is_zh():
        return {"text": zh if zh not in (None, "") else (en or ""), "marked": False}
    text, marked = words.fallback(en, zh)
    return {"text": text, "marked": marked}


# CKAN's generic words for a dataset type ("Add Product", "Products", "Update Product") for ours
_PRODUCT_WORDS: dict[str, tuple[str, str]] = {
    "add link": ("新增产品", "Add product"), "breadcrumb": ("产品和服务", "Products"),
    "content tab": ("产品和服务", "Products"), "create label": ("新增产品", "Add product"),
    "create title": ("新增产品", "Add product"),
    "delete confirmation": ("确定要删除该产品吗？", "Delete this product?"),
    "description placeholder": ("产品的简要说明…", "A short description of the product..."),
    "edit label": ("编辑产品", "Edit product"), "facet label": ("产品和服务", "Products"),
    "form label": ("产品信息", "Product details"), "main nav": ("产品和服务", "Products"),
    "my label": ("我的产品", "My products"), "view label": ("查看产品", "View product"),
    "name placeholder": ("我的产品", "My product"),
    "no any objects": ("目前还没有产品。", "There are no products yet."),
    "no description": ("该产品暂无简介。", "This product has no description."),
    "no label": ("无产品", "No product"), "page title": ("产品和服务", "Products"),
    "save label": ("保存产品", "Save product"),
    "search placeholder": ("搜索产品和服务…", "Search products..."),
    "update label": ("更新产品", "Update product"),
}


@tk.chained_helper
def humanize_entity_type(next_helper: Any, entity_type: str, object_type: str,
                         purpose: str) -> Any:
    """The product type in the portal's words (CKAN would say "Add Product", "Products")."""
    if entity_type == "package" and object_type == "product":
        pair = _PRODUCT_WORDS.get(purpose, ("产品", "Product"))
        return sanyi_t(*pair)
    return next_helper(entity_type, object_type, purpose)


def sanyi_has_cjk(text: Any) -> bool:
    """Does ``text`` hold Chinese characters?"""
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(text or ""))


def sanyi_ref(kind: str, id_: Any) -> str:
    """The human reference of an application (``kind`` "application": ``SQ-2026-000123``) or
    an order ("order": ``DD-2026-000045``) by id; the first 8 characters of the id when the
    row is unknown. Looked up once per request and id."""
    from flask import g

    from . import references
    table = {"application": "sanyi_application", "order": "sanyi_order"}[kind]
    key = str(id_ or "")
    if not key:
        return ""
    try:
        cache = g.setdefault("sanyi_refs", {})
    except RuntimeError:  # outside a request
        cache = {}
    if (table, key) not in cache:
        cache[(table, key)] = references.of(table, [key]).get(key) or key[:8]
    return cache[(table, key)]


# the fields of a trace record's after/before values, in words and as shown
_TRACE_FIELDS: dict[str, tuple[str, str]] = {
    "status": ("状态", "Status"), "amount_fen": ("金额", "Amount"), "method": ("方式", "Method"),
    "payment_ref": ("凭证", "Reference"), "received_on": ("到账日期", "Received on"),
    "reason": ("理由", "Reason"), "comment": ("意见", "Comment"),
    "application_id": ("申请", "Application"), "order_id": ("订单", "Order"),
    "paid_at": ("支付时间", "Paid at"), "refund_fen": ("退款金额", "Refund"),
}


def sanyi_trace_details(values: Any, object_type: str = "order") -> str:
    """A trace record's values as a line people read (``状态：已支付 · 金额：¥6,500.00``):
    known fields only, codes in words, money formatted, ids as references; never raw JSON."""
    if not isinstance(values, dict):
        return ""
    zh = sanyi_is_zh()
    status_kind = f"{object_type}_status" if object_type in (
        "order", "refund", "entitlement", "merchant") else "application_status"
    parts = []
    for key, (label_zh, label_en) in _TRACE_FIELDS.items():
        value = values.get(key)
        if value in (None, "", [], {}):
            continue
        if key == "status":
            shown = words.word(status_kind, value, zh)
        elif key.endswith("_fen"):
            shown = words.money(value, zh)
        elif key == "method":
            shown = words.word("pay_method", value, zh)
        elif key == "application_id":
            shown = sanyi_ref("application", value)
        elif key == "order_id":
            shown = sanyi_ref("order", value)
        elif key.endswith("_at"):
            shown = clock.format_datetime(value)
        else:
            shown = str(value)
        parts.append(f"{label_zh}：{shown}" if zh else f"{label_en}: {shown}")
    return " · ".join(parts)


def sanyi_quantity(n: Any, unit: str) -> str:
    """``15,000 次`` / ``15,000 calls``."""
    return words.quantity(n, unit, sanyi_is_zh())


def sanyi_object_label(object_type: Any, object_id: Any) -> str:
    """What an audit record acted on, for people: an application's or order's reference, a
    product's or organisation's title; the id's first 8 characters otherwise."""
    key = str(object_id or "")
    if object_type in ("application", "order"):
        return sanyi_ref(str(object_type), key)
    if object_type in ("product", "price", "price_ceiling", "product_pricing_policy",
                       "product_billing_mode", "dataset"):
        title = sanyi_product_title(key)
        if title != key:
            return title
    if object_type in ("organization",):
        return sanyi_org_title(key)
    return key[:8] if len(key) > 12 else key


def sanyi_zh_only(text: Any) -> Any:
    """A value that exists in Chinese only: as it is on a Chinese page; on an English page
    marked as Chinese (``lang="zh-Hans"`` and a visible "(zh)")."""
    from markupsafe import Markup, escape
    value = "" if text is None else str(text)
    if sanyi_is_zh() or not value or not sanyi_has_cjk(value):
        return value
    return Markup('<span lang="zh-Hans" class="sanyi-zh-fallback">{}</span> '
                  '<small class="text-muted sanyi-zh-mark">(zh)</small>').format(escape(value))


def sanyi_msg(message: Any) -> str:
    """A bilingual "中文 / English" message in the UI's language (pages show one language)."""
    zh_part, sep, en_part = str(message or "").partition(" / ")
    return zh_part if sanyi_is_zh() or not sep else en_part


_FIELD_WORDS: dict[str, tuple[str, str]] = {
    **_TRACE_FIELDS, "statuses": ("状态变化", "Status path"), "product_id": ("产品", "Product"),
    "product_name": ("产品", "Product"), "entitlement_id": ("使用授权", "Entitlement"),
    "billing_unit": ("计费单位", "Billing unit"), "quota_unit": ("额度单位", "Quota unit"),
    "use": ("用途", "Use"), "quota": ("额度", "Quota"), "schedule.unit": ("计费单位", "Billing unit"),
    "effective_from": ("生效日期", "In force from"), "period_start": ("开始日期", "Start"),
    "period_end": ("结束日期", "End"), "purpose": ("用途说明", "Purpose"),
    "created_by": ("创建人", "Created by"), "currency": ("币种", "Currency"),
}


def sanyi_field_label(field: Any) -> str:
    """A record's field name in words (the name itself when it has none)."""
    name = str(field)
    if name.startswith("unit_decisions."):
        return sanyi_t("数源单位审核：", "Data unit review: ") + sanyi_org_title(name.split(".", 1)[1])
    pair = _FIELD_WORDS.get(name)
    return sanyi_t(*pair) if pair else name


def sanyi_audit_value(field: Any, value: Any, object_type: Any = "") -> str:
    """A field's value of an audit record as people read it: states and units in words,
    money formatted, applications and orders by reference, products by title."""
    if value in (None, ""):
        return "—"
    path, text, zh = str(field), str(value), sanyi_is_zh()
    key = path.rsplit(".", 1)[-1]
    if path.startswith("unit_decisions."):  # a data unit's decision on an application
        return words.word("unit_decision", text, zh)
    if key == "status":
        kind = f"{object_type}_status" if object_type in (
            "order", "refund", "entitlement", "merchant", "product") else "application_status"
        for table in (kind, "application_status", "entitlement_status", "merchant_status",
                      "order_status", "processor_status"):
            if text in words.kinds().get(table, {}):
                return words.word(table, text, zh)
        return text
    if key != "statuses" and text.startswith("[\"") and text.endswith("\"]"):  # names
        try:
            names = json.loads(text)
        except ValueError:
            names = None
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return ("、" if zh else ", ").join(sanyi_org_title(n) for n in names)
    if key == "unit" and not path.startswith("schedule"):  # a data unit (its name)
        title = sanyi_org_title(text)
        if title != text:
            return title
    if key == "statuses":
        try:
            path = json.loads(text)
        except ValueError:
            return text
        return words.transition(path if isinstance(path, list) else [text], zh)
    if key.endswith("_fen"):
        try:
            return words.money(int(text), zh)
        except ValueError:
            return text
    if key in ("application_id", "order_id"):
        return sanyi_ref(key[:-3], text)
    if key in ("product_id", "product_name", "product"):
        return sanyi_product_title(text)
    if key in ("billing_unit", "quota_unit", "unit"):
        return words.word("billing_unit", text, zh)
    if key == "use":
        return words.word("use", text, zh)
    if key == "method":
        return words.word("pay_method", text, zh)
    if _UUID.match(text):  # another record's id: its first characters, as in links
        return text[:8]
    if _PRODUCT_NAME.match(text):
        return sanyi_product_title(text)
    version = _PRICE_VERSION.match(text)
    if version:
        return sanyi_t(f"收费标准第 {version.group(1)} 版", f"price version {version.group(1)}")
    return text


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PRODUCT_NAME = re.compile(r"^p-[0-9a-f]{12}$")
_PRICE_VERSION = re.compile(r"^(?:price|ceiling)-(\d+)$")


def sanyi_reason(text: Any) -> str:
    """A bilingual row reason (an import's rejected row) in the UI's language."""
    from .i18n_text import reason_text
    return reason_text(str(text or ""), sanyi_is_zh())
