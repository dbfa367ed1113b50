"""Renderers: HTML, charts, calendars, diagrams and the report's JSON schema (issue 9).

They take report and agenda data (plain dicts and records), never the ledger.
"""
