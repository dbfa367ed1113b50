"""Charts of a progress report, drawn with matplotlib (the ``charts`` extra) as SVG.

Two charts, both from report data (whose burndown is computed from the event log):

* a burndown of open findings per day, with the planned line (findings whose
  original deadline has not passed yet) and the report's due day;
* completion per aspect (completed, staged, other open), as stacked bars.

Chinese text is drawn with a CJK font: the Noto Sans CJK SC file shipped by
``mplfonts`` (part of the extra), else one of the usual CJK families installed
on the system. Text is written as paths (``svg.fonttype = "path"``), so the SVG
shows the same glyphs in any browser, with or without the font.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Final

from rectflow._i18n import msg
from rectflow._render.fmt import numbering, zh_num
from rectflow._views.report import Burndown, Point, ReportData

#: Families tried on the system when the packaged font is missing, best first.
SYSTEM_CJK_FAMILIES: Final = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)

_PACKAGED_FONT: Final = "fonts/NotoSansCJKsc-Regular.otf"


def _t(key: str, lang: str) -> str:
    return msg(f"chart.{key}", lang)


def available() -> bool:
    """Whether matplotlib (the ``charts`` extra) is installed."""
    return find_spec("matplotlib") is not None


@cache
def cjk_font() -> Path | None:
    """The CJK font file the charts use, or None when there is none.

    The packaged Noto Sans CJK SC (``mplfonts``) first, then the system's
    families in :data:`SYSTEM_CJK_FAMILIES` order.
    """
    if find_spec("mplfonts") is not None:
        packaged = resources.files("mplfonts").joinpath(_PACKAGED_FONT)
        if packaged.is_file():
            return Path(str(packaged))
    if not available():
        return None
    from matplotlib import font_manager  # noqa: PLC0415

    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in SYSTEM_CJK_FAMILIES:
        if family in by_name:
            return Path(by_name[family])
    return None


@cache
def font_family() -> str | None:
    """The family name matplotlib knows the CJK font by (registering the file once)."""
    path = cjk_font()
    if path is None:
        return None
    from matplotlib import font_manager  # noqa: PLC0415

    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


def _rc() -> Any:  # matplotlib types rcParams keys as literals
    family = font_family()
    return {
        "svg.fonttype": "path",
        "svg.hashsalt": "rectflow",
        "font.family": "sans-serif",
        "font.sans-serif": [*([family] if family else []), "DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": 9,
    }


def _svg(figure: Any) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: PLC0415

    FigureCanvasSVG(figure)
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = out.getvalue()
    return text[text.index("<svg") :]


def _day(day: dt.date) -> Any:
    """A day as a matplotlib date number."""
    from matplotlib.dates import date2num  # noqa: PLC0415

    return date2num(day)  # type: ignore[no-untyped-call]


def burndown_svg(data: ReportData, lang: str = "zh") -> str:
    """The burndown chart of report *data* as SVG text.

    Raises:
        ModuleNotFoundError: Without matplotlib (check :func:`available`).
    """
    import matplotlib as mpl  # noqa: PLC0415
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    series = data.burndown
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=(6.6, 2.8))
        ax = fig.add_subplot()
        days = [_day(d) for d, _ in series.open]
        ax.step(days, [n for _, n in series.open], where="post", label=_t("open", lang))
        if series.planned:
            ax.step(
                [_day(d) for d, _ in series.planned],
                [n for _, n in series.planned],
                where="post",
                linestyle="--",
                color="#888888",
                label=_t("planned", lang),
            )
        due = _day(data.report_due)
        ax.axvline(due, color="#c0392b", linewidth=1.2, label=_t("report_due", lang))
        _mark_imports(ax, series, lang)
        ax.set_title(_t("burndown", lang))
        ax.set_ylabel(_t("findings", lang))
        ax.set_xlabel(_t("date", lang))
        ax.set_ylim(bottom=0)
        ax.xaxis_date()
        locator = AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        if lang == "en":
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        else:
            ax.xaxis.set_major_formatter(_zh_dates())
        ax.grid(visible=True, axis="y", color="#dddddd")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
        return _svg(fig)


def _count_on(series: tuple[Point, ...], day: dt.date) -> int:
    """The value of a ``[day, count]`` step line on *day*."""
    count = 0
    for d, n in series:
        if d > day:
            break
        count = n
    return int(count)


def _mark_imports(ax: Any, series: Burndown, lang: str) -> None:
    """A point marked 导入 on each day an import took findings in (a snapshot, not a jump)."""
    for day in series.imported:
        x, y = _day(day), _count_on(series.open, day)
        ax.plot([x], [y], marker="o", color="#1f4e79", markersize=5, zorder=3)
        ax.annotate(
            _t("imported", lang),
            (x, y),
            xytext=(4, 6),
            textcoords="offset points",
            color="#1f4e79",
            fontsize=8,
        )


def zh_date_label(day: dt.date, previous: dt.date | None, *, year: bool = True) -> str:
    """A date tick in Chinese: ``2024年1月`` where the year starts or changes, else ``2月``.

    Ticks inside a month carry the day: ``1月22日``. With *year* False the year is
    left to the axis's offset text (every tick in one year).
    """
    month = f"{day.month}月" if day.day == 1 else f"{day.month}月{day.day}日"
    if year and (previous is None or previous.year != day.year):
        return f"{day.year}年{month}"
    return month


def _zh_dates() -> Any:
    """A matplotlib tick formatter writing dates the Chinese way (see :func:`zh_date_label`).

    When every tick falls in one year, the year is written once, at the axis's end.
    """
    from matplotlib.dates import num2date  # noqa: PLC0415
    from matplotlib.ticker import Formatter  # noqa: PLC0415

    class ZhDates(Formatter):
        offset = ""

        def __call__(self, x: float, pos: int | None = None) -> str:  # noqa: ARG002
            return zh_date_label(num2date(x).date(), None)  # type: ignore[no-untyped-call]

        def format_ticks(self, values: list[float]) -> list[str]:
            days = [num2date(v).date() for v in values]  # type: ignore[no-untyped-call]
            one_year = len({d.year for d in days}) == 1
            self.offset = f"{days[0].year}年" if days and one_year else ""
            return [
                zh_date_label(d, days[i - 1] if i else None, year=not one_year)
                for i, d in enumerate(days)
            ]

        def get_offset(self) -> str:
            return self.offset

    return ZhDates()


def aspects_svg(data: ReportData, lang: str = "zh") -> str:
    """Completion per aspect of report *data* as SVG text (stacked horizontal bars).

    Raises:
        ModuleNotFoundError: Without matplotlib (check :func:`available`).
    """
    import matplotlib as mpl  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    aspects = data.by_aspect
    with mpl.rc_context(_rc()):
        fig = Figure(figsize=(6.6, 1.2 + 0.4 * max(len(aspects), 1)))
        ax = fig.add_subplot()
        names = [_aspect_label(i, a.aspect, lang) for i, a in enumerate(aspects)][::-1]
        completed = [a.completed for a in aspects][::-1]
        staged = [a.staged for a in aspects][::-1]
        other = [a.total - a.completed - a.staged for a in aspects][::-1]
        ax.barh(names, completed, color="#2e7d32", label=_t("completed", lang))
        ax.barh(names, staged, left=completed, color="#f9a825", label=_t("staged", lang))
        ax.barh(
            names,
            other,
            left=[c + s for c, s in zip(completed, staged, strict=True)],
            color="#c62828",
            label=_t("other", lang),
        )
        for y, a in enumerate(aspects[::-1]):
            ax.text(a.total + 0.1, y, f"{a.completed}/{a.total}", va="center")
        ax.set_title(_t("aspects", lang))
        ax.set_xlabel(_t("findings", lang))
        ax.set_xlim(right=max([a.total for a in aspects] or [1]) * 1.15 + 0.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False)
        return _svg(fig)


def _aspect_label(i: int, name: str, lang: str) -> str:
    """The short label of the *i*-th aspect (the tables carry the full names).

    The number the name already begins with (``第二方面``, ``(二)``) when it has one.
    """
    own = numbering(name)
    if own is not None:
        return own
    return msg("chart.aspect", lang, n=i + 1, zh_n=zh_num(i))
