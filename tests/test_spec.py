"""Workflows as data (issue 15): one definition per workflow, rules and effects by name."""

from __future__ import annotations

import pathlib
import sys
import textwrap
from typing import Any

import attrs
import pendulum
import pytest

import rectflow
from rectflow import (
    EventSpec,
    FieldSpec,
    InvalidInput,
    Ledger,
    Owner,
    Policy,
    RuleViolation,
    StateSpec,
    TransitionNotAllowed,
    Workflow,
    WorkflowError,
    WorkflowSpec,
    _workflow,
)
from rectflow._model import STATE_LABELS, STATES
from rectflow.testing import ORACLE_EDGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2026, 1, 1, tz=TZ)
SRC = pathlib.Path(rectflow.__file__).parent


def at(day: str, hour: int = 9) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


def clock() -> pendulum.DateTime:
    return NOW


# ---------------------------------------------------------------- the shipped definition


def test_xuncha_reproduces_the_oracle_edges() -> None:
    """The definition's edges are exactly the hand-written oracle's (plus the import's attest)."""
    spec = WorkflowSpec.load("xuncha")
    edges = {
        (source, e.name): e.destination or source
        for e in spec.events
        if not e.import_only
        for source in e.sources
    }
    assert edges == dict(ORACLE_EDGES)
    attest = spec.event("attest")
    assert attest.import_only
    assert attest.sources == ("in_progress", "staged_result")
    assert attest.destination == "completed"
    workflow = Workflow()
    for (state, event), dest in ORACLE_EDGES.items():
        assert workflow.destination(state, event) == dest


def test_xuncha_states_payloads_and_labels() -> None:
    """States, labels and payload keys are the ones the rest of rectflow imports."""
    spec = WorkflowSpec.load("xuncha")
    assert spec.state_names == STATES
    assert {s.name: (s.zh, s.en) for s in spec.states} == dict(STATE_LABELS)
    assert spec.states_of_kind("open") == rectflow.OPEN_STATES
    assert spec.states_of_kind("closed") == rectflow.DONE_STATES
    assert spec.states_of_kind("terminal") == {"cancelled"}
    assert spec.initial == "assigned"
    assert _workflow.PAYLOAD_KEYS["extend"] == {"requested_by", "until", "reason"}
    assert _workflow.PAYLOAD_KEYS["spot_check"] == {"seed", "k", "drawn_on"}
    assert _workflow.PAYLOAD_KEYS["start"] == frozenset()
    assert set(_workflow.PAYLOAD_KEYS) == {*rectflow.EVENT_NAMES, "attest"}
    assert _workflow.EVENT_LABELS["sign_off"] == ("销号", "sign off")
    assert _workflow.EVENT_LABELS["add"] == ("列入台账", "add")
    assert {"next_checkpoint", "deadline", "until", "drawn_on"} == _workflow.DATE_ARGUMENTS
    assert {"attest"} == _workflow.IMPORT_ONLY
    assert spec.event("extend").fields == (
        FieldSpec("requested_by", "name"),
        FieldSpec("until", "date"),
        FieldSpec("reason", "text"),
    )
    guards = {name: [r.__rectflow_rule__ for r in rs] for name, rs in _workflow.RULES.items()}
    assert guards["sign_off"] == ["signer"]
    assert guards["attest"] == ["attested", "measures_done", "signer"]


def test_cli_aliases_come_from_the_definition() -> None:
    """The words the CLI accepts for events and states are the definition's aliases."""
    from rectflow._cli import words  # noqa: PLC0415

    assert dict(words.EVENT_ALIASES) == {
        "开始": "start",
        "阶段性成效": "stage",
        "取得阶段性成效": "stage",
        "提交": "submit",
        "申请销号": "submit",
        "反弹": "rebound",
        "回潮": "rebound",
        "延期": "extend",
        "不定期抽查": "spot_check",
        "修订": "amend",
    }
    assert dict(words.STATE_ALIASES) == {
        "已完成": "completed",
        "已销号": "completed",
        "已完成整改(已销号)": "completed",
        "完成整改": "completed",
        "阶段性成效": "staged_result",
        "已取得阶段性成效": "staged_result",
        "正在整改": "in_progress",
        "未开始": "assigned",
        "回头看": "rechecked",
    }


def test_roles_of_the_definition_match_the_default_policy() -> None:
    """The definition's roles and separation are the default policy's (which wins anyway)."""
    spec = WorkflowSpec.load("xuncha")
    policy = Policy()
    roles, separation = dict(policy.roles), dict(policy.separation)
    for e in spec.events:
        if e.name in roles:
            assert tuple(sorted(e.roles)) == roles[e.name], e.name
        if e.separation:
            assert (
                tuple(sorted(e.separation))
                == separation[{"attest": "sign_off"}.get(e.name, e.name)]
            )


def test_import_wording_matches_the_policy_pack() -> None:
    """The definition carries the import's state phrases and column synonyms of the 巡察 pack."""
    spec = WorkflowSpec.load("xuncha")
    pack = tomllib.loads((SRC / "policies" / "xuncha.toml").read_text(encoding="utf-8"))
    table = pack["policy"]["import"]
    assert {k: list(v) for k, v in spec.import_states} == table["states"]
    assert {k: list(v) for k, v in spec.import_columns} == table["columns"]


# ---------------------------------------------------------------- rules


def _ledger(workflow: Any = None, target: str = ":memory:") -> Ledger:
    ledger = Ledger.open(target, clock=clock, workflow=workflow)
    if not ledger.inspections():
        ledger.add_inspection(
            "R1", title="巡察", feedback_at="2025-01-02", at=at("2025-01-02"), actor="巡察办"
        )
    return ledger


def _add(ledger: Ledger, finding_id: str = "F1") -> None:
    ledger.add_finding(
        finding_id,
        inspection="R1",
        title="问题",
        kind="deadline",
        owner=Owner("张校长", "德育处", "王老师"),
        deadline="2025-03-31",
        actor="巡察办",
        at=at("2025-01-03"),
    )


@pytest.mark.parametrize(("lang", "word"), [("zh", "违反规则"), ("en", "violates rule")])
def test_a_rule_returning_false_is_a_violation_naming_it(lang: str, word: str) -> None:
    """False from a rule refuses the event: RuleViolation(.rule = its name), in the language."""

    @rectflow.rule("weekday_only")
    def weekday_only(ctx: rectflow.Context) -> bool:
        return ctx.day.weekday() < 5

    workflow = Workflow(rules={"start": [weekday_only]}, lang=lang)
    ledger = Ledger.open(":memory:", clock=clock, workflow=workflow, lang=lang)
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2025-01-02", at=at("2025-01-02"), actor="巡察办"
    )
    _add(ledger)
    with pytest.raises(RuleViolation) as info:
        ledger.fire("F1", "start", actor="王老师", at=at("2025-01-04"))  # a Saturday
    assert info.value.rule == "weekday_only"
    assert word in str(info.value)
    assert "weekday_only" in str(info.value)
    assert ledger.get("F1").state == "assigned"
    assert ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06")).state == "in_progress"


def test_a_rule_returning_anything_else_is_a_type_error() -> None:
    """A rule returning 3 is a TypeError naming it; nothing is written."""

    def three(ctx: rectflow.Context) -> int:
        return 3

    ledger = Ledger.open(":memory:", clock=clock, workflow=Workflow(rules={"start": [three]}))
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2025-01-02", at=at("2025-01-02"), actor="巡察办"
    )
    _add(ledger)
    with pytest.raises(TypeError, match="'three' returned 3"):
        ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
    assert ledger.get("F1").state == "assigned"


def test_rules_for_an_event_the_definition_lacks_are_refused() -> None:
    """Extra rules need an event the definition has (still: unknown event)."""
    with pytest.raises(InvalidInput, match="escalate"):
        Workflow(rules={"escalate": [lambda ctx: None]})


def test_history_is_read_only_when_a_rule_asks() -> None:
    """A workflow reads the history through its loader only when a rule reads ctx.history."""
    calls: list[int] = []

    def loader() -> list[rectflow.Event]:
        calls.append(1)
        return []

    workflow = Workflow()
    finding = workflow.create(
        rectflow.Event(
            "F1",
            "add",
            at("2025-01-03"),
            "巡察办",
            payload={
                "inspection": "R1",
                "title": "t",
                "kind": "deadline",
                "owner": Owner("a", "b", "c"),
                "deadline": "2025-03-31",
            },
        )
    )
    start = rectflow.Event("F1", "start", at("2025-01-06"), "c")
    assert workflow.apply(finding, start, history=loader).state == "in_progress"
    assert calls == []
    seen: list[int] = []

    def reads(ctx: rectflow.Context) -> None:
        seen.append(len(ctx.history))
        seen.append(len(ctx.history))

    assert Workflow(rules={"start": [reads]}).apply(finding, start, history=loader)
    assert calls == [1]  # read once, however often the rule asks
    assert seen == [0, 0]


# ---------------------------------------------------------------- definitions that do not load


def test_unknown_rule_is_a_typed_load_error(tmp_path: pathlib.Path) -> None:
    """A definition naming an unregistered rule, effect or state fails to load, saying which."""
    path = tmp_path / "bad.toml"
    path.write_text(
        'extends = "xuncha"\n[events.start]\nguards = ["no_such_rule"]\n', encoding="utf-8"
    )
    with pytest.raises(WorkflowError, match="no_such_rule") as info:
        WorkflowSpec.load(path)
    assert isinstance(info.value, InvalidInput)
    assert "no_such_rule" in info.value.in_lang("en")
    assert "unregistered rule" in info.value.in_lang("en")
    path.write_text(
        'extends = "xuncha"\n[events.start]\neffects = ["no_such_effect"]\n', encoding="utf-8"
    )
    with pytest.raises(WorkflowError, match="no_such_effect"):
        WorkflowSpec.load(path)
    path.write_text('extends = "xuncha"\n[events.start]\ndestination = "limbo"\n', encoding="utf-8")
    with pytest.raises(WorkflowError, match="limbo"):
        WorkflowSpec.load(path)
    with pytest.raises(WorkflowError):
        WorkflowSpec.load("no_such_workflow")
    with pytest.raises(WorkflowError):
        WorkflowSpec.load(tmp_path / "missing.toml")
    with pytest.raises(WorkflowError, match="limbo"):
        Ledger.open(
            ":memory:",
            workflow=WorkflowSpec.load("xuncha").extend(
                events=[EventSpec("go", sources="assigned", destination="limbo")]
            ),
        )


def test_bad_field_type_and_state_kind() -> None:
    """Field types and state kinds are checked when a definition is built."""
    base = WorkflowSpec.load("xuncha")
    with pytest.raises(WorkflowError, match="when"):
        base.extend(events=[EventSpec("go", sources="assigned", fields=[FieldSpec("x", "when")])])
    with pytest.raises(WorkflowError, match="limbo"):
        base.extend(states=[StateSpec("stuck", kind="limbo")])


# ---------------------------------------------------------------- the escalation app

ESCALATION = textwrap.dedent(
    """
    extends = "xuncha"
    name = "school"

    [states.escalated]
    kind = "open"
    zh = "挂牌督办"
    en = "escalated"

    [events.escalate]
    sources = ["in_progress", "staged_result"]
    destination = "escalated"
    fields = { reason = { type = "text", required = true }, until = "date" }
    guards = ["reason_required"]
    zh = "挂牌督办"
    en = "escalate"
    roles = ["inspector"]

    [events.de_escalate]
    sources = ["escalated"]
    destination = "in_progress"
    guards = ["note_required"]
    zh = "解除督办"
    en = "de-escalate"
    roles = ["inspector"]

    [events.submit]
    sources = ["in_progress", "staged_result", "escalated"]

    [events.sign_off]
    guards = ["signer", "two_evidence_files"]
    """
)


@rectflow.rule("two_evidence_files")
def two_evidence_files(ctx: rectflow.Context) -> bool:
    """Sign-off only on a submission with two evidence files."""
    submission = ctx.submission
    return submission is not None and len([e for e in submission.evidence if e.strip()]) >= 2


def _escalation_spec(tmp_path: pathlib.Path) -> WorkflowSpec:
    path = tmp_path / "school.toml"
    path.write_text(ESCALATION, encoding="utf-8")
    return WorkflowSpec.load(path)


def _python_spec() -> WorkflowSpec:
    base = WorkflowSpec.load("xuncha")
    return base.extend(
        name="school",
        states=[StateSpec("escalated", kind="open", zh="挂牌督办", en="escalated")],
        events=[
            EventSpec(
                "escalate",
                sources=("in_progress", "staged_result"),
                destination="escalated",
                fields=[FieldSpec("reason", "text", required=True), FieldSpec("until", "date")],
                guards=["reason_required"],
                zh="挂牌督办",
                en="escalate",
                roles=["inspector"],
            ),
            EventSpec(
                "de_escalate",
                sources="escalated",
                destination="in_progress",
                guards=["note_required"],
                zh="解除督办",
                en="de-escalate",
                roles=["inspector"],
            ),
            attrs.evolve(
                base.event("submit"), sources=("in_progress", "staged_result", "escalated")
            ),
            attrs.evolve(base.event("sign_off"), guards=("signer", "two_evidence_files")),
        ],
        rules={"two_evidence_files": two_evidence_files},
    )


def test_toml_and_python_extensions_are_the_same_definition(tmp_path: pathlib.Path) -> None:
    """``extends = "xuncha"`` and ``spec.extend(...)`` give the same definition and digest."""
    toml, python = _escalation_spec(tmp_path), _python_spec()
    assert toml.to_mapping() == python.to_mapping()
    assert toml.digest == python.digest
    assert toml.digest != WorkflowSpec.load("xuncha").digest
    assert toml.state_names[-1] == "escalated"
    assert ("two_evidence_files", 1) in toml.rule_versions


@pytest.mark.parametrize("make", ["toml", "python"])
def test_escalation_through_the_ledger(make: str, tmp_path: pathlib.Path) -> None:
    """An app's state, events and a rule reading the submission, used through Ledger.open."""
    spec = _escalation_spec(tmp_path) if make == "toml" else _python_spec()
    ledger = _ledger(spec)
    assert ledger.workflow.spec is spec
    _add(ledger)
    ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
    with pytest.raises(InvalidInput, match="reason"):
        ledger.fire("F1", "escalate", actor="巡察办", at=at("2025-01-07"))
    after = ledger.fire(
        "F1", "escalate", actor="巡察办", at=at("2025-01-07"), reason="逾期", until="2025-02-01"
    )
    assert after.state == "escalated"
    assert ledger.history("F1")[-1].payload == {"reason": "逾期", "until": "2025-02-01"}
    assert ledger.workflow.allowed("escalated") == ("submit", "de_escalate")
    assert list(ledger.findings(state="escalated")) == [after]
    with pytest.raises(TransitionNotAllowed):
        ledger.fire("F1", "sign_off", actor="陈主任", at=at("2025-01-08"))
    ledger.fire("F1", "de_escalate", actor="巡察办", at=at("2025-01-08"), note="已整改")
    ledger.fire("F1", "submit", actor="王老师", at=at("2025-01-09"), evidence=["照片.pdf"])
    with pytest.raises(RuleViolation) as info:
        ledger.fire("F1", "sign_off", actor="陈主任", at=at("2025-01-10"))
    assert info.value.rule == "two_evidence_files"
    ledger.fire("F1", "reject", actor="陈主任", at=at("2025-01-10"), note="材料不足")
    ledger.fire(
        "F1", "submit", actor="王老师", at=at("2025-01-11"), evidence=["照片.pdf", "制度.docx"]
    )
    assert ledger.fire("F1", "sign_off", actor="陈主任", at=at("2025-01-13")).state == "completed"
    assert ledger.verify().ok
    # the default workflow knows neither the state nor the events
    with pytest.raises(InvalidInput):
        Workflow().allowed("escalated")


def test_custom_state_reads_back_from_sqlite(tmp_path: pathlib.Path) -> None:
    """A finding in an app's state is stored, read back, counted and verified on SQLite."""
    spec = _escalation_spec(tmp_path)
    db = tmp_path / "school.db"
    with _ledger(spec, str(db)) as ledger:
        _add(ledger)
        _add(ledger, "F2")
        ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
        ledger.fire("F1", "escalate", actor="巡察办", at=at("2025-01-07"), reason="逾期")
    with Ledger.open(str(db), clock=clock, workflow=str(tmp_path / "school.toml")) as ledger:
        assert ledger.get("F1").state == "escalated"
        assert ledger.workflow.spec.digest == spec.digest
        assert ledger.verify().ok
        by_state = ledger.report("R1", as_of="2025-01-08").to_dict()["by_state"]
        assert by_state["escalated"] == 1
        assert by_state["assigned"] == 1
        ledger.fire("F1", "de_escalate", actor="巡察办", at=at("2025-01-08"), note="解除")
        assert ledger.get("F1").state == "in_progress"


def test_replay_gives_rules_the_history(tmp_path: pathlib.Path) -> None:
    """Workflow.replay passes each event the events before it: the sign-off rule holds on verify."""
    spec = _escalation_spec(tmp_path)
    ledger = _ledger(spec)
    _add(ledger)
    ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
    ledger.fire("F1", "submit", actor="王老师", at=at("2025-01-07"), evidence=["a.pdf", "b.pdf"])
    ledger.fire("F1", "sign_off", actor="陈主任", at=at("2025-01-08"))
    history = ledger.history("F1")
    assert Workflow(spec=spec).replay(history).state == "completed"
    # the same history with one evidence file on the submission breaks the rule on replay
    thin = [attrs.evolve(e, evidence=("a.pdf",)) if e.name == "submit" else e for e in history]
    with pytest.raises(RuleViolation) as info:
        Workflow(spec=spec).replay(thin)
    assert info.value.rule == "two_evidence_files"
    assert Workflow(spec=spec).replay(thin, check=False).state == "completed"


# ---------------------------------------------------------------- the digest


def test_digest_is_stable_and_follows_rule_versions(tmp_path: pathlib.Path) -> None:
    """The digest is the same for the same definition and changes with a rule's version."""
    assert WorkflowSpec.load("xuncha").digest == WorkflowSpec.load("xuncha").digest
    assert len(WorkflowSpec.load("xuncha").digest) == 64

    @rectflow.rule("versioned_check")
    def v1(ctx: rectflow.Context) -> None:
        return None

    path = tmp_path / "v.toml"
    path.write_text(
        'extends = "xuncha"\n[events.start]\nguards = ["versioned_check"]\n', encoding="utf-8"
    )
    first = WorkflowSpec.load(path)
    assert WorkflowSpec.load(path).digest == first.digest

    @rectflow.rule("versioned_check", version=2)
    def v2(ctx: rectflow.Context) -> None:
        return None

    second = WorkflowSpec.load(path)
    assert ("versioned_check", 2) in second.rule_versions
    assert second.digest != first.digest
    path.write_text(
        'extends = "xuncha"\n[events.start]\nguards = ["versioned_check@1"]\n', encoding="utf-8"
    )
    pinned = WorkflowSpec.load(path)
    assert ("versioned_check", 1) in pinned.rule_versions
    assert Workflow(spec=pinned).rules["start"] == (v1,)


def test_bad_registration_is_refused() -> None:
    """Rule names and versions are checked when registered."""
    with pytest.raises(WorkflowError):
        rectflow.rule("Not A Name")
    with pytest.raises(WorkflowError):
        rectflow.effect("fine", version=0)


# ---------------------------------------------------------------- no change to rectflow


def _tree(root: pathlib.Path) -> dict[str, bytes]:
    files = [*root.rglob("*.py"), *root.rglob("*.toml"), *root.rglob("*.typed")]
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(files)}


def test_adding_an_event_needs_no_change_to_rectflow(tmp_path: pathlib.Path) -> None:
    """One event (TOML + a rule and an effect written here) is fired, stored, replayed, verified.

    Every file under ``src/rectflow`` is the same before and after.
    """
    before = _tree(SRC)

    @rectflow.rule("office_hours")
    def office_hours(ctx: rectflow.Context) -> bool:
        return 8 <= ctx.event.at.hour < 18

    @rectflow.effect("count_talks")
    def count_talks(finding: rectflow.Finding, event: rectflow.Event, *, timezone: str) -> Any:
        return {"extra": {**finding.extra, "约谈": str(int(finding.extra.get("约谈", "0")) + 1)}}

    path = tmp_path / "talk.toml"
    path.write_text(
        textwrap.dedent(
            """
            extends = "xuncha"
            [events.talk]
            sources = ["in_progress", "staged_result"]
            destination = "="
            fields = { topic = { type = "text", required = true }, on = "date" }
            guards = ["note_required", "office_hours"]
            effects = ["count_talks"]
            zh = "约谈"
            en = "talk"
            """
        ),
        encoding="utf-8",
    )
    db = tmp_path / "talk.db"
    with _ledger(path, str(db)) as ledger:
        _add(ledger)
        ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
        with pytest.raises(RuleViolation) as info:
            ledger.fire("F1", "talk", actor="巡察办", at=at("2025-01-07", 20), note="n", topic="t")
        assert info.value.rule == "office_hours"
        with pytest.raises(InvalidInput, match="on"):
            ledger.fire(
                "F1", "talk", actor="巡察办", at=at("2025-01-07"), note="n", topic="t", on="soon"
            )
        done = ledger.fire(
            "F1",
            "talk",
            actor="巡察办",
            at=at("2025-01-07"),
            note="约谈责任人",
            topic="进度",
            on=pendulum.date(2025, 1, 7),
        )
        assert done.extra == {"约谈": "1"}
        assert done.state == "in_progress"
    with Ledger.open(str(db), clock=clock, workflow=path) as ledger:
        assert ledger.get("F1").extra == {"约谈": "1"}
        assert ledger.history("F1")[-1].payload == {"topic": "进度", "on": "2025-01-07"}
        assert ledger.verify().ok
        replayed = ledger.workflow.replay(ledger.history("F1"))
        assert replayed == ledger.get("F1")
    assert len(before) > 50
    assert _tree(SRC) == before


def test_roles_of_an_apps_event_come_from_its_definition(tmp_path: pathlib.Path) -> None:
    """In roles mode an event the policy does not name needs the definition's roles."""
    ledger = _ledger(_escalation_spec(tmp_path))
    _add(ledger)
    ledger.add_actor("巡察办", roles=["inspector"], actor="巡察办", at=at("2025-01-03", 10))
    ledger.add_actor("王老师", roles=["owner"], actor="巡察办", at=at("2025-01-03", 10))
    ledger.add_actor("陈主任", roles=["leader"], actor="巡察办", at=at("2025-01-03", 10))
    ledger.fire("F1", "start", actor="王老师", at=at("2025-01-06"))
    with pytest.raises(rectflow.PermissionDenied) as info:
        ledger.fire("F1", "escalate", actor="陈主任", at=at("2025-01-07"), reason="逾期")
    assert info.value.needed == ("inspector",)
    assert (
        ledger.fire("F1", "escalate", actor="巡察办", at=at("2025-01-07"), reason="逾期").state
        == "escalated"
    )
    assert ledger.verify().ok
