"""The source tables of the data domain, declared once.

Each :class:`Source` is one table in the domain's schema and backs one catalog resource (named
by its data unit and title, as the catalog lists them). Its :class:`Field`\\ s carry the column
name used in SQL, the Chinese field name the catalog's field list shows and extract files use
as column headers, the field type (the catalog's ``field_type`` choices) and whether it is
sensitive (masked in samples, never returned by an operation).

Pure data: no CKAN or SQLAlchemy import, so the generator, the loader, the operations and the
demo catalog all read the same definition.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Field", "Index", "Source", "SOURCES", "by_table", "by_resource_title", "SCHEMA"]

SCHEMA = "sanyi_domain"
TYPES = ("string", "integer", "decimal", "date", "datetime", "code")


@dataclass(frozen=True)
class Field:
    column: str
    zh: str
    type: str = "string"
    sensitive: bool = False
    required: bool = False
    en: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"{self.column}: unknown field type {self.type}")


@dataclass(frozen=True)
class Index:
    """A B-tree index on ``columns``; ``include`` columns ride in its leaves (a covering index:
    the operations' lookups read the index alone), ``where`` makes it partial (each
    ``(column, value)`` an equality every row of the index satisfies)."""
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Source:
    table: str
    zh: str
    unit_title: str
    resource_title: str
    key: str
    fields: tuple[Field, ...]
    indexes: tuple[tuple[str, ...] | Index, ...] = field(default=())  # a tuple: plain columns
    new_resource: bool = False  # not in the published first batch: the demo adds it

    def field(self, column: str) -> Field:
        for f in self.fields:
            if f.column == column:
                return f
        raise KeyError(column)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.fields)

    def by_zh(self) -> dict[str, Field]:
        return {f.zh: f for f in self.fields}

    def index_specs(self) -> tuple[Index, ...]:
        return tuple(ix if isinstance(ix, Index) else Index(tuple(ix)) for ix in self.indexes)


def _f(column: str, zh: str, type_: str = "string", *, sensitive: bool = False,
       required: bool = False, en: str = "") -> Field:
    return Field(column, zh, type_, sensitive, required, en or column.replace("_", " "))


# Fields most event tables share: the person's identifiers (sensitive) and the institution.
def _person(required: bool = True) -> tuple[Field, ...]:
    return (_f("person_no", "个人编码", "code", sensitive=True, required=required),
            _f("id_number", "身份证号", "code", sensitive=True, required=required))


def _institution() -> tuple[Field, ...]:
    return (_f("institution_code", "医疗机构编码", "code", required=True),
            _f("institution_name", "医疗机构名称", required=True))


WJW, YBJ, SJJ = "市卫健委", "市医保局", "市市场监管局"

SOURCES: tuple[Source, ...] = (
    Source("persons", "参保人员", YBJ, "医保参保人员", "person_no", (
        _f("person_no", "个人编码", "code", sensitive=True, required=True),
        _f("id_number", "身份证号", "code", sensitive=True, required=True),
        _f("name", "姓名", sensitive=True, required=True),
        _f("sex", "性别", "code", required=True),
        _f("birth_date", "出生日期", "date", sensitive=True, required=True),
        _f("insurance_type", "险种类型", "code", required=True),
        _f("person_type", "人员类型", "code"),
        _f("region_code", "参保地统筹区域编码", "code", required=True),
        _f("region_name", "参保地统筹区域名称"),
        _f("address", "患者现住址", sensitive=True),
        _f("employer", "患者所在单位", sensitive=True),
        _f("phone", "联系电话", sensitive=True),
        _f("enrolled_on", "参保日期", "date"),
    ), indexes=(("id_number",),)),
    Source("outpatient_visits", "门诊就诊记录", WJW, "门诊就诊记录数据", "visit_id", (
        _f("visit_id", "医保就诊ID", "code", required=True),
        *_person(), *_institution(),
        _f("dept_name", "就诊科室名称"),
        _f("visit_date", "就诊日期", "date", required=True),
        _f("diagnosis_code", "诊断编码", "code", required=True),
        _f("diagnosis_name", "诊断名称"),
        _f("doctor_code", "主诊医师编码", "code", sensitive=True),
        _f("total_fee", "医疗总费用", "decimal"),
    ), indexes=(Index(("id_number", "visit_date"),
                      include=("diagnosis_code", "institution_code", "institution_name")),
                ("visit_date",))),
    Source("admissions", "入院登记", WJW, "入院登记数据", "admission_id", (
        _f("admission_id", "住院号", "code", required=True),
        *_person(), *_institution(),
        _f("dept_name", "入院科室名称"),
        _f("admission_date", "入院日期", "date", required=True),
        _f("diagnosis_code", "入院诊断编码", "code", required=True),
        _f("diagnosis_name", "入院诊断名称"),
    ), indexes=(Index(("id_number", "admission_date"), include=(
        "admission_id", "diagnosis_code", "institution_code", "institution_name")),)),
    Source("discharges", "出院记录", WJW, "出院记录数据", "admission_id", (
        _f("admission_id", "住院号", "code", required=True),
        *_person(), *_institution(),
        _f("discharge_date", "出院日期", "date", required=True),
        _f("stay_days", "住院天数", "integer", required=True),
        _f("diagnosis_code", "出院主诊断编码", "code", required=True),
        _f("diagnosis_name", "出院主诊断名称"),
        _f("discharge_method", "离院方式", "code"),
        _f("doctor_name", "主诊医师姓名", sensitive=True),
    ), indexes=(Index(("id_number", "discharge_date"), include=("diagnosis_code",)),)),
    Source("settlements", "医保结算单据", YBJ, "医保结算单据数据", "settlement_id", (
        _f("settlement_id", "医保结算ID", "code", required=True),
        _f("bill_no", "结算单据号", "code", sensitive=True),
        _f("visit_ref", "医保就诊ID", "code", required=True),
        *_person(), *_institution(),
        _f("medical_category", "医疗类别", "code", required=True),
        _f("insurance_type", "险种类型", "code"),
        _f("settle_date", "结算日期", "date", required=True),
        _f("total_fee", "医疗总费用", "decimal", required=True),
        _f("fund_paid", "基金支付金额", "decimal"),
        _f("self_paid", "个人自付金额", "decimal"),
    ), indexes=(("id_number", "settle_date"), ("visit_ref",)), new_resource=True),
    Source("settlement_items", "医保结算明细", YBJ, "医保消费明细数据", "item_id", (
        _f("item_id", "明细ID", "code", required=True),
        _f("settlement_id", "单据ID", "code", required=True),
        _f("person_no", "个人编码", "code", sensitive=True, required=True),
        _f("item_code", "医保目录编码", "code", required=True),
        _f("item_name", "医保目录名称"),
        _f("item_category", "收费类别", "code"),
        _f("quantity", "数量", "decimal"),
        _f("unit_price", "单价", "decimal"),
        _f("amount", "金额", "decimal", required=True),
        _f("occurred_on", "费用发生日期", "date", required=True),
    ), indexes=(("settlement_id",),)),
    Source("prescriptions", "处方", WJW, "门诊处方数据", "prescription_id", (
        _f("prescription_id", "处方ID", "code", required=True),
        _f("visit_id", "医保就诊ID", "code"),
        *_person(), *_institution(),
        _f("prescribed_on", "开方日期", "date", required=True),
        _f("drug_code", "药品编码", "code", required=True),
        _f("drug_name", "药品通用名", required=True),
        _f("dose", "单次剂量"),
        _f("frequency", "用药频次"),
        _f("days", "用药天数", "integer", required=True),
        _f("chronic", "慢病处方标志", "code"),
    ), indexes=(Index(("id_number", "prescribed_on"), where=(("chronic", "1"),)),
                ("drug_name", "prescribed_on")), new_resource=True),
    Source("chronic_registrations", "慢病登记", WJW, "高血压患者健康管理数据", "registration_id", (
        _f("registration_id", "登记编号", "code", required=True),
        *_person(),
        _f("condition_code", "慢病编码", "code", required=True),
        _f("condition_name", "慢病名称", required=True),
        _f("registered_on", "登记日期", "date", required=True),
        _f("managing_institution", "管理机构名称"),
        _f("status", "管理状态", "code", required=True),
    ), indexes=(Index(("id_number",), include=(
        "registered_on", "condition_code", "condition_name", "status")),)),
    Source("exams", "体检明细", WJW, "体检明细数据", "exam_item_id", (
        _f("exam_item_id", "体检明细ID", "code", required=True),
        *_person(),
        _f("exam_date", "体检日期", "date", required=True),
        _f("institution_name", "医疗机构名称"),
        _f("item_code", "体检项目编码", "code", required=True),
        _f("item_name", "体检项目名称"),
        _f("value", "结果值", "decimal", required=True),
        _f("unit", "单位"),
    ), indexes=(Index(("id_number", "exam_date"), include=("item_code", "value")),)),
    Source("lab_results", "检验明细", WJW, "检验明细数据", "result_id", (
        _f("result_id", "检验明细ID", "code", required=True),
        *_person(),
        _f("visit_id", "医保就诊ID", "code"),
        _f("test_date", "检验日期", "date", required=True),
        _f("institution_name", "医疗机构名称"),
        _f("item_code", "检验项目编码", "code", required=True),
        _f("item_name", "检验项目名称"),
        _f("value", "结果值", "decimal"),
        _f("unit", "单位"),
        _f("reference_range", "参考范围"),
        _f("abnormal", "异常标志", "code"),
    ), indexes=(("id_number", "test_date"),)),
    Source("adverse_events", "药品不良反应", SJJ, "药品不良反应监测数据", "report_id", (
        _f("report_id", "报告编号", "code", required=True),
        *_person(),
        _f("drug_code", "药品编码", "code"),
        _f("drug_name", "怀疑药品通用名", required=True),
        _f("onset_date", "不良反应发生日期", "date", required=True),
        _f("reaction_name", "不良反应名称", required=True),
        _f("severity", "严重程度", "code", required=True),
        _f("outcome", "转归"),
        _f("reporter", "报告单位", sensitive=True),
    ), indexes=(("drug_name", "onset_date"), ("id_number",)), new_resource=True),
    Source("market_drugs", "市场流通药品", SJJ, "市场流通药品相关数据", "drug_code", (
        _f("drug_code", "药品编码", "code", required=True),
        _f("generic_name", "药品通用名", required=True),
        _f("trade_name", "商品名"),
        _f("dosage_form", "剂型"),
        _f("specification", "规格"),
        _f("manufacturer", "生产企业"),
        _f("approval_no", "批准文号", "code"),
        _f("atc_code", "ATC编码", "code"),
    ), indexes=(("generic_name",),)),
)


def by_table(table: str) -> Source:
    for s in SOURCES:
        if s.table == table:
            return s
    raise KeyError(table)


def by_resource_title(unit_title: str, resource_title: str) -> Source | None:
    for s in SOURCES:
        if s.unit_title == unit_title and s.resource_title == resource_title:
            return s
    return None
