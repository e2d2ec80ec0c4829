"""Plugin glue for ckanext-sanyi: each feature package (catalog, pricing, applications, payments)
registers its actions, auth functions, helpers, validators, blueprints and templates here;
the search engine, indexing hooks, permission labels and facets are wired too."""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from types import ModuleType
from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultPermissionLabels, DefaultTranslation
from flask import Blueprint

from . import search
from .apidoc import views as apidoc_views
from .applications import helpers as applications_helpers
from .applications import subscriptions as applications_subscriptions
from .applications import views as applications_views
from .applications.logic import action as applications_action
from .applications.logic import auth as applications_auth
from .catalog import helpers as catalog_helpers
from .catalog import views as catalog_views
from .catalog.helpers import sanyi_choice_label
from .catalog.logic import action as catalog_action
from .catalog.logic import auth as catalog_auth
from .catalog.logic import validators as catalog_validators
from .common import helpers as common_helpers
from .common import i18n_js, roles
from .common.action_params import strict
from .common.helpers import sanyi_is_zh
from .delivery import oauth as delivery_oauth
from .delivery import sample_helpers as delivery_sample_helpers
from .delivery import sample_views as delivery_sample_views
from .delivery import settings as delivery_settings
from .delivery import subscriptions as delivery_subscriptions
from .delivery import supervision_views as delivery_supervision_views
from .delivery import views as delivery_views
from .delivery.logic import action as delivery_action
from .delivery.logic import auth as delivery_auth
from .delivery.logic import client_action as delivery_client_action
from .delivery.logic import client_auth as delivery_client_auth
from .delivery.logic import supervision_action as delivery_supervision_action
from .delivery.logic import supervision_auth as delivery_supervision_auth
from .delivery.operations import helpers as delivery_operation_helpers
from .payments import subscriptions as payments_subscriptions
from .payments import views as payments_views
from .payments.logic import action as payments_action
from .payments.logic import auth as payments_auth
from .pricing import helpers as pricing_helpers
from .pricing import subscriptions as pricing_subscriptions
from .pricing import views as pricing_views
from .pricing.logic import action as pricing_action
from .pricing.logic import auth as pricing_auth
from .supervision import checkpoint_views as supervision_checkpoint_views
from .supervision import views as supervision_views
from .supervision.logic import action as supervision_action
from .supervision.logic import auth as supervision_auth
from .supervision.reports import service as reports_service
from .supervision.reports import views as reports_views
from .supervision.reports.logic import action as reports_action
from .supervision.reports.logic import auth as reports_auth

FEATURES = ("catalog", "pricing", "applications", "payments", "delivery", "supervision")


def _exported(*modules: ModuleType) -> dict[str, Any]:
    """The names in each module's ``__all__``; a name exported twice is an error."""
    found: dict[str, Any] = {}
    for module in modules:
        for name in module.__all__:
            if name in found:
                raise RuntimeError(f"{name} is exported by two modules ({module.__name__})")
            found[name] = getattr(module, name)
    return found


def _actions() -> dict[str, Any]:
    """Every action; a ``sanyi_*`` one called through the Action API refuses any parameter
    its docstring does not list (``common.action_params.strict``)."""
    found = _exported(catalog_action, pricing_action, payments_action, applications_action,
                      delivery_action, delivery_client_action, delivery_supervision_action,
                      supervision_action, reports_action)
    return {name: strict(name, fn) if name.startswith("sanyi_") else fn
            for name, fn in found.items()}


def _auth_functions() -> dict[str, Any]:
    return _exported(catalog_auth, pricing_auth, payments_auth, applications_auth,
                     delivery_auth, delivery_client_auth, delivery_supervision_auth,
                     supervision_auth, reports_auth)


def _helpers() -> dict[str, Any]:
    return _exported(common_helpers, catalog_helpers, pricing_helpers, applications_helpers,
                     delivery_sample_helpers, delivery_operation_helpers)


def _validators() -> dict[str, Any]:
    return _exported(catalog_validators)


def _blueprints() -> list[Any]:
    found = _exported(catalog_views, pricing_views, payments_views, applications_views, i18n_js,
                       delivery_sample_views, delivery_views, delivery_supervision_views,
                       supervision_views, reports_views, supervision_checkpoint_views,
                       apidoc_views)
    return [bp for bp in found.values() if isinstance(bp, Blueprint)]


BUREAU_LABEL = "sanyi-bureau-review"
LIST_FIELDS = ("delivery_methods", "product_forms", "supplying_units", "source_resources")
CHOICE_FIELDS = ("domain", "delivery_methods", "update_cycle", "grade_level", "open_attribute",
                 "category", "product_forms", "status")
TOPIC_CHOICE_FIELDS = ("domain", "category")
FACETS = {
    "dataset": [("organization", "数源单位", "Source unit"),
                ("delivery_methods", "提供方式", "Delivery method"),
                ("update_cycle", "更新周期", "Update cycle"),
                ("domain", "领域", "Domain"),
                ("grade_level", "分类分级", "Classification level"),
                ("tags", "标签", "Tags")],
    "product": [("category", "类别", "Category"),
                ("product_forms", "产品形态", "Product form"),
                ("supplying_units", "供给单位", "Supplying unit"),
                ("status", "状态", "Status"),
                ("tags", "标签", "Tags")],
}


_HERE = os.path.dirname(os.path.abspath(__file__))


def _serve(config: Any, setting: str, relative: str) -> str:
    """What ``tk.add_template_directory``/``add_public_directory`` do to ``setting``, with the
    path relative to this package: they find their caller's file by ``inspect.stack()``,
    which reads every frame's source (tens of ms per call, on every plugin load)."""
    path = os.path.join(_HERE, relative)
    if path not in config.get(setting, []):
        config[setting] = [path, *config.get(setting, [])]
    return path


@tk.blanket.actions(_actions)
@tk.blanket.auth_functions(_auth_functions)
@tk.blanket.validators(_validators)
@tk.blanket.helpers(_helpers)
@tk.blanket.blueprints(_blueprints)
@tk.blanket.cli
@tk.blanket.config_declarations
class SanyiPlugin(p.SingletonPlugin, DefaultPermissionLabels, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.IPermissionLabels)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.ISignal)
    p.implements(p.IApiToken, inherit=True)
    p.implements(p.ITranslation)  # i18n/: CKAN's strings in the portal's Chinese

    # IConfigurer
    def update_config(self, config: Any) -> None:
        _serve(config, "plugin_template_paths", "templates")
        for feature in FEATURES:
            _serve(config, "plugin_template_paths", f"{feature}/templates")
        _serve(config, "plugin_template_paths", "supervision/reports/templates")
        from ckan.lib.webassets_tools import add_public_path
        add_public_path(_serve(config, "plugin_public_paths", "public"), "/")
        search.install(config)

    # IConfigurable: refuse to start on a bad value (e.g. a ledger kept under 3 years)
    def configure(self, config: Any) -> None:
        delivery_settings.check(config)
        reports_service.check(config)

    # ISignal: applications and payments react to each other (common/signals.py)
    def get_signal_subscriptions(self) -> dict[Any, list[Any]]:
        subscriptions: dict[Any, list[Any]] = {}
        for feature in (applications_subscriptions, payments_subscriptions,
                        delivery_subscriptions, pricing_subscriptions):
            for signal, receivers in feature.get_subscriptions().items():
                subscriptions.setdefault(signal, []).extend(receivers)
        return subscriptions

    # IApiToken: a Basic or Bearer Authorization header (the delivery API's) is no CKAN token
    def decode_api_token(self, encoded: str, **kwargs: Any) -> dict[str, Any] | None:
        return delivery_oauth.quiet_token_decode(encoded)

    # IMiddleware
    def make_middleware(self, app: Any, config: Any) -> Any:
        from .common import request_limit, session
        session.install(app)
        request_limit.install(app)  # MAX_CONTENT_LENGTH, 413 answered in both languages
        return app

    # IPackageController
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        for key in LIST_FIELDS:
            value = pkg_dict.get(key)
            if isinstance(value, str) and value.startswith("["):
                pkg_dict[key] = json.loads(value)
        dtype = pkg_dict.get("dataset_type", "dataset")
        keywords: list[str] = []
        # Only the labels of subject choices (领域, 类别) are free text; the others (提供方式,
        # 更新周期, 分级, 开放属性, 形态, 状态) hold for most datasets, so they are filters.
        for key in TOPIC_CHOICE_FIELDS:
            values = pkg_dict.get(key)
            for v in values if isinstance(values, list) else [values] if values else []:
                keywords += [sanyi_choice_label(key, v, dtype, "zh_Hans_CN"),
                             sanyi_choice_label(key, v, dtype, "en")]
        data = json.loads(pkg_dict.get("validated_data_dict") or "{}")
        org = data.get("organization") or {}
        if dtype == "dataset":
            pkg_dict["source_unit"] = org.get("name")
        keywords += [org.get("title") or "", pkg_dict.get("scenario") or ""]
        keywords += _unit_titles(pkg_dict.get("supplying_units") or [])
        pkg_dict["index_keywords"] = " ".join(k for k in keywords if k)
        # the schema's own fields are stored as extras too: their extras_* copies would make
        # codes and dates free text (free text keeps the extras the schema does not know)
        from ckanext.scheming.helpers import scheming_get_dataset_schema
        schema = scheming_get_dataset_schema(dtype) or {}
        for f in schema.get("dataset_fields", []):
            pkg_dict.pop("extras_" + f["field_name"], None)
        fields = data.get("data_fields") or []
        pkg_dict["index_text"] = " ".join(f.get("field_name", "") for f in fields
                                          if isinstance(f, dict))
        pkg_dict.pop("data_fields", None)
        return pkg_dict

    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        """Show choice labels (in the UI language) instead of stored codes in facets."""
        fq = search_params.get("fq") or ""
        fq = " ".join(fq) if isinstance(fq, list) else fq
        dtype = "product" if "dataset_type:product" in fq else "dataset"
        for key, facet in search_results.get("search_facets", {}).items():
            if key in CHOICE_FIELDS:
                for item in facet.get("items", []):
                    item["display_name"] = sanyi_choice_label(key, item["name"], dtype)
            elif key == "supplying_units":
                titles = dict(zip(facet_names := [i["name"] for i in facet.get("items", [])],
                                  _unit_titles(facet_names), strict=False))
                for item in facet.get("items", []):
                    item["display_name"] = titles.get(item["name"], item["name"])
        return search_results

    # IPermissionLabels: bureau staff see unapproved (private) products, which they review
    def get_dataset_labels(self, dataset_obj: Any) -> list[str]:
        labels = super().get_dataset_labels(dataset_obj)
        if dataset_obj.type == "product" and dataset_obj.private:
            labels.append(BUREAU_LABEL)
        return labels

    def get_user_dataset_labels(self, user_obj: Any) -> list[str]:
        labels = super().get_user_dataset_labels(user_obj)
        if getattr(user_obj, "is_authenticated", False) and roles.is_bureau_staff(user_obj.name):
            labels.append(BUREAU_LABEL)
        return labels

    # IFacets
    def dataset_facets(self, facets_dict: OrderedDict, package_type: str) -> OrderedDict:
        chosen = FACETS.get(package_type)
        if not chosen:
            return facets_dict
        zh = sanyi_is_zh()
        return OrderedDict((k, z if zh else e) for k, z, e in chosen)

    def organization_facets(self, facets_dict: OrderedDict, organization_type: str,
                            package_type: str | None) -> OrderedDict:
        return self.dataset_facets(facets_dict, package_type or "dataset")


def _unit_titles(names: list[str]) -> list[str]:
    if not names:
        return []
    import ckan.model as model
    rows = dict(model.Session.query(model.Group.name, model.Group.title)
                .filter(model.Group.name.in_(names)))
    return [rows.get(n) or n for n in names]
