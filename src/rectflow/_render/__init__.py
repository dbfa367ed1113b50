"""Renderers: Markdown, HTML, charts, calendars, diagrams and the report's JSON schema.

They take the views' records (a report's :class:`~rectflow._views.report.ReportData`, an
agenda), never the ledger, and take every word from the one catalogue (``rectflow._i18n``).
The public :class:`~rectflow.Report` and :class:`~rectflow.Agenda` are here: a record with
its renderers.
"""
