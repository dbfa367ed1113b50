"""The report's JSON Schema, shipped as ``report.schema.json`` beside this module."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from rectflow._views.report import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "report_schema"]


@cache
def _text() -> str:
    return resources.files(__name__).joinpath("report.schema.json").read_text("utf-8")


def report_schema() -> dict[str, Any]:
    """The JSON Schema of report data (a fresh copy)."""
    schema: dict[str, Any] = json.loads(_text())
    return schema
