"""The progress report as the API gives it: its record and the renderers, in one object."""

from __future__ import annotations

import json
from typing import Any

import attrs

from rectflow._render import html as _html
from rectflow._render import markdown as _markdown
from rectflow._render.prose import headline
from rectflow._render.schema import report_schema
from rectflow._views.report import ReportData


@attrs.frozen
class Report:
    """A progress report as of a day, computed by replaying history.

    Build it with :meth:`rectflow.Ledger.report`; read it with :meth:`to_dict`,
    :meth:`to_json`, :meth:`to_markdown` or :meth:`to_html`.

    Attributes:
        data: The figures, a typed record whose fields are the keys of :meth:`to_dict`.
        lang: The default language of the rendered text.
    """

    data: ReportData
    lang: str = "zh"

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-native data.

        Keys: ``inspection``, ``title``, ``as_of``, ``feedback_at``, ``report_due``,
        ``report_overdue``, ``report_submitted``, ``declared``, ``total``, ``itemized``,
        ``not_itemized``,
        ``undeclared_gap`` (declared minus on the ledger), ``by_state`` (every state),
        ``completed`` (completed + rechecked), ``staged``, ``open``, ``overdue``,
        ``cancelled``, ``completion_rate``, ``on_time``, ``late_completions``,
        ``on_time_rate``, ``rebounds``, ``by_aspect`` (per aspect, with its
        categories), ``rules_adopted``, ``plans_adopted``, ``documents``,
        ``recurring_measures`` (``kept`` and ``missed``), ``findings`` (one row per
        finding on the ledger, with its latest note), ``burndown`` (``open`` and
        ``planned``: ``[day, count]`` change points), and ``schema_version``. The JSON
        Schema is :meth:`json_schema`; ``docs/reference/report-schema.md`` describes it.
        """
        return self.data.to_dict()

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) that :meth:`to_dict` and :meth:`to_json` follow.

        Shipped as ``rectflow/_render/schema/report.schema.json``; its ``version``
        equals the reports' ``schema_version``, raised on every incompatible change.
        """
        return report_schema()

    def headline(self, lang: str | None = None) -> str:
        """The headline sentence, e.g. 对巡察反馈的28个问题,已完成整改18项… with the rates."""
        return headline(self.data, lang or self.lang)

    def to_html(self, lang: str | None = None, *, charts: bool = True) -> str:
        """The report as one self-contained HTML page (inline CSS and charts, A4 print).

        Args:
            lang: ``"zh"`` or ``"en"`` (default: the report's language).
            charts: Draw the burndown and per-aspect charts (needs the ``charts``
                extra; without it the page says so in one line).
        """
        return _html.render_report(self.data, lang or self.lang, charts=charts)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The figures as JSON text (UTF-8 kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_markdown(self, lang: str | None = None) -> str:
        """The report as Markdown in the seed's own wording (``zh``) or English."""
        return _markdown.render_report(self.data, lang or self.lang)
