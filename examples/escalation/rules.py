"""The escalation app's rules: registered by name, for ``escalation.toml`` to name."""

from __future__ import annotations

import rectflow


@rectflow.rule("two_evidence_files", version=1)
def two_evidence_files(ctx: rectflow.Context) -> bool:
    """Sign-off only on a submission that brought at least two evidence files."""
    submission = ctx.submission
    return submission is not None and len([e for e in submission.evidence if e.strip()]) >= 2
