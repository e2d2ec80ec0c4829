"""What a product draws on: its selectable data items, its data units, its priced unit.

* **Data items** (最小必要): see :mod:`.forms`; each option also names its resource, the
  resource's data unit and whether the field is sensitive (需脱敏).
* **Required units** (分级审批): every data unit whose data the product draws on = the
  product's ``supplying_units`` plus the organisations that own its ``source_resources``
  (the bureau and the operator excluded). Each of them reviews every application for the
  product, whichever items it requests. They are fixed at each submission.
* **Visibility.** :func:`load_listed` answers "not found" (HTTP 404 from the actions) for a
  product the caller may not ``package_show`` -- an unlisted one, to the public -- exactly as
  for one that does not exist, so neither its title nor its existence leaks. Item options
  only draw on catalog resources the caller may ``package_show`` (without a caller: the
  published ones, public and active), never on what the product's record merely names.
"""
from __future__ import annotations

import logging
from typing import Any

import ckan.plugins.toolkit as tk

from ..common import roles
from ..common.ids import id_problem
from ..domain.errors import DomainError
from . import forms

__all__ = ["load_product", "load_listed", "require_listed", "may_see", "item_options",
           "required_units", "default_billing_unit", "quote"]

log = logging.getLogger(__name__)


def _show(ref: str) -> dict[str, Any] | None:
    if id_problem(ref) is not None:  # NUL, lone surrogate, not text: no such product
        return None
    try:
        return tk.get_action("package_show")({"ignore_auth": True}, {"id": ref})
    except tk.ObjectNotFound:
        return None


def load_product(ref: Any) -> dict[str, Any]:
    if not ref or not isinstance(ref, str):
        raise DomainError("product", "产品为必填项", "product is required")
    pkg = _show(ref)
    if pkg is None or pkg.get("type") != "product" or pkg.get("state") != "active":
        raise DomainError("product", f"未找到该产品：{ref}", f"Product not found: {ref}")
    return pkg


def may_see(pkg: dict[str, Any], context: dict[str, Any] | None) -> bool:
    """Whether the caller of ``context`` may ``package_show`` ``pkg``; without a context,
    whether anyone may (published: public and active)."""
    if context is None:
        return not pkg.get("private") and pkg.get("state") == "active"
    # a fresh context: the auth function writes the package into the one it gets
    check = {"user": context.get("user") or "", "auth_user_obj": context.get("auth_user_obj"),
             "ignore_auth": bool(context.get("ignore_auth"))}
    try:
        tk.check_access("package_show", check, {"id": pkg["id"]})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True


def load_listed(ref: Any, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """A listed product for a new application. A product the caller may not see (see
    :func:`may_see`) is :class:`forms.NotFound` with the same message as a missing one; one
    the caller sees but that is not listed gets :func:`require_listed`'s refusal."""
    try:
        pkg = load_product(ref)
    except DomainError as err:
        raise forms.NotFound(err.field, err.zh, err.en) from None
    if pkg.get("status") != "approved" or pkg.get("private"):
        if not may_see(pkg, context):
            raise forms.NotFound("product", f"未找到该产品：{ref}", f"Product not found: {ref}")
        require_listed(pkg)
    return pkg


def require_listed(pkg: dict[str, Any]) -> None:
    if pkg.get("status") != "approved" or pkg.get("private"):
        raise DomainError("product", f"产品“{pkg.get('title') or pkg['name']}”尚未上架，不能申请",
                          f"Product {pkg['name']} is not listed: it cannot be applied for")


def item_options(pkg: dict[str, Any],
                 context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every data item an application for ``pkg`` may request, in the product's order:
    those of its source resources that the caller of ``context`` may see (without a
    context: the published ones)."""
    out: list[dict[str, Any]] = []
    for name in forms.string_list(pkg.get("source_resources"), "source_resources",
                                  "来源数据资源", "Source resources"):
        res = _show(name)
        if res is None or res.get("type") != "dataset" or res.get("state") != "active" \
                or not may_see(res, context):
            continue
        base = {"resource": res["name"], "resource_title": res.get("title") or res["name"],
                "organization": (res.get("organization") or {}).get("name") or "",
                "organization_title": (res.get("organization") or {}).get("title") or ""}
        fields = [f for f in res.get("data_fields") or []
                  if isinstance(f, dict) and (f.get("field_name") or "").strip()]
        if not fields:
            out.append(dict(base, value=res["name"], field=None, sensitive=False))
        for f in fields:
            out.append(dict(base, value=f"{res['name']}:{f['field_name'].strip()}",
                            field=f["field_name"].strip(), field_type=f.get("field_type") or "",
                            sensitive=f.get("sensitive") == "yes"))
    return out


def required_units(pkg: dict[str, Any], options: list[dict[str, Any]] | None = None) -> list[str]:
    options = item_options(pkg) if options is None else options
    units = set(forms.string_list(pkg.get("supplying_units"), "supplying_units",
                                  "供给单位", "Supplying units"))
    units |= {o["organization"] for o in options if o["organization"]}
    return sorted(units - {roles.bureau_org(), roles.operator_org()})


def quote(product: str, use: str, unit: str, quantity: int, *,
          context: dict[str, Any] | None = None) -> dict[str, Any]:
    """``sanyi_price_quote`` (raises ``tk.ValidationError``, or ``KeyError`` if the pricing
    actions are not registered)."""
    return tk.get_action("sanyi_price_quote")(
        dict(context or {"ignore_auth": True}),
        {"product": product, "use": use, "unit": unit, "quantity": quantity})


def default_billing_unit(pkg: dict[str, Any]) -> str:
    """The first unit (in :data:`forms.UNITS` order) the product has a price for, else call."""
    for unit in forms.UNITS:
        try:
            quote(pkg["name"], "industrial", unit, 1)
            return unit
        except (tk.ValidationError, KeyError):
            continue
        except Exception:  # pricing is optional here: never block an application on it
            log.exception("quote for the default billing unit failed")
            break
    return "call"
