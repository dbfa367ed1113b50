"""Reports and agendas of three ledgers, kept as files to compare the renderers against.

The files in ``tests/data/report-golden/`` were written by this module (run it as a script)
with the code as it was before the report became a typed record (issue 15), so a test
comparing today's output with them shows the JSON, Markdown, HTML and the agenda's text
and calendar unchanged, byte for byte. Charts are left out of the HTML: their SVG depends
on the fonts installed.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import tempfile
from collections.abc import Callable, Iterator

import pendulum

from rectflow import Ledger, Owner
from rectflow._demo import load_seed
from report_support import imported_ledger

GOLDEN = pathlib.Path(__file__).parent / "data" / "report-golden"
TZ = "Asia/Shanghai"
LANGS = ("zh", "en")


def _at(day: str, hour: int = 9) -> pendulum.DateTime:
    d = dt.date.fromisoformat(day)
    return pendulum.datetime(d.year, d.month, d.day, hour, tz=TZ)


def _seed() -> tuple[Ledger, str, str]:
    ledger = Ledger.open(clock=lambda: _at("2026-06-01"))
    seed = load_seed(ledger)
    return ledger, seed.inspection, str(seed.report_as_of)


def _office() -> tuple[Ledger, str, str]:
    with tempfile.TemporaryDirectory() as work:
        ledger, facts = imported_ledger(pathlib.Path(work))
    return ledger, "R1", facts["as_of"]


def _small() -> tuple[Ledger, str, str]:
    """More declared than on the ledger, a rebound, a cancellation, a late completion."""
    owner = Owner(leader="刘副校长", department="德育处", person="黄主任")
    ledger = Ledger.open(clock=lambda: _at("2026-06-01"))
    ledger.add_inspection(
        "R1", title="县委巡察", feedback_at="2024-03-01", declared_findings=5, at=_at("2024-03-01")
    )
    for fid, deadline in (("F1", "2024-03-29"), ("F2", "2024-04-30"), ("F3", "2024-05-31")):
        ledger.add_finding(
            fid,
            inspection="R1",
            title=f"问题{fid}",
            kind="deadline",
            owner=owner,
            deadline=deadline,
            actor="巡察办",
            aspect="第一方面",
            category="(一)类",
            at=_at("2024-03-04"),
        )
    for fid, sign in (("F1", "2024-04-02"), ("F2", "2024-03-25")):
        ledger.fire(fid, "start", actor="黄主任", at=_at("2024-03-05"))
        ledger.fire(fid, "submit", actor="黄主任", at=_at("2024-03-18"), evidence=["a.pdf"])
        ledger.fire(fid, "sign_off", actor="陈主任", at=_at(sign, 15))
    ledger.fire(
        "F2",
        "rebound",
        actor="陈主任",
        at=_at("2024-04-08"),
        evidence=["b.pdf"],
        deadline="2024-06-28",
    )
    ledger.fire("F3", "cancel", actor="陈主任", at=_at("2024-04-10"), reason="重复")
    return ledger, "R1", "2024-07-15"


LEDGERS: dict[str, Callable[[], tuple[Ledger, str, str]]] = {
    "seed": _seed,
    "office": _office,
    "small": _small,
}


def outputs(name: str) -> Iterator[tuple[str, str]]:
    """``(file name, text)`` of every output of ledger *name*."""
    ledger, inspection, as_of = LEDGERS[name]()
    report = ledger.report(inspection, as_of=as_of)
    yield f"{name}.json", report.to_json()
    yield f"{name}.compact.json", report.to_json(indent=None)
    agenda = ledger.agenda(as_of=as_of, upcoming=5)
    for lang in LANGS:
        yield f"{name}.{lang}.md", report.to_markdown(lang)
        yield f"{name}.{lang}.html", report.to_html(lang, charts=False)
        yield f"{name}.{lang}.headline.txt", report.headline(lang)
        yield f"{name}.{lang}.agenda.txt", agenda.to_text(lang)
        yield f"{name}.{lang}.ics", agenda.to_ics(lang)


def _html_without_version(text: str) -> str:
    """The HTML page with the generator's version blanked (it changes every release)."""
    from rectflow import __version__  # noqa: PLC0415

    return text.replace(f"rectflow {__version__}", "rectflow VERSION")


def normalised(file: str, text: str) -> str:
    """*text* as kept in the golden files."""
    return _html_without_version(text) if file.endswith(".html") else text


if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for ledger_name in LEDGERS:
        for file, text in outputs(ledger_name):
            (GOLDEN / file).write_text(normalised(file, text), encoding="utf-8", newline="")
            print(file, len(text))
