"""The workflow under random event sequences, checked against the hand-written oracle."""

from __future__ import annotations

from rectflow.testing import LedgerStateMachine

TestLedgerStateMachine = LedgerStateMachine.TestCase
