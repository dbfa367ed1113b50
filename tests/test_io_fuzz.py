"""A short seeded slice of the file fuzzer: ``make fuzz`` runs the same generators at scale."""

from __future__ import annotations

import pytest

from fuzz_support import FORMATS, SLOW, run

pytest.importorskip("openpyxl")

PER_FORMAT = 125
"""Inputs per format: 500 in all."""


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_files_import_cleanly_or_are_refused_typed(fmt, tmp_path):
    """Every generated file imports, or is refused with a RectflowError, the ledger unchanged."""
    stats = run(fmt, PER_FORMAT, seed=20_261_204, keep=tmp_path)
    assert stats.inputs == PER_FORMAT
    assert stats.failures == [], stats.failures[:3]
    assert (stats.untyped, stats.hangs, stats.changed) == (0, 0, 0)
    assert stats.imported + stats.refused == PER_FORMAT
    assert stats.refused > 0  # the generators do make bad files
    assert stats.slowest < SLOW
