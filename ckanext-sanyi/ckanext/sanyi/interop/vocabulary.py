"""Controlled vocabularies the DCAT profile maps our choice codes onto (pure data, no CKAN import).

* 更新周期 → the EU frequency authority table (``dct:accrualPeriodicity``);
* 领域 → the EU data-theme table (a second ``dcat:theme`` beside our own concept);
* 开放属性 → the EU access-right table (``rdfs:seeAlso`` of our ``dct:accessRights`` statement);
* the field list's 类型 → XML Schema datatypes (``csvw:datatype``);
* the languages of the literals → the EU language table (``dct:language``).

The English labels of the EU concepts are the tables' own; the Chinese ones are ours.
"""
from __future__ import annotations

from typing import Final

__all__ = ["FREQUENCY", "DATA_THEME", "ACCESS_RIGHT", "LANGUAGE", "XSD_TYPE",
           "frequency_uri", "data_theme_uri", "access_right_uri", "language_uri"]

EU = "http://publications.europa.eu/resource/authority/"

# update_cycle code → frequency table code
FREQUENCY: Final[dict[str, str]] = {
    "realtime": "UPDATE_CONT",  # continuously updated
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
}

# domain code → (data-theme code, English label of the table, our Chinese label)
DATA_THEME: Final[dict[str, tuple[str, str, str]]] = {
    "health": ("HEAL", "Health", "卫生"),
    "insurance": ("HEAL", "Health", "卫生"),
    "drug": ("HEAL", "Health", "卫生"),
    "market": ("ECON", "Economy and finance", "经济和金融"),
    "housing": ("REGI", "Regions and cities", "地区和城市"),
    "land": ("ENVI", "Environment", "环境"),
    "hr": ("SOCI", "Population and society", "人口和社会"),
    "fund": ("ECON", "Economy and finance", "经济和金融"),
    "transport": ("TRAN", "Transport", "交通"),
    "tech": ("TECH", "Science and technology", "科学和技术"),
}

# open_attribute code → access-right table code
ACCESS_RIGHT: Final[dict[str, str]] = {
    "open": "PUBLIC",
    "conditional": "RESTRICTED",
    "authorized": "RESTRICTED",
    "closed": "NON_PUBLIC",
}

# literal language tag → language table code
LANGUAGE: Final[dict[str, str]] = {"zh": "ZHO", "en": "ENG"}

XSD = "http://www.w3.org/2001/XMLSchema#"
# data_fields.field_type code → XML Schema datatype
XSD_TYPE: Final[dict[str, str]] = {
    "string": XSD + "string",
    "integer": XSD + "integer",
    "decimal": XSD + "decimal",
    "date": XSD + "date",
    "datetime": XSD + "dateTime",
    "code": XSD + "string",
}


def frequency_uri(update_cycle: str | None) -> str | None:
    code = FREQUENCY.get(update_cycle or "")
    return f"{EU}frequency/{code}" if code else None


def data_theme_uri(domain: str | None) -> str | None:
    entry = DATA_THEME.get(domain or "")
    return f"{EU}data-theme/{entry[0]}" if entry else None


def access_right_uri(open_attribute: str | None) -> str | None:
    code = ACCESS_RIGHT.get(open_attribute or "")
    return f"{EU}access-right/{code}" if code else None


def language_uri(tag: str) -> str:
    return f"{EU}language/{LANGUAGE[tag]}"
