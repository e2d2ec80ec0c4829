"""The DCAT-AP 3 profile of the catalog (``sanyi_dcat_ap``, selected by
``ckanext.dcat.rdf.profiles``): ckanext-dcat's ``euro_dcat_ap_3`` profile, plus every field of
our schemas, in Chinese (``@zh``) and, where we have it, English (``@en``).

A catalog resource (dataset type ``dataset``) is a ``dcat:Dataset``:

=====================  =================================================================
数据资源名称 / 资源描述   ``dct:title`` / ``dct:description`` (``@zh``; without a description,
                       one made of the resource's unit, domain and cycle, ``@zh`` and ``@en``)
数源单位               ``dct:publisher``: the unit's organisation page, a ``foaf:Organization``
                       (and ``foaf:Agent``) with ``foaf:name`` ``@zh``; also ``dcat:contactPoint``
更新周期               ``dct:accrualPeriodicity``: the EU frequency table
                       (``…/authority/frequency/MONTHLY``, realtime → ``UPDATE_CONT``)
提供方式               one ``dcat:Distribution`` per method (``…/distribution/api|table|file``);
                       接口 also has ``dcat:accessService``, a ``dcat:DataService`` (the delivery
                       API: ``dcat:endpointURL`` ``/api/delivery/v1``, its OpenAPI description)
领域                   ``dcat:theme``: our concept (``/catalog/domain/<code>``, in the scheme
                       ``/catalog/domain`` that is the catalog's ``dcat:themeTaxonomy``) and the
                       EU data theme (``…/authority/data-theme/HEAL``)
分类分级 + 开放属性     ``dct:accessRights``: one ``dct:RightsStatement``
                       (``/catalog/access-rights/<open>/<grade>``) labelled in both languages,
                       with ``sanyi:openAttribute`` and ``sanyi:gradeLevel`` concepts and
                       ``rdfs:seeAlso`` the EU access right (PUBLIC / RESTRICTED / NON_PUBLIC)
字段列表               ``dct:conformsTo`` ``<dataset>/schema``: a ``dct:Standard`` that is also a
                       CSVW ``csvw:Schema``; ``csvw:column`` is the ordered list (``rdf:List``)
                       of ``csvw:Column`` with ``csvw:name`` (the field name), ``csvw:title``
                       ``@zh``, ``csvw:datatype`` (xsd: string, integer, decimal, date, dateTime;
                       代码 is a string) and ``sanyi:sensitive`` (``xsd:boolean``: masked in samples)
最近更新日期           ``dct:modified`` (``xsd:date``)
下次应更新日期         ``sanyi:nextUpdateDue`` (``xsd:date``)
样例数据 / 公示批次     ``sanyi:sampleAvailable`` (``xsd:boolean``) / ``sanyi:batch`` (``@zh``)
=====================  =================================================================

A product (dataset type ``product``; the catalog lists the approved, public ones with
``dcat:service``) is a ``dcat:DataService``: ``dct:title``/``dct:description`` (产品介绍, else
应用场景) ``@zh``; ``dcat:endpointURL`` ``/api/delivery/v1/<name>``, ``dcat:endpointDescription``
the delivery API's OpenAPI description; ``dcat:landingPage`` the product page; ``foaf:page`` its
price page ``/prices/<name>`` (收费公示, a ``foaf:Document``); ``dcat:servesDataset`` its source
resources; ``dct:publisher`` the operator, ``dct:contributor`` the supplying units;
``dct:accessRights`` free (public interest) or charged at the guide price (industrial).

``sanyi:`` is ``<catalog URI>/ns/sanyi#`` (``ckanext.dcat.base_uri`` or ``ckan.site_url``).
"""
from __future__ import annotations

import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from ckanext.dcat.profiles import EuropeanDCATAP3Profile
from ckanext.dcat.utils import catalog_uri, dataset_uri
from ckanext.scheming.helpers import scheming_get_dataset_schema

from . import vocabulary as voc

__all__ = ["SanyiDCATAPProfile"]

CSVW = Namespace("http://www.w3.org/ns/csvw#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCT = DCTERMS
SITE_TITLE_EN = "Sanyi Public Data Authorized Operation Portal"
SITE_DESCRIPTION_EN = ("Catalog of public data resources and data products of medical care, "
                       "medical insurance and drug administration")
DOMAIN_SCHEME = {"zh": "三医公共数据资源目录 · 领域", "en": "Sanyi resource catalog: domains"}
METHOD_TITLE = {"api": ("接口方式提供", "Delivered through an API"),
                "table": ("库表方式提供", "Delivered as database tables"),
                "file": ("文件方式提供", "Delivered as files")}
PRODUCT_RIGHTS = {
    "public_interest": ("公共治理、公益事业使用免费；须经申请、审核，限定用途使用。",
                        "Free for public governance and public-welfare use; use needs an "
                        "approved application and is limited to its declared purpose."),
    "industrial": ("产业发展、行业发展使用按政府指导价收取公共数据运营服务费（见收费公示）；"
                   "须经申请、审核，限定用途使用。",
                   "Charged for industrial use at the government-guided price (see the "
                   "published prices); use needs an approved application and is limited to "
                   "its declared purpose."),
}


def sanyi_ns() -> Namespace:
    return Namespace(catalog_uri().rstrip("/") + "/ns/sanyi#")


def _base() -> str:
    return catalog_uri().rstrip("/")


def _site() -> str:
    return (tk.config.get("ckan.site_url") or _base()).rstrip("/")


def _choices(dataset_type: str, field_name: str, subfield: str | None = None) -> list[dict]:
    schema = scheming_get_dataset_schema(dataset_type) or {}
    for field in schema.get("dataset_fields", []):
        if field["field_name"] == field_name:
            if subfield is None:
                return field.get("choices") or []
            for sub in field.get("repeating_subfields") or []:
                if sub["field_name"] == subfield:
                    return sub.get("choices") or []
    return []


def labels(dataset_type: str, field_name: str, value: Any,
           subfield: str | None = None) -> tuple[str, str] | None:
    """The (Chinese, English) labels of a choice code, or None for an unknown code."""
    for choice in _choices(dataset_type, field_name, subfield):
        if choice["value"] == value:
            label = choice["label"]
            if isinstance(label, dict):
                return label.get("zh_Hans_CN") or value, label.get("en") or value
            return str(label), str(label)
    return None


def _as_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except ValueError:
            return [v.strip() for v in value.split(",") if v.strip()]
        return loaded if isinstance(loaded, list) else [loaded]
    return list(value)


class SanyiDCATAPProfile(EuropeanDCATAP3Profile):
    """See the module docstring for the mapping."""

    # -- helpers ------------------------------------------------------------------------
    def _both(self, subject: Any, predicate: Any, pair: tuple[str, str] | None) -> None:
        if pair:
            self.g.add((subject, predicate, Literal(pair[0], lang="zh")))
            self.g.add((subject, predicate, Literal(pair[1], lang="en")))

    def _replace_zh(self, subject: Any, predicate: Any, text: str | None) -> None:
        self.g.remove((subject, predicate, None))
        if text:
            self.g.add((subject, predicate, Literal(text, lang="zh")))

    def _languages(self, subject: Any) -> None:
        self.g.remove((subject, DCT.language, None))
        for tag in ("zh", "en"):
            lang = URIRef(voc.language_uri(tag))
            self.g.add((subject, DCT.language, lang))
            self.g.add((lang, RDF.type, DCT.LinguisticSystem))

    def _link(self, subject: Any, predicate: Any, url: str, kind: Any = RDFS.Resource) -> URIRef:
        """``subject predicate <url>``, the URL typed (DCAT-AP's class constraints are checked
        without inference: a page is a ``foaf:Document``, an endpoint an ``rdfs:Resource``)."""
        ref = URIRef(url)
        self.g.add((subject, predicate, ref))
        self.g.add((ref, RDF.type, kind))
        return ref

    def _date(self, subject: Any, predicate: Any, value: Any) -> None:
        self.g.remove((subject, predicate, None))
        if value:
            self.g.add((subject, predicate, Literal(str(value)[:10], datatype=XSD.date)))

    def _organization(self, ref: URIRef, org: dict[str, Any]) -> URIRef:
        g = self.g
        g.remove((ref, None, None))
        g.add((ref, RDF.type, FOAF.Agent))
        g.add((ref, RDF.type, FOAF.Organization))
        g.add((ref, FOAF.name, Literal(org.get("title") or org.get("name"), lang="zh")))
        g.add((ref, FOAF.homepage, URIRef(f"{_site()}/organization/{org['name']}")))
        return ref

    def _org_ref(self, org: dict[str, Any]) -> URIRef:
        return URIRef(f"{_base()}/organization/{org['id']}")

    def _concept(self, ref: URIRef, pair: tuple[str, str], scheme: URIRef | None = None,
                 notation: str | None = None) -> URIRef:
        self.g.add((ref, RDF.type, SKOS.Concept))
        self._both(ref, SKOS.prefLabel, pair)
        if scheme is not None:
            self.g.add((ref, SKOS.inScheme, scheme))
        if notation:
            self.g.add((ref, SKOS.notation, Literal(notation)))
        return ref

    def _domain_scheme(self) -> URIRef:
        scheme = URIRef(f"{_base()}/catalog/domain")
        self.g.add((scheme, RDF.type, SKOS.ConceptScheme))
        self._both(scheme, DCT.title, (DOMAIN_SCHEME["zh"], DOMAIN_SCHEME["en"]))
        return scheme

    # -- the catalog --------------------------------------------------------------------
    def graph_from_catalog(self, catalog_dict: Any, catalog_ref: Any) -> None:
        super().graph_from_catalog(catalog_dict, catalog_ref)
        g = self.g
        g.bind("csvw", CSVW)
        g.bind("sanyi", sanyi_ns())
        title = tk.config.get("ckan.site_title") or "三医公共数据授权运营平台"
        description = tk.config.get("ckan.site_description") or title
        g.remove((catalog_ref, DCT.title, None))
        g.remove((catalog_ref, DCT.description, None))
        self._both(catalog_ref, DCT.title, (title, SITE_TITLE_EN))
        self._both(catalog_ref, DCT.description, (description, SITE_DESCRIPTION_EN))
        self._languages(catalog_ref)
        g.add((catalog_ref, DCAT.themeTaxonomy, self._domain_scheme()))
        for homepage in list(g.objects(catalog_ref, FOAF.homepage)):
            g.add((homepage, RDF.type, FOAF.Document))
        self._catalog_publisher(catalog_ref)
        for product in self._listed_products():
            ref = URIRef(dataset_uri(product))
            self._product(product, ref)
            g.add((catalog_ref, DCAT.service, ref))

    def _catalog_publisher(self, catalog_ref: Any) -> None:
        """The bureau (数据局) publishes the catalog; the site itself when it has no bureau."""
        g = self.g
        g.remove((catalog_ref, DCT.publisher, None))
        bureau = model.Group.by_name(tk.config.get("ckanext.sanyi.bureau_org") or "")
        if bureau is not None:
            ref = self._organization(self._org_ref({"id": bureau.id}),
                                     {"name": bureau.name, "title": bureau.title})
        else:
            ref = URIRef(f"{_base()}/#publisher")
            g.add((ref, RDF.type, FOAF.Agent))
            g.add((ref, FOAF.name, Literal(tk.config.get("ckan.site_title") or "", lang="zh")))
        g.add((catalog_ref, DCT.publisher, ref))

    def _listed_products(self) -> list[dict[str, Any]]:
        """The approved (public) products, as anyone sees them."""
        result = tk.get_action("package_search")(
            {"ignore_auth": True},
            {"fq": "+dataset_type:product", "include_private": False, "rows": 1000,
             "sort": "name asc"})
        return result["results"]

    # -- a dataset: catalog resource or product -----------------------------------------
    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        if dataset_dict.get("type") == "product":
            self._product(dataset_dict, dataset_ref)
            return
        super().graph_from_dataset(dataset_dict, dataset_ref)
        self._catalog_resource(dataset_dict, dataset_ref)

    def _catalog_resource(self, d: dict[str, Any], ref: Any) -> None:
        g = self.g
        sanyi = sanyi_ns()
        g.bind("csvw", CSVW)
        g.bind("sanyi", sanyi)
        page = URIRef(f"{_site()}/dataset/{d['name']}")
        org = d.get("organization") or {}
        self._replace_zh(ref, DCT.title, d.get("title"))
        title_en = d.get("title_en")
        if title_en:
            g.add((ref, DCT.title, Literal(title_en, lang="en")))
        g.remove((ref, DCT.description, None))
        if (d.get("notes") or "").strip():
            g.add((ref, DCT.description, Literal(d["notes"], lang="zh")))
        else:
            self._both(ref, DCT.description, self._summary(d, org))
        for keyword in list(g.objects(ref, DCAT.keyword)):
            g.remove((ref, DCAT.keyword, keyword))
            g.add((ref, DCAT.keyword, Literal(str(keyword), lang="zh")))
        self._languages(ref)
        g.remove((ref, DCAT.landingPage, None))
        self._link(ref, DCAT.landingPage, str(page), FOAF.Document)

        # 数源单位
        for old in list(g.objects(ref, DCT.publisher)):
            g.remove((ref, DCT.publisher, old))
        if org:
            publisher = self._organization(self._org_ref(org), org)
            g.add((ref, DCT.publisher, publisher))
            contact = URIRef(f"{_base()}/organization/{org['id']}#contact")
            g.remove((ref, DCAT.contactPoint, None))
            g.add((ref, DCAT.contactPoint, contact))
            g.add((contact, RDF.type, VCARD.Kind))
            g.add((contact, RDF.type, VCARD.Organization))
            g.add((contact, VCARD.fn, Literal(org.get("title") or org["name"], lang="zh")))
            g.add((contact, VCARD.hasURL, URIRef(f"{_site()}/organization/{org['name']}")))

        # 更新周期
        g.remove((ref, DCT.accrualPeriodicity, None))
        freq = voc.frequency_uri(d.get("update_cycle"))
        if freq:
            g.add((ref, DCT.accrualPeriodicity, URIRef(freq)))
            g.add((URIRef(freq), RDF.type, DCT.Frequency))
            self._both(URIRef(freq), SKOS.prefLabel,
                       labels("dataset", "update_cycle", d.get("update_cycle")))

        # 领域
        domain = d.get("domain")
        pair = labels("dataset", "domain", domain)
        if pair:
            ours = self._concept(URIRef(f"{_base()}/catalog/domain/{domain}"), pair,
                                 self._domain_scheme(), domain)
            g.add((ref, DCAT.theme, ours))
        eu_theme = voc.data_theme_uri(domain)
        if eu_theme:
            _code, en, zh = voc.DATA_THEME[str(domain)]
            g.add((ref, DCAT.theme, self._concept(URIRef(eu_theme), (zh, en))))

        # 分类分级 and 开放属性
        self._access_rights(d, ref, sanyi)

        # 提供方式
        for method in _as_list(d.get("delivery_methods")):
            self._distribution(d, ref, page, str(method))

        # 字段列表
        self._field_list(d, ref, sanyi)

        # dates and the rest
        self._date(ref, DCT.modified, d.get("last_updated"))
        self._date(ref, sanyi.nextUpdateDue, d.get("next_due"))
        if d.get("sample_available") in ("yes", "no"):
            g.add((ref, sanyi.sampleAvailable,
                   Literal(d["sample_available"] == "yes", datatype=XSD.boolean)))
        if d.get("batch"):
            g.add((ref, sanyi.batch, Literal(d["batch"], lang="zh")))

    def _summary(self, d: dict[str, Any], org: dict[str, Any]) -> tuple[str, str]:
        unit = org.get("title") or org.get("name") or ""
        domain = labels("dataset", "domain", d.get("domain")) or ("", "")
        cycle = labels("dataset", "update_cycle", d.get("update_cycle")) or ("", "")
        methods = [labels("dataset", "delivery_methods", m) or (m, m)
                   for m in _as_list(d.get("delivery_methods"))]
        zh = (f"{d.get('title')}：数源单位{unit}，领域{domain[0]}，更新周期{cycle[0]}，"
              f"提供方式{'、'.join(m[0] for m in methods)}。")
        en = (f"Public data resource of {unit} (domain: {domain[1]}; update cycle: {cycle[1]}; "
              f"delivered as: {', '.join(m[1] for m in methods)}).")
        return zh, en

    def _access_rights(self, d: dict[str, Any], ref: Any, sanyi: Namespace) -> None:
        g = self.g
        g.remove((ref, DCT.accessRights, None))
        openness, grade = d.get("open_attribute"), d.get("grade_level")
        open_pair = labels("dataset", "open_attribute", openness)
        grade_pair = labels("dataset", "grade_level", grade)
        if not (open_pair or grade_pair):
            return
        rights = URIRef(f"{_base()}/catalog/access-rights/{openness or '-'}/{grade or '-'}")
        g.add((ref, DCT.accessRights, rights))
        g.add((rights, RDF.type, DCT.RightsStatement))
        zh = "；".join(x for x in (open_pair and f"开放属性：{open_pair[0]}",
                                  grade_pair and f"分类分级：{grade_pair[0]}") if x)
        en = "; ".join(x for x in (open_pair and f"Openness: {open_pair[1]}",
                                  grade_pair and f"Classification level: {grade_pair[1]}") if x)
        self._both(rights, RDFS.label, (zh, en))
        if open_pair:
            g.add((rights, sanyi.openAttribute, self._concept(
                URIRef(f"{_base()}/catalog/open-attribute/{openness}"), open_pair,
                notation=openness)))
        if grade_pair:
            g.add((rights, sanyi.gradeLevel, self._concept(
                URIRef(f"{_base()}/catalog/grade-level/{grade}"), grade_pair, notation=grade)))
        eu = voc.access_right_uri(openness)
        if eu:
            g.add((rights, RDFS.seeAlso, URIRef(eu)))

    def _distribution(self, d: dict[str, Any], ref: Any, page: URIRef, method: str) -> None:
        g = self.g
        dist = URIRef(f"{ref}/distribution/{method}")
        g.add((ref, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        self._link(dist, DCAT.accessURL, str(page))
        self._both(dist, DCT.title, METHOD_TITLE.get(method, (method, method)))
        self._both(dist, DCT.description, labels("dataset", "delivery_methods", method))
        if method == "api":
            service = URIRef(f"{ref}/service")
            g.add((dist, DCAT.accessService, service))
            g.add((service, RDF.type, DCAT.DataService))
            g.add((service, DCT.title, Literal(f"{d.get('title')}（数据接口）", lang="zh")))
            g.add((service, DCT.title, Literal("Data API of this resource", lang="en")))
            self._link(service, DCAT.endpointURL, f"{_site()}/api/delivery/v1")
            self._link(service, DCAT.endpointDescription, f"{_site()}/api/delivery/openapi.json")
            g.add((service, DCAT.servesDataset, ref))

    def _field_list(self, d: dict[str, Any], ref: Any, sanyi: Namespace) -> None:
        fields = [f for f in _as_list(d.get("data_fields")) if isinstance(f, dict)
                  and f.get("field_name")]
        if not fields:
            return
        g = self.g
        schema = URIRef(f"{ref}/schema")
        g.add((ref, DCT.conformsTo, schema))
        g.add((schema, RDF.type, DCT.Standard))
        g.add((schema, RDF.type, CSVW.Schema))
        self._both(schema, DCT.title, ("字段列表", "Field list"))
        columns: list[Any] = []
        for i, field in enumerate(fields, start=1):
            col = URIRef(f"{schema}/{i}")
            columns.append(col)
            g.add((col, RDF.type, CSVW.Column))
            g.add((col, CSVW.name, Literal(field["field_name"])))
            g.add((col, CSVW.title, Literal(field["field_name"], lang="zh")))
            kind = field.get("field_type")
            if kind in voc.XSD_TYPE:
                g.add((col, CSVW.datatype, URIRef(voc.XSD_TYPE[kind])))
                self._both(col, DCT.description, labels("dataset", "data_fields", kind,
                                                        "field_type"))
            if field.get("sensitive") in ("yes", "no"):
                g.add((col, sanyi.sensitive,
                       Literal(field["sensitive"] == "yes", datatype=XSD.boolean)))
        head = BNode()
        Collection(g, head, columns)
        g.add((schema, CSVW.column, head))

    # -- a product ----------------------------------------------------------------------
    def _product(self, d: dict[str, Any], ref: Any) -> None:
        g = self.g
        site = _site()
        g.remove((ref, None, None))
        g.add((ref, RDF.type, DCAT.DataService))
        g.add((ref, DCT.identifier, Literal(d["id"])))
        g.add((ref, DCT.title, Literal(d.get("title") or d["name"], lang="zh")))
        text = (d.get("notes") or "").strip() or d.get("scenario")
        if text:
            g.add((ref, DCT.description, Literal(text, lang="zh")))
        category = labels("product", "category", d.get("category"))
        if category:
            g.add((ref, DCAT.keyword, Literal(category[0], lang="zh")))
            g.add((ref, DCAT.keyword, Literal(category[1], lang="en")))
        for tag in d.get("tags") or []:
            g.add((ref, DCAT.keyword, Literal(tag["name"], lang="zh")))
        self._languages(ref)
        self._link(ref, DCAT.endpointURL, f"{site}/api/delivery/v1/{d['name']}")
        self._link(ref, DCAT.endpointDescription, f"{site}/api/delivery/openapi.json")
        self._link(ref, DCAT.landingPage, f"{site}/product/{d['name']}", FOAF.Document)
        prices = self._link(ref, FOAF.page, f"{site}/prices/{d['name']}", FOAF.Document)
        self._both(prices, DCT.title, ("收费公示", "Published prices"))
        if d.get("organization"):
            g.add((ref, DCT.publisher,
                   self._organization(self._org_ref(d["organization"]), d["organization"])))
        units = _as_list(d.get("supplying_units"))
        if units:
            for group in model.Session.query(model.Group).filter(
                    model.Group.name.in_([str(u) for u in units])):
                g.add((ref, DCT.contributor, self._organization(
                    self._org_ref({"id": group.id}),
                    {"name": group.name, "title": group.title})))
        sources = [str(s) for s in _as_list(d.get("source_resources"))]
        if sources:
            rows = model.Session.query(model.Package.id).filter(
                model.Package.name.in_(sources) | model.Package.id.in_(sources),
                model.Package.state == "active", model.Package.private.is_(False))
            for (pkg_id,) in rows:
                served = URIRef(dataset_uri({"id": pkg_id}))
                g.add((ref, DCAT.servesDataset, served))
                if (served, RDF.type, DCAT.Dataset) not in g:
                    # described here too: the document of a product (or a catalog page
                    # without that resource) stays complete for DCAT-AP
                    source = tk.get_action("package_show")({"ignore_auth": True}, {"id": pkg_id})
                    self.graph_from_dataset(source, served)
        rights_text = PRODUCT_RIGHTS.get(d.get("category") or "")
        if rights_text:
            rights = URIRef(f"{_base()}/catalog/product-rights/{d['category']}")
            g.add((ref, DCT.accessRights, rights))
            g.add((rights, RDF.type, DCT.RightsStatement))
            self._both(rights, RDFS.label, rights_text)
        self._date(ref, DCT.modified, d.get("metadata_modified"))
