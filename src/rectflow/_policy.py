"""Policies: the settings a workflow runs under, as data.

A :class:`Policy` is a frozen record; :func:`load_policy` reads one from TOML
and :func:`policy_pack` returns one of the packs shipped in
``rectflow/policies/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs
import pendulum

from rectflow._i18n import LANGS, msg, translate
from rectflow.exceptions import InvalidInput, PolicyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from rectflow.calendar import Calendar

UNITS: Final = ("days", "workdays", "months")


def _error(
    key: str, /, *, field: str | None = None, value: Any = None, **fields: Any
) -> PolicyError:
    """A :class:`PolicyError` in Chinese, with its English translation (issue 9)."""
    fields.update(field=field, value=value)
    return translate(PolicyError(msg(key, "zh", **fields), field=field, value=value), key, **fields)


_PERIOD_RE = re.compile(
    r"^\s*(?P<n>-?\d+)\s*(?P<unit>"
    r"working\s+days?|workdays?|business\s+days?|days?|months?|"
    r"个工作日|工作日|天|日|个月|月)\s*$",
    re.IGNORECASE,
)
_UNIT_WORDS: Final = {
    "working day": "workdays",
    "working days": "workdays",
    "workday": "workdays",
    "workdays": "workdays",
    "business day": "workdays",
    "business days": "workdays",
    "个工作日": "workdays",
    "工作日": "workdays",
    "day": "days",
    "days": "days",
    "天": "days",
    "日": "days",
    "month": "months",
    "months": "months",
    "个月": "months",
    "月": "months",
}


@attrs.frozen
class Period:
    """A length of time in one unit: calendar days, working days or months.

    Periods follow the Civil Code: the start day is not counted (art. 201), a
    period in months ends on the corresponding day or the month's last day
    (art. 202), and a period ending on a rest day ends on the next working day
    (art. 203).

    Attributes:
        amount: How many units.
        unit: ``"days"``, ``"workdays"`` or ``"months"``.
    """

    amount: int
    unit: str = attrs.field()

    @unit.validator
    def _check_unit(self, _attr: object, value: str) -> None:
        if value not in UNITS:
            raise translate(
                InvalidInput(msg("policy.unit_bad", "zh", value=value, known=UNITS), field="unit"),
                "policy.unit_bad",
                value=value,
                known=UNITS,
            )

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Read ``"3 months"``, ``"10 working days"``, ``"30 days"``, ``"10个工作日"``, ``"2个月"``.

        Raises:
            InvalidInput: When the text is not a period.
        """
        if isinstance(text, Period):
            return text
        m = _PERIOD_RE.match(str(text))
        if m is None:
            raise translate(
                InvalidInput(
                    msg("policy.period_bad", "zh", value=text), field="period", value=text
                ),
                "policy.period_bad",
                value=text,
            )
        unit = _UNIT_WORDS[re.sub(r"\s+", " ", m["unit"].lower())]
        return cls(int(m["n"]), unit)

    def after(self, day: dt.date, calendar: Calendar) -> dt.date:
        """The day this period ends when it starts on *day* (which is not counted)."""
        if self.unit == "workdays":
            return calendar.add_workdays(day, self.amount)
        if self.unit == "months":
            return calendar.add_months(day, self.amount)
        return calendar.add_days(day, self.amount)

    def plain_after(self, day: dt.date) -> dt.date:
        """Calendar arithmetic without working-day rolling (for ``workdays``: Mon–Fri)."""
        d = pendulum.Date(day.year, day.month, day.day)
        if self.unit == "months":
            return d.add(months=self.amount)
        if self.unit == "days":
            return d.add(days=self.amount)
        out, left = d, self.amount
        while left > 0:
            out = out.add(days=1)
            if out.isoweekday() < 6:
                left -= 1
        return out

    def __str__(self) -> str:
        """The canonical form, part of the policy's digest: ``3 months``, ``10 working days``.

        Shown to people a period is :meth:`text`, in their language.
        """
        unit = {"workdays": "working days"}.get(self.unit, self.unit)
        if abs(self.amount) == 1:
            unit = unit.removesuffix("s")
        return f"{self.amount} {unit}"

    def text(self, lang: str = "zh") -> str:
        """The period in words in *lang*: ``3个月``, ``10个工作日``; ``3 months``, ``1 day``."""
        key = f"period.{self.unit}"
        return msg(f"{key}.one" if abs(self.amount) == 1 else key, lang, n=self.amount)

    def zh(self) -> str:
        """E.g. ``3个月`` (:meth:`text` in Chinese)."""
        return self.text("zh")


def _period(value: object) -> Period:
    try:
        return Period.parse(value)  # type: ignore[arg-type]
    except InvalidInput as exc:
        raise _error("policy.period_bad", field="period", value=value) from exc


def _periods(value: Iterable[Any]) -> tuple[Period, ...]:
    return tuple(_period(p) for p in value)


def _ladder(value: Iterable[Any]) -> tuple[tuple[int, str], ...]:
    items: list[tuple[int, str]] = []
    try:
        for item in value:
            if isinstance(item, dict):
                days, level = item["after_workdays"], item["level"]
            else:
                days, level = item
            if not isinstance(days, int) or isinstance(days, bool) or days < 0:
                raise _error("policy.escalation_days", field="escalation", value=days)
            if not isinstance(level, str) or not level:
                raise _error("policy.escalation_level", field="escalation", value=level)
            items.append((days, level))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PolicyError):
            raise
        raise _error("policy.escalation_shape", field="escalation", value=value) from exc
    return tuple(sorted(items))


# -- issue 8: the role policy (who may fire what), as data

ROLES: Final = ("inspector", "leader", "owner", "checker")
"""Roles an actor can hold for an inspection.

巡察组/巡察办, 整改领导小组, 责任部门/责任人, 回头看/抽查.
"""

RELATIONS: Final = ("submitter", "responsible", "requester")
"""How an actor can be tied to a finding: submitted it, answers for it, requested its extension."""

RoleTable = tuple[tuple[str, tuple[str, ...]], ...]
"""``((event, (role or relation, …)), …)``, sorted: hashable, comparable, TOML-native."""

DEFAULT_ROLES: Final[RoleTable] = (
    ("add", ("inspector", "leader")),
    ("add_actor", ("inspector", "leader")),
    ("add_inspection", ("inspector",)),
    ("cancel", ("leader",)),
    ("change_inspection", ("inspector",)),
    ("extend", ("leader",)),
    ("rebound", ("checker", "inspector")),
    ("recheck", ("checker", "inspector")),
    ("record_measure", ("owner",)),
    ("reject", ("leader",)),
    ("revoke_role", ("inspector", "leader")),
    ("sign_off", ("leader",)),
    ("spot_check", ("checker", "inspector")),
    ("stage", ("owner",)),
    ("start", ("owner",)),
    ("submit", ("owner",)),
    ("submit_report", ("leader",)),
)
"""Which roles may fire each event (the README's "Who may do what" table)."""

DEFAULT_SEPARATION: Final[RoleTable] = (
    ("cancel", ("responsible",)),
    ("extend", ("requester",)),
    ("recheck", ("submitter",)),
    ("reject", ("submitter",)),
    ("sign_off", ("responsible", "submitter")),
)
"""Who may never fire an event, by relation to the finding (separation of duties)."""


def _role_table(
    value: object, allowed: tuple[str, ...], field: str, defaults: RoleTable
) -> RoleTable:
    """``{event: [names]}`` (or a :data:`RoleTable`) as a RoleTable over *defaults*.

    Events the value does not list keep their default; ``event = []`` clears one.
    """
    try:
        pairs: Iterable[Any] = value.items() if isinstance(value, dict) else value  # type: ignore[assignment]
        table = {
            str(k): tuple(sorted({str(v) for v in ([vs] if isinstance(vs, str) else vs)}))
            for k, vs in pairs
        }
    except (TypeError, ValueError) as exc:
        raise PolicyError(
            f"{field}: a table of event = [names], not {value!r}", field=field
        ) from exc
    for event, names in table.items():
        unknown = sorted(set(names) - set(allowed))
        if unknown:
            raise PolicyError(
                f"{field}.{event}: unknown name(s) {', '.join(unknown)}; use {', '.join(allowed)}",
                field=field,
                value=unknown,
            )
    return tuple(sorted((dict(defaults) | table).items()))


def _roles(value: object) -> RoleTable:
    return _role_table(value, ROLES, "roles", DEFAULT_ROLES)


def _separation(value: object) -> RoleTable:
    return _role_table(value, RELATIONS, "separation", DEFAULT_SEPARATION)


def _words(value: object, field: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{name: [words]}`` as sorted ``((name, (words…)), …)`` (hashable, TOML-native)."""
    if not isinstance(value, dict):
        raise PolicyError(f"import.{field}: a table of name = [words], not {value!r}", field=field)
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, words in value.items():
        items = [words] if isinstance(words, str) else words
        if not isinstance(items, (list, tuple)) or not all(
            isinstance(w, str) and w.strip() for w in items
        ):
            raise PolicyError(
                f"import.{field}.{name}: a list of words, not {words!r}", field=field, value=words
            )
        out.append((str(name), tuple(items)))
    return tuple(sorted(out))


@attrs.frozen(kw_only=True)
class ImportWords:
    """How an office's own sheet is read: its wording, as data (``[policy.import]``).

    Attributes:
        columns: Column key → further headers that name it (matched by meaning,
            besides the built-in ones), e.g. ``title = ["存在问题", "主要问题"]``.
        states: State → the phrases of 完成情况/状态 that mean it; the longest phrase
            at the start of a cell wins.
        footers: Text that starts a row that is not a finding (填表人, 注 …).
        immediate: Deadline words meaning 立行立改 (due after ``immediate_period``).
        long_term: Deadline words meaning 长期坚持.
    """

    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    states: tuple[tuple[str, tuple[str, ...]], ...] = ()
    footers: tuple[str, ...] = ()
    immediate: tuple[str, ...] = ()
    long_term: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: object, base: ImportWords | None = None) -> ImportWords:
        """Read ``[policy.import]``; tables and lists not given keep *base*'s.

        Raises:
            PolicyError: For an unknown key or a malformed table.
        """
        if not isinstance(data, dict):
            raise PolicyError(f"import: a table, not {data!r}", field="import")
        unknown = sorted(set(data) - {a.name for a in attrs.fields(cls)})
        if unknown:
            raise PolicyError(f"import: unknown key(s) {', '.join(unknown)}", field="import")
        base = base or cls()
        changes: dict[str, Any] = {}
        for key in ("columns", "states"):
            if key in data:
                merged = dict(getattr(base, key)) | dict(_words(data[key], key))
                changes[key] = tuple(sorted(merged.items()))
        for key in ("footers", "immediate", "long_term"):
            if key in data:
                changes[key] = dict(_words({key: data[key]}, key))[key]
        return attrs.evolve(base, **changes)

    def to_mapping(self) -> dict[str, Any]:
        """TOML/JSON-native data that :meth:`from_mapping` reads back."""
        return {
            "columns": {k: list(v) for k, v in self.columns},
            "states": {k: list(v) for k, v in self.states},
            "footers": list(self.footers),
            "immediate": list(self.immediate),
            "long_term": list(self.long_term),
        }


def _shipped_words() -> ImportWords:
    """The wording of the ``xuncha`` pack's ``[policy.import]`` (the default for every policy)."""
    text = resources.files("rectflow").joinpath("policies/xuncha.toml").read_text("utf-8")
    table = tomllib.loads(text).get("policy", {}).get("import", {})
    return ImportWords.from_mapping(table)


DEFAULT_IMPORT_WORDS: Final = _shipped_words()
"""The office wording every policy reads sheets with unless its pack adds its own."""


def _import_words(value: object) -> ImportWords:
    if isinstance(value, ImportWords):
        return value
    return ImportWords.from_mapping(value, DEFAULT_IMPORT_WORDS)


@attrs.frozen(kw_only=True)
class Policy:
    """The settings a workflow runs under (DOMAIN.md "Time and deadlines").

    Attributes:
        name: The policy's name, e.g. ``"xuncha"``.
        timezone: IANA zone in which dates are read (default Asia/Shanghai).
        calendar: ``"china"`` (official PRC working days) or ``"weekdays"`` (Monday–Friday).
        report_period: How long after feedback the progress report is due (2 months:
            巡视工作条例 2015 art. 27).
        look_back_wait: How long after sign-off a look-back may happen (convention: 3 months).
        checkpoint_interval: The longest interval between a staged result and its next
            checkpoint (convention: 3 months).
        reminder_window: How far ahead a deadline counts as "due soon" (10 working days).
        max_extensions: How many times a deadline may be extended (2).
        spot_check_sample: Default number of findings drawn for a spot check.
        escalation: The ladder for overdue findings: ``(working days overdue, level)``
            pairs, ascending; the highest reached applies.
        effectiveness_checks: Extra follow-up checks after completion (CAPA 30/60/90).
        source: Where the defaults come from (free text, shown in docs).
        roles: Which roles may fire each event, ``((event, roles), …)``; read from
            the ``[policy.roles]`` table (default :data:`DEFAULT_ROLES`).
        separation: Which relations to a finding bar an actor from an event
            (``submitter``, ``responsible``, ``requester``); ``[policy.separation]``.
        immediate_period: When a 立行立改 (``immediate``) finding whose sheet gives no
            day is due, counted from the feedback day (convention: 10 working days,
            the first fortnight of rectification).
        import_words: How office sheets are read (``[policy.import]``): header
            synonyms, progress phrases per state, footer words, deadline words.
    """

    name: str = "xuncha"
    timezone: str = attrs.field(default="Asia/Shanghai")
    calendar: str = "china"
    report_period: Period = attrs.field(default=Period(2, "months"), converter=_period)
    look_back_wait: Period = attrs.field(default=Period(3, "months"), converter=_period)
    checkpoint_interval: Period = attrs.field(default=Period(3, "months"), converter=_period)
    reminder_window: Period = attrs.field(default=Period(10, "workdays"), converter=_period)
    max_extensions: int = 2
    spot_check_sample: int = 3
    escalation: tuple[tuple[int, str], ...] = attrs.field(
        default=((0, "warning"), (10, "referral")), converter=_ladder
    )
    effectiveness_checks: tuple[Period, ...] = attrs.field(default=(), converter=_periods)
    source: str = ""
    roles: RoleTable = attrs.field(default=DEFAULT_ROLES, converter=_roles)
    separation: RoleTable = attrs.field(
        default=DEFAULT_SEPARATION,
        converter=_separation,
    )
    immediate_period: Period = attrs.field(default=Period(10, "workdays"), converter=_period)
    import_words: ImportWords = attrs.field(
        default=DEFAULT_IMPORT_WORDS, converter=_import_words, repr=False
    )

    @timezone.validator
    def _check_tz(self, _attr: object, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise _error("policy.tz_not_name", field="timezone", value=value)
        try:
            pendulum.timezone(value)
        except Exception as exc:
            raise _error("policy.tz_unknown", field="timezone", value=value) from exc

    def __attrs_post_init__(self) -> None:
        """Check the fields that depend on each other."""
        if self.calendar not in ("china", "weekdays"):
            raise _error("policy.calendar_unknown", field="calendar", value=self.calendar)
        for field in ("max_extensions", "spot_check_sample"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _error("policy.whole_number", field=field, value=value)
        for field in ("report_period", "look_back_wait", "reminder_window"):
            if getattr(self, field).amount < 0:
                raise _error("policy.negative", field=field)
        if self.checkpoint_interval.amount <= 0:
            raise _error("policy.positive", field="checkpoint_interval")
        if any(p.amount <= 0 for p in self.effectiveness_checks):
            raise _error("policy.positive", field="effectiveness_checks")

    def work_calendar(self) -> Calendar:
        """The working-day calendar this policy names."""
        from rectflow import calendar  # noqa: PLC0415 - calendar imports policy lazily too

        return calendar.china() if self.calendar == "china" else calendar.weekdays()

    def escalation_level(self, workdays_overdue: int) -> str | None:
        """The level of the ladder reached after *workdays_overdue* working days."""
        level = None
        for threshold, name in self.escalation:
            if workdays_overdue >= threshold:
                level = name
        return level


_FIELDS: Final = {a.name for a in attrs.fields(Policy)}


def policy_to_mapping(policy: Policy) -> dict[str, Any]:
    """A policy as TOML/JSON-native data that :func:`policy_from_mapping` reads back."""
    return {
        "name": policy.name,
        "timezone": policy.timezone,
        "calendar": policy.calendar,
        "report_period": str(policy.report_period),
        "look_back_wait": str(policy.look_back_wait),
        "checkpoint_interval": str(policy.checkpoint_interval),
        "reminder_window": str(policy.reminder_window),
        "max_extensions": policy.max_extensions,
        "spot_check_sample": policy.spot_check_sample,
        "escalation": [{"after_workdays": d, "level": lv} for d, lv in policy.escalation],
        "effectiveness_checks": [str(p) for p in policy.effectiveness_checks],
        "source": policy.source,
        "roles": {event: list(names) for event, names in policy.roles},
        "separation": {event: list(names) for event, names in policy.separation},
        # added later: written only when not the default, so older digests stay the same
        **(
            {"immediate_period": str(policy.immediate_period)}
            if policy.immediate_period != _DEFAULT_IMMEDIATE
            else {}
        ),
        **(
            {"import": policy.import_words.to_mapping()}
            if policy.import_words != DEFAULT_IMPORT_WORDS
            else {}
        ),
    }


_DEFAULT_IMMEDIATE: Final = Period(10, "workdays")


def policy_digest(policy: Policy) -> str:
    """SHA-256 of a policy's rules, as every ledger-level event on the chain records it.

    Its ``source`` (where it was loaded from) is left out: the same rules read from
    another path are the same policy.
    """
    data = policy_to_mapping(policy)
    data.pop("source", None)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def policy_from_mapping(data: dict[str, Any], *, origin: str = "policy") -> Policy:
    """Build a :class:`Policy` from a mapping (as read from TOML).

    Raises:
        PolicyError: For unknown keys or invalid values, naming them.
    """
    body = data.get("policy", data)
    if not isinstance(body, dict):
        raise _error("policy.not_table", origin=origin)
    body = dict(body)
    if "import" in body:  # [policy.import]: a Python keyword, so a field of another name
        body["import_words"] = body.pop("import")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise _error(
            "policy.unknown_keys", field=unknown[0], origin=origin, keys=", ".join(unknown)
        )
    try:
        return Policy(**body)
    except (InvalidInput, TypeError, ValueError, KeyError) as exc:
        texts = {
            lang: exc.in_lang(lang) if isinstance(exc, InvalidInput) else str(exc) for lang in LANGS
        }
        error = PolicyError(
            f"{origin}: {texts['zh']}",
            field=getattr(exc, "field", None),
            value=getattr(exc, "value", None),
        )
        error.translations = {lang: f"{origin}: {text}" for lang, text in texts.items()}
        raise error from exc


def load_policy(source: str | Path) -> Policy:
    """Load a policy from a TOML file, or a shipped pack by name (``"xuncha"``).

    Raises:
        PolicyError: When the file is missing, is not TOML, or does not validate.
    """
    if isinstance(source, str) and source in PACKS:
        return policy_pack(source)
    path = Path(source)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _error("policy.file_missing", path=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _error("policy.file_unreadable", path=path, reason=exc) from exc
    except tomllib.TOMLDecodeError as exc:
        raise _error("policy.not_toml", path=path, reason=exc) from exc
    return policy_from_mapping(data, origin=str(path))


PACKS: Final = ("capa", "hazard", "xuncha", "xunshi-2015")


def policy_pack(name: str) -> Policy:
    """One of the shipped policy packs: ``xuncha`` (default), ``xunshi-2015``, ``hazard``, ``capa``.

    Raises:
        PolicyError: For an unknown pack.
    """
    if name not in PACKS:
        raise _error("policy.unknown_pack", value=name, known=", ".join(PACKS))
    text = resources.files("rectflow").joinpath(f"policies/{name}.toml").read_text("utf-8")
    return policy_from_mapping(tomllib.loads(text), origin=f"pack {name}")
