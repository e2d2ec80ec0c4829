"""``ckan sanyi report quarterly 2026Q4`` / ``annual 2026`` / ``disclosure 2026``.

Builds the report's figures (each step shown as it goes), prints its key figures and
writes its PDF and XLSX (``--out DIR``, default the current directory). ``--submit AS``
submits it in the name of operator staff ``AS`` (frozen and audited, as the page does).
"""
from __future__ import annotations

import time
from pathlib import Path

import click

__all__ = ["report"]


@click.group(short_help="报告 reports: quarterly, annual, disclosure")
def report() -> None:
    """The operator's reports (季度报告、年度运营报告、年度公开)."""


def _run(kind: str, period: str, out: str, lang: str, submit_as: str | None) -> None:
    import ckan.model as model

    from ...common.money import format_yuan
    from ...common.user import as_user
    from ...domain.errors import DomainError
    from . import build, render, service
    started = time.monotonic()

    def progress(step: str) -> None:
        click.echo(f"  [{time.monotonic() - started:6.1f}s] {step}")

    try:
        chosen = service.period_of(kind, period)
    except DomainError as err:
        raise click.BadParameter(f"{err.zh} / {err.en}", param_hint="PERIOD") from None
    zh = lang.startswith("zh")
    click.echo(f"{chosen.title(zh)} ({chosen.first} — {chosen.last})")
    if submit_as:
        user = as_user(submit_as)
        if user is None or not service.may_submit(user):
            raise click.BadParameter("not operator staff / 不是运营机构工作人员",
                                     param_hint="--submit")
        try:
            row = service.submit(user, kind, period, progress=progress)
            model.Session.commit()
        except DomainError as err:
            model.Session.rollback()
            raise click.ClickException(f"{err.zh} / {err.en}") from None
        click.echo(f"submitted / 已提交: pdf sha256 {row['pdf_sha256']}")
        figures = service.stored(chosen)["figures"]  # type: ignore[index]
    else:
        stored = service.stored(chosen)
        figures = stored["figures"] if stored else build.build(
            chosen, rules=service.rules(), progress=progress)
        if stored:
            click.echo("submitted earlier: the stored figures / 已提交：使用冻结的数据")
    for item in figures["summary"]:
        label = item["label"][0 if zh else 1]
        value = f"{format_yuan(item['value'])} yuan" if item["money"] else f"{item['value']:,}"
        click.echo(f"  {label}: {value}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"sanyi-{chosen.kind}-{chosen.key}{'' if zh else '-en'}"
    progress("xlsx")
    base.with_suffix(".xlsx").write_bytes(render.xlsx(figures, zh))
    progress("pdf (WeasyPrint)")
    base.with_suffix(".pdf").write_bytes(render.pdf(figures, zh))
    progress(f"written {base}.pdf, {base}.xlsx")


def _command(kind: str, example: str) -> click.Command:
    @click.command(kind, help=f"Build the {kind} report of PERIOD (e.g. {example}).")
    @click.argument("period")
    @click.option("--out", default=".", show_default=True, help="folder of the PDF and XLSX")
    @click.option("--lang", default="zh_Hans_CN", type=click.Choice(["zh_Hans_CN", "en"]),
                  show_default=True)
    @click.option("--submit", "submit_as", default=None, metavar="USER",
                  help="submit (freeze) it as this operator staff member")
    def command(period: str, out: str, lang: str, submit_as: str | None) -> None:
        _run(kind, period, out, lang, submit_as)
    return command


for _kind, _example in (("quarterly", "2026Q4"), ("annual", "2026"), ("disclosure", "2026")):
    report.add_command(_command(_kind, _example))
