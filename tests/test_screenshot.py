"""A real browser (issue 9): the demo report in headless Chromium, screenshotted."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "screenshot-report"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


@pytest.fixture(scope="module")
def chromium() -> str:
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set: Chromium must be installed (.ci/run installs it)")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    return found


def shoot(chromium: str, png: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--chromium", chromium, "-o", str(png), *extra],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_report_in_chromium(chromium: str, tmp_path: Path, lang: str) -> None:
    """The page has its headline, both charts decoded, no console error; the PNG is the page."""
    png = tmp_path / f"report-{lang}.png"
    code, found, err = shoot(chromium, png, "--lang", lang)
    assert code == 0, (found, err)
    headline = str(found["headline"])
    if lang == "zh":
        assert headline.startswith("对巡察反馈的28个问题,已完成整改18项,其余10项已取得阶段性成效")
        assert "整改完成率64.29%(18/28)" in headline
    else:
        assert headline.startswith("Of the 28 problems in the feedback: 18 completed")
    charts = found["charts"]
    assert isinstance(charts, list)
    assert [c["id"] for c in charts] == ["chart-burndown", "chart-aspects"]
    assert all(c["complete"] and c["width"] > 300 and c["height"] > 100 for c in charts)
    assert found["console_errors"] == []
    assert found["charts_note"] is None
    width, height = png_size(png)
    assert width == 900
    assert height == found["height"]
    assert height > 1500  # the whole page, not the first screen


def test_the_check_catches_console_errors_and_missing_charts(chromium: str, tmp_path: Path) -> None:
    """A page that logs an error and lacks charts fails the script's check (exit 1)."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p id='headline'>x</p>"
        "<img class='chart' src='missing.svg'>"
        "<script>console.error('boom')</script></body></html>",
        encoding="utf-8",
    )
    code, found, _ = shoot(chromium, tmp_path / "broken.png", "--html", str(page))
    assert code == 1
    assert "boom" in found["console_errors"]
    assert any("missing.svg" in e for e in found["console_errors"])  # the failed load
    assert found["charts"] == [{"id": None, "complete": True, "width": 0, "height": 0}]


def _drawn(glyph_ids: list[str], text: str) -> dict[str, bool]:
    """Which characters of *text* a chart drew (its glyphs are paths named font-glyph index)."""
    from matplotlib import font_manager  # noqa: PLC0415

    from rectflow._render import charts  # noqa: PLC0415

    path = font_manager.findfont(
        font_manager.FontProperties(family=charts.font_family()), fallback_to_default=False
    )
    font = font_manager.get_font(path)
    cmap = font.get_charmap()
    ids = set(glyph_ids)
    return {ch: f"{font.postscript_name}-{cmap[ord(ch)]:x}" in ids for ch in text}


def test_imported_ledger_report_reads_as_a_submitted_document(
    chromium: str, tmp_path: Path
) -> None:
    """An imported 台账's report: headings as written, titles listed, Chinese axes, a 落款."""
    sys.path.insert(0, str(Path(__file__).parent))
    from report_support import ASPECTS, UNIT, imported_ledger  # noqa: PLC0415

    ledger, facts = imported_ledger(tmp_path)
    page = tmp_path / "report.html"
    page.write_text(ledger.report("R1", as_of=facts["as_of"]).to_html(), encoding="utf-8")
    png = tmp_path / "imported.png"
    code, found, err = shoot(chromium, png, "--html", str(page))
    assert code == 0, (found, err)
    # the office's own numbering, used as written: never 第一方面问题:第一方面 nor (一)(一)
    headings = found["headings"]
    assert isinstance(headings, list)
    assert headings == [h for aspect, category in ASPECTS.values() for h in (aspect, category)]
    text = str(found["text"])
    assert "方面问题:第" not in text
    assert not any(d in text for d in ("(一)(一)", "(一)（一）"))
    # the overdue list: id and title, in the order people read ids
    assert found["overdue"] == [f"{fid} {title}" for fid, title in facts["overdue"]]
    # the 落款: the unit and the day in words; "generated by" only in the metadata
    assert str(found["signature"]).split() == [UNIT, "二〇二四年三月一日"]
    assert str(found["generator"]).startswith("rectflow ")
    assert "rectflow" not in text
    # the burndown's axes in Chinese (年/月 dates, 日期, 导入), no English month names
    burndown = found["glyphs"][0]  # type: ignore[index]
    drawn = _drawn(burndown, "年月日期导入问题数Jan")
    assert all(drawn[ch] for ch in "年月日期导入问题数"), drawn
    assert not any(drawn[ch] for ch in "Jan"), drawn
    assert png_size(png)[1] == found["height"]
