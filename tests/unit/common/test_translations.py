"""The translation catalog covers every string of our templates, in both languages.

* every ``_('...')`` / ``gettext('...')`` literal of our templates has a zh_Hans_CN entry (ours,
  ``i18n/zh_Hans_CN/LC_MESSAGES/ckanext-sanyi.po``, or CKAN's), not an empty one;
* every ``h.sanyi_t('中文', 'English')`` literal pair has both texts: Chinese with no words
  the portal replaced (登陆, 追随), English with no Chinese punctuation;
* our catalog is valid, covers the CKAN strings the portal renames (Log in → 登录, Follow →
  关注, Organizations → 数源单位), and the compiled .mo (deploy/setup.sh) matches it.

Files only (no CKAN app, no database): fast, runs with the unit tests.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
EXT = ROOT / "ckanext-sanyi" / "ckanext" / "sanyi"
OURS = EXT / "i18n" / "zh_Hans_CN" / "LC_MESSAGES" / "ckanext-sanyi.po"
_CKAN_SPEC = importlib.util.find_spec("ckan")
assert _CKAN_SPEC is not None and _CKAN_SPEC.origin
CKAN_PO = Path(_CKAN_SPEC.origin).parent / "i18n" / "zh_Hans_CN" / "LC_MESSAGES" / "ckan.po"

_STR = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
GETTEXT = re.compile(r"(?<![\w.])(?:_|gettext)\(\s*" + _STR + r"\s*[,)]")
PAIR = re.compile(r"sanyi_t\(\s*" + _STR + r"\s*,\s*" + _STR + r"\s*\)")
CJK_PUNCT = re.compile(r"[，。：；、（）【】“”！？]")
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH_REPLACED = ("登陆", "追随")


def _literal(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _templates() -> list[Path]:
    return sorted(p for p in EXT.rglob("*.html") if "/public/" not in str(p))


def _catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as f:
        cat = read_po(f)
    out: dict[str, str] = {}
    for m in cat:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        value = m.string if isinstance(m.string, str) else (m.string[0] if m.string else "")
        out[key] = value or ""
    return out


@pytest.fixture(scope="module")
def translations() -> dict[str, str]:
    merged = _catalog(CKAN_PO)
    merged.update({k: v for k, v in _catalog(OURS).items() if v})
    return merged


def test_our_templates_have_strings_to_check():
    assert len(_templates()) > 50
    pairs = sum(len(PAIR.findall(p.read_text(encoding="utf-8"))) for p in _templates())
    assert pairs > 500


def test_every_gettext_string_of_our_templates_has_a_chinese_entry(translations):
    missing = []
    for path in _templates():
        for token in GETTEXT.findall(path.read_text(encoding="utf-8")):
            text = _literal(token)
            if not translations.get(text):
                missing.append(f"{path.relative_to(EXT)}: {text!r}")
    assert not missing, "no zh_Hans_CN entry (add it to ckanext-sanyi.po):\n" + "\n".join(missing)


def test_every_bilingual_pair_has_both_languages():
    bad = []
    for path in _templates():
        for zh_token, en_token in PAIR.findall(path.read_text(encoding="utf-8")):
            zh, en = _literal(zh_token), _literal(en_token)
            where = f"{path.relative_to(EXT)}: {zh!r} / {en!r}"
            if not zh.strip() and en.strip():
                bad.append(f"{where}: no Chinese")
            elif len(zh.strip()) > 3 and not en.strip():  # a measure word (个, 项) may go
                bad.append(f"{where}: no English")
            elif any(w in zh for w in ZH_REPLACED):
                bad.append(f"{where}: {'/'.join(ZH_REPLACED)} in the Chinese")
            elif CJK_PUNCT.search(en) and not CJK.search(en):  # unless it quotes Chinese
                bad.append(f"{where}: Chinese punctuation in the English")
    assert not bad, "\n".join(bad)


def test_our_catalog_renames_ckan_words(translations):
    for msgid, zh in {"Log in": "登录", "Login": "登录", "Follow": "关注",
                      "Unfollow": "取消关注", "Organizations": "数源单位",
                      "Unpublish": "撤回发布", "No activity found": "暂无动态",
                      "All activity types": "全部动态类型", "Reorder resources": "调整资源顺序",
                      "What are datasets?": "什么是数据资源？", "Product": "产品"}.items():
        assert translations.get(msgid) == zh, msgid
    assert not [k for k, v in _catalog(OURS).items() if any(w in v for w in ZH_REPLACED)]


def test_the_compiled_catalog_matches_the_po():
    mo = OURS.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run deploy/setup.sh (pybabel compile)"
    with mo.open("rb") as f:
        compiled = {(m.id if isinstance(m.id, str) else m.id[0]):
                    (m.string if isinstance(m.string, str) else m.string[0])
                    for m in read_mo(f) if m.id}
    wanted = {k: v for k, v in _catalog(OURS).items() if v}
    assert compiled == wanted, "the .mo is stale: run deploy/setup.sh (pybabel compile)"
