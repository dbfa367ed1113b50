"""The report's JSON, Markdown and HTML, the headline and the agenda's text and calendar, byte
for byte as before the report became a typed record and its words moved to one catalogue
(issue 15). The files were written by ``tests/report_golden.py`` with the code before."""

from __future__ import annotations

import pytest

from report_golden import GOLDEN, LEDGERS, normalised, outputs


@pytest.mark.parametrize("name", sorted(LEDGERS))
def test_outputs_match_the_files_written_before(name):
    """Every output of the ledger equals its golden file."""
    produced = dict(outputs(name))
    kept = {p.name for p in GOLDEN.glob(f"{name}.*")}
    assert set(produced) == kept
    for file, text in produced.items():
        expected = (GOLDEN / file).read_bytes().decode("utf-8")
        assert normalised(file, text) == expected, file
