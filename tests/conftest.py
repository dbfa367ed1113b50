"""Test configuration: hypothesis profiles, the PostgreSQL server, shared fixtures."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# `ci`: what CI runs (CI=true picks it); `dev`: quick local runs.
# RECTFLOW_HYPOTHESIS_PROFILE overrides either.
settings.register_profile(
    "ci",
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("RECTFLOW_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

# ---- fixtures shared by the storage tests live below this line ----
