"""DCAT publication (ckanext-dcat with the ``sanyi_dcat_ap`` profile), fetched over HTTP as
anonymous, as a logged-in user with no role and as the unit's editor, parsed with rdflib: the
catalog and dataset endpoints in every serialization and by ``Accept``, the mapping of each
field, products as data services, nothing private, and DCAT-AP 3 conformance (pyshacl against
the official SHACL shapes in tests/data/shacl/)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import rdflib
from interop_world import PUBLIC, graph, uri
from rdflib import Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCAT, FOAF, RDF, RDFS, SKOS, XSD
from rdflib.namespace import DCTERMS as DCT

pytestmark = pytest.mark.usefixtures("with_plugins")

SITE = "http://127.0.0.1:5000"
SANYI = rdflib.Namespace(f"{SITE}/ns/sanyi#")
CSVW = rdflib.Namespace("http://www.w3.org/ns/csvw#")
EU = "http://publications.europa.eu/resource/authority/"
SHAPES = Path(__file__).parents[2] / "data" / "shacl" / "dcat-ap-3.0.0-SHACL.ttl"
FORMATS = [("ttl", "turtle", "text/turtle"), ("rdf", "xml", "application/rdf+xml"),
           ("xml", "xml", "application/rdf+xml"), ("jsonld", "json-ld", "application/ld+json")]


def _catalog_ref(g: rdflib.Graph) -> URIRef:
    (ref,) = set(g.subjects(RDF.type, DCAT.Catalog))
    return ref


def _by_lang(g: rdflib.Graph, s, p) -> dict[str, str]:
    return {o.language: str(o) for o in g.objects(s, p) if isinstance(o, Literal)}


@pytest.mark.parametrize("ext, fmt, ctype", FORMATS)
def test_catalog_in_every_format_lists_public_resources_and_listed_products(app, interop,
                                                                            ext, fmt, ctype):
    made = interop["made"]
    g, res = graph(app, f"/catalog.{ext}", fmt)
    assert res.headers["Content-Type"].startswith(ctype)
    catalog = _catalog_ref(g)
    assert set(g.objects(catalog, DCAT.dataset)) == {URIRef(uri(made[n])) for n in PUBLIC}
    assert set(g.objects(catalog, DCAT.service)) == {URIRef(uri(made["chronic-refill"]))}
    # nothing private: neither the unpublished resource nor the draft product, by id or title
    for name in ("unpublished-draft", "not-listed"):
        assert made[name]["id"] not in res.body and made[name]["title"] not in res.body
    assert _by_lang(g, catalog, DCT.title) == {"zh": "三医公共数据授权运营平台",
                                               "en": "Sanyi Public Data Authorized Operation Portal"}
    assert set(_by_lang(g, catalog, DCT.description)) == {"zh", "en"}
    assert set(g.objects(catalog, DCT.language)) == {URIRef(f"{EU}language/ZHO"),
                                                     URIRef(f"{EU}language/ENG")}
    (publisher,) = g.objects(catalog, DCT.publisher)
    assert _by_lang(g, publisher, FOAF.name) == {"zh": "市数据局"}
    assert (catalog, DCAT.themeTaxonomy, URIRef(f"{SITE}/catalog/domain")) in g


def test_english_prefix_serves_the_same_catalog(app, interop):
    zh, _ = graph(app, "/catalog.ttl")
    en, _ = graph(app, "/en/catalog.ttl")
    assert set(zh.objects(_catalog_ref(zh), DCAT.dataset)) == \
        set(en.objects(_catalog_ref(en), DCAT.dataset))
    hypertension = URIRef(uri(interop["made"]["hypertension"]))
    assert _by_lang(en, hypertension, DCT.title) == {"zh": "高血压患者健康管理数据"}


def test_content_negotiation_on_accept(app, interop):
    made = interop["made"]
    g, res = graph(app, "/", "turtle", headers={"Accept": "text/turtle"})
    assert res.headers["Content-Type"].startswith("text/turtle")
    assert len(set(g.objects(_catalog_ref(g), DCAT.dataset))) == len(PUBLIC)
    g, res = graph(app, "/dataset/hypertension", "json-ld",
                   headers={"Accept": "application/ld+json"})
    assert res.headers["Content-Type"].startswith("application/ld+json")
    assert (URIRef(uri(made["hypertension"])), RDF.type, DCAT.Dataset) in g
    g, _ = graph(app, "/dataset/hypertension", "xml", headers={"Accept": "application/rdf+xml"})
    assert (URIRef(uri(made["hypertension"])), RDF.type, DCAT.Dataset) in g
    # a browser still gets the pages
    for url in ("/", "/dataset/hypertension", "/en/dataset/hypertension"):
        res = app.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert res.status_code == 200 and "<html" in res.body, url
    assert "高血压患者健康管理数据" in app.get("/dataset/hypertension").body


@pytest.mark.parametrize("url", ["/catalog.foo", "/catalog.nt", "/dataset/hypertension.foo",
                                 "/dataset/hypertension.json", "/catalog.ttl?page=-1"])
def test_unknown_format_or_page_is_a_field_error(app, interop, url):
    res = app.get(url)
    assert res.status_code in (404, 409), (url, res.status_code)
    if "foo" in url:
        assert "不支持的格式" in res.body and "Unsupported format" in res.body


def test_catalog_resource_fields_are_mapped(app, interop):
    made = interop["made"]
    ht = made["hypertension"]
    g, _ = graph(app, "/dataset/hypertension.ttl")
    ds = URIRef(uri(ht))
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert _by_lang(g, ds, DCT.title) == {"zh": "高血压患者健康管理数据"}
    assert _by_lang(g, ds, DCT.description) == {"zh": "辖区高血压患者随访管理记录。"}
    assert set(g.objects(ds, DCAT.keyword)) == {Literal("慢病", lang="zh"),
                                                Literal("随访", lang="zh")}
    # 数源单位 → dct:publisher, a foaf:Organization
    (unit,) = g.objects(ds, DCT.publisher)
    assert {FOAF.Organization, FOAF.Agent} <= set(g.objects(unit, RDF.type))
    assert _by_lang(g, unit, FOAF.name) == {"zh": "市卫健委"}
    assert (unit, FOAF.homepage, URIRef(f"{SITE}/organization/shi-wei-jian-wei")) in g
    # 更新周期 → EU frequency
    freq = URIRef(f"{EU}frequency/MONTHLY")
    assert list(g.objects(ds, DCT.accrualPeriodicity)) == [freq]
    assert _by_lang(g, freq, SKOS.prefLabel) == {"zh": "每月", "en": "Monthly"}
    # 提供方式 → one distribution per method; 接口 through a data service
    dists = set(g.objects(ds, DCAT.distribution))
    assert dists == {URIRef(f"{ds}/distribution/{m}") for m in ("api", "table", "file")}
    for dist in dists:
        assert (dist, DCAT.accessURL, URIRef(f"{SITE}/dataset/hypertension")) in g
        assert set(_by_lang(g, dist, DCT.title)) == {"zh", "en"}
    (service,) = g.objects(URIRef(f"{ds}/distribution/api"), DCAT.accessService)
    assert (service, RDF.type, DCAT.DataService) in g
    assert (service, DCAT.endpointURL, URIRef(f"{SITE}/api/delivery/v1")) in g
    assert (service, DCAT.servesDataset, ds) in g
    assert not list(g.objects(URIRef(f"{ds}/distribution/file"), DCAT.accessService))
    # 领域 → our concept and the EU data theme
    ours = URIRef(f"{SITE}/catalog/domain/health")
    assert set(g.objects(ds, DCAT.theme)) == {ours, URIRef(f"{EU}data-theme/HEAL")}
    assert _by_lang(g, ours, SKOS.prefLabel) == {"zh": "卫健", "en": "Health care"}
    assert (ours, SKOS.inScheme, URIRef(f"{SITE}/catalog/domain")) in g
    # 分类分级 + 开放属性 → one dct:accessRights
    (rights,) = g.objects(ds, DCT.accessRights)
    assert (rights, RDF.type, DCT.RightsStatement) in g
    assert _by_lang(g, rights, RDFS.label) == {
        "zh": "开放属性：授权运营；分类分级：三级（重要数据）",
        "en": "Openness: Authorized operation; Classification level: Level 3 (important)"}
    assert (rights, SANYI.gradeLevel, URIRef(f"{SITE}/catalog/grade-level/L3")) in g
    assert (rights, SANYI.openAttribute, URIRef(f"{SITE}/catalog/open-attribute/authorized")) in g
    assert (rights, RDFS.seeAlso, URIRef(f"{EU}access-right/RESTRICTED")) in g
    # field list → a CSVW schema, columns in order
    (schema,) = g.objects(ds, DCT.conformsTo)
    assert {DCT.Standard, CSVW.Schema} <= set(g.objects(schema, RDF.type))
    columns = list(Collection(g, next(g.objects(schema, CSVW.column))))
    assert [str(g.value(c, CSVW.name)) for c in columns] == ["患者编号", "随访日期", "收缩压"]
    assert [g.value(c, CSVW.datatype) for c in columns] == [XSD.string, XSD.date, XSD.integer]
    assert [g.value(c, SANYI.sensitive).toPython() for c in columns] == [True, False, False]
    assert _by_lang(g, columns[0], DCT.description) == {"zh": "代码", "en": "Code"}
    # last update, next due date, sample, batch
    assert list(g.objects(ds, DCT.modified)) == [Literal(ht["last_updated"], datatype=XSD.date)]
    assert list(g.objects(ds, SANYI.nextUpdateDue)) == [Literal(ht["next_due"], datatype=XSD.date)]
    assert dt.date.fromisoformat(ht["next_due"]) > dt.date.fromisoformat(ht["last_updated"])
    assert g.value(ds, SANYI.sampleAvailable).toPython() is True
    assert _by_lang(g, ds, SANYI.batch) == {"zh": "第一批"}
    assert (ds, DCAT.landingPage, URIRef(f"{SITE}/dataset/hypertension")) in g


def test_resource_without_notes_realtime_and_open(app, interop):
    g, _ = graph(app, "/dataset/insured.ttl")
    ds = URIRef(uri(interop["made"]["insured"]))
    assert list(g.objects(ds, DCT.accrualPeriodicity)) == [URIRef(f"{EU}frequency/UPDATE_CONT")]
    description = _by_lang(g, ds, DCT.description)
    assert "市医保局" in description["zh"] and "实时" in description["zh"]
    assert "Medical insurance" in description["en"] and "Real time" in description["en"]
    (rights,) = g.objects(ds, DCT.accessRights)
    assert (rights, RDFS.seeAlso, URIRef(f"{EU}access-right/PUBLIC")) in g
    assert set(g.objects(ds, DCAT.distribution)) == {URIRef(f"{ds}/distribution/table")}
    assert not list(g.objects(ds, DCT.conformsTo))  # no field list given
    assert _by_lang(g, next(g.objects(ds, DCT.publisher)), FOAF.name) == {"zh": "市医保局"}


def test_product_is_a_data_service_with_its_price_page(app, interop):
    made = interop["made"]
    g, _ = graph(app, "/dataset/chronic-refill.ttl")
    svc = URIRef(uri(made["chronic-refill"]))
    assert set(g.objects(svc, RDF.type)) == {DCAT.DataService}
    assert _by_lang(g, svc, DCT.title) == {"zh": "慢病线上开处方"}
    prices = URIRef(f"{SITE}/prices/chronic-refill")
    assert (svc, FOAF.page, prices) in g
    assert _by_lang(g, prices, DCT.title) == {"zh": "收费公示", "en": "Published prices"}
    assert (svc, DCAT.endpointURL, URIRef(f"{SITE}/api/delivery/v1/chronic-refill")) in g
    assert (svc, DCAT.landingPage, URIRef(f"{SITE}/product/chronic-refill")) in g
    assert set(g.objects(svc, DCAT.servesDataset)) == {URIRef(uri(made["hypertension"])),
                                                       URIRef(uri(made["insured"]))}
    assert _by_lang(g, next(g.objects(svc, DCT.publisher)), FOAF.name) == {
        "zh": "三医数据运营有限公司"}
    assert {_by_lang(g, u, FOAF.name)["zh"] for u in g.objects(svc, DCT.contributor)} == {
        "市卫健委", "市医保局"}
    assert set(_by_lang(g, next(g.objects(svc, DCT.accessRights)), RDFS.label)) == {"zh", "en"}
    # the served resources are described in the same document
    assert (URIRef(uri(made["insured"])), RDF.type, DCAT.Dataset) in g


def _validate(g: rdflib.Graph) -> tuple[bool, str]:
    import pyshacl
    shapes = rdflib.Graph().parse(SHAPES)
    conforms, _report, text = pyshacl.validate(g, shacl_graph=shapes, inference="none")
    return conforms, text


def test_documents_conform_to_dcat_ap_3(app, interop):
    """Validated without inference (the strictest reading: every class the shapes ask for is
    stated). The profile fixes each violation the shapes found: pages typed foaf:Document,
    endpoint and access URLs rdfs:Resource, the contact point vcard:Kind, the units both
    foaf:Organization and foaf:Agent, the resources a product serves described in its
    document, one dct:modified and one dct:accessRights per dataset; no violation is left
    undocumented because none is left."""
    urls = ["/catalog.ttl", "/dataset/hypertension.ttl", "/dataset/insured.ttl",
            "/dataset/chronic-refill.ttl"]
    for url in urls:
        g, _ = graph(app, url)
        conforms, text = _validate(g)
        assert conforms, f"{url}:\n{text[:4000]}"
    assert len(SHAPES.read_text(encoding="utf-8")) == 92935  # the official 3.0.0 file, whole


def test_shapes_catch_a_broken_document(app, interop):
    """The shapes are live: a catalog resource without a title, or a distribution without an
    access URL, fails validation."""
    g, _ = graph(app, "/dataset/hypertension.ttl")
    ds = URIRef(uri(interop["made"]["hypertension"]))
    g.remove((ds, DCT.title, None))
    conforms, text = _validate(g)
    assert not conforms and "title" in text
    g, _ = graph(app, "/dataset/hypertension.ttl")
    g.remove((URIRef(f"{ds}/distribution/api"), DCAT.accessURL, None))
    assert not _validate(g)[0]


# -- last: logging in writes to the database (the world is built again after it) ----
@pytest.mark.parametrize("who", ["anonymous", "no_role", "wj_editor"])
def test_private_documents_only_for_members(app, interop, login, who):
    from ckan.tests import factories
    if who == "no_role":
        factories.User(name="interop_nobody")
        login(app, "interop_nobody")
    elif who == "wj_editor":
        login(app, "wj_editor")
    res = app.get("/dataset/unpublished-draft.ttl")
    if who == "wj_editor":
        assert res.status_code == 200 and "未公开的内部草稿资源" in res.body
        # content negotiation takes over /dataset/new too: still the catalog form
        form = app.get("/dataset/new")
        assert form.status_code == 200 and 'name="update_cycle"' in form.body
    else:
        assert res.status_code in (403, 404) and "未公开的内部草稿资源" not in res.body
    res = app.get("/dataset/not-listed.ttl")
    assert res.status_code in (403, 404) and "未上架产品" not in res.body
    catalog = app.get("/catalog.ttl").body
    # the catalog is a publication: private entries stay out of it even for their unit
    assert "未上架产品" not in catalog and "未公开的内部草稿资源" not in catalog
    assert "高血压患者健康管理数据" in catalog
