"""Message catalogue: Chinese (``zh``, the default) and English (``en``)."""

from __future__ import annotations

from typing import Any, Final

LANGS: Final = ("zh", "en")

_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # input
    "naive_time": (
        "{field}: 时间 {value!r} 缺少时区(请写成 2024-03-01T10:00:00+08:00 这样的形式)",
        "{field}: time {value!r} has no UTC offset (write it like 2024-03-01T10:00:00+08:00)",
    ),
    "bad_time": ("{field}: {value!r} 不是有效的时间", "{field}: {value!r} is not a valid time"),
    "bad_date": (
        "{field}: {value!r} 不是有效的日期(格式 YYYY-MM-DD)",
        "{field}: {value!r} is not a valid date (format YYYY-MM-DD)",
    ),
    "not_a_date": (
        "{field}: 需要日期而不是时间: {value!r}",
        "{field}: expected a date, not a time: {value!r}",
    ),
    "empty": ("{field} 不能为空", "{field} must not be empty"),
    "unknown_event": (
        "未知的事件 {value!r}; 可用事件: {known}",
        "unknown event {value!r}; known events: {known}",
    ),
    "unknown_state": (
        "未知的状态 {value!r}; 可用状态: {known}",
        "unknown state {value!r}; known states: {known}",
    ),
    "unknown_kind": (
        "{field}: 未知的类型 {value!r}; 可用: {known}",
        "{field}: unknown kind {value!r}; known: {known}",
    ),
    "unknown_lang": (
        "未知的语言 {value!r}; 可用: zh, en",
        "unknown language {value!r}; use zh or en",
    ),
    "unexpected_args": (
        "事件 {event} 不接受参数: {names}",
        "event {event} takes no argument(s): {names}",
    ),
    "bad_value": ("{field}: 无效的值 {value!r}", "{field}: invalid value {value!r}"),
    "duplicate_measure": ("措施编号 {value!r} 重复", "measure id {value!r} is duplicated"),
    "measure_progress": (
        "措施 {value!r}: 新增时不能带完成情况(done_at/established/occurrences); 请用 record_measure 事件记录",
        (
            "measure {value!r}: a new measure carries no progress "
            "(done_at/established/occurrences); record it with record_measure events"
        ),
    ),
    "policy_mismatch": (
        "本台账按政策 {name!r} 建立, 不能换用另一政策打开(规则是台账记录的一部分); 打开时不指定政策即可",
        (
            "this ledger was created under policy {name!r} and cannot be opened under another "
            "one (its rules are part of the record); open it without a policy"
        ),
    ),
    "bad_evidence": (
        "evidence 应为非空字符串的列表: {value!r}",
        "evidence must be a list of non-empty strings: {value!r}",
    ),
    "bad_deadline_spec": (
        "{field}: 无法理解的期限 {value!r}(可写日期 2024-01-31, 或 '10 working days'、'2 months'、'10个工作日'、'2个月')",
        "{field}: cannot read deadline {value!r} (use a date like 2024-01-31, or '10 working days', '2 months')",
    ),
    # not found / conflicts
    "finding_not_found": ("整改台账中没有编号为 {id!r} 的问题", "no finding {id!r} on the ledger"),
    "inspection_not_found": (
        "整改台账中没有编号为 {id!r} 的巡察",
        "no inspection {id!r} on the ledger",
    ),
    "duplicate_id": ("编号 {id!r} 已存在", "id {id!r} already exists"),
    "not_allowed": (
        "问题 {finding}: 当前状态「{state_label}」下不能执行「{event_label}」(可执行: {allowed})",
        "finding {finding}: cannot {event} while {state} (allowed: {allowed})",
    ),
    "conflict": (
        "问题 {finding} 已被他人修改: 期望版本 {expected}, 实际版本 {actual}; 请重新读取后再操作",
        (
            "finding {finding} was changed by someone else: expected version {expected}, "
            "found {actual}; reload it and decide again"
        ),
    ),
    # rules
    "rule.actor_required": ("事件必须有操作人(actor)", "an event needs a non-empty actor"),
    "rule.time_order": (
        "问题 {finding}: 事件时间 {at} 早于上一事件 {previous}",
        "finding {finding}: event time {at} is earlier than the previous event {previous}",
    ),
    "rule.not_in_future": (
        "问题 {finding}: 事件时间 {at} 晚于台账当前时间 {now}",
        "finding {finding}: event time {at} is in the future of the ledger clock ({now})",
    ),
    "rule.before_feedback": (
        "问题 {finding}: 时间 {at} 早于巡察反馈日期 {feedback}",
        "finding {finding}: time {at} is before the inspection feedback date {feedback}",
    ),
    "rule.note_required": (
        "问题 {finding}: 「{event_label}」需要填写说明(note)",
        "finding {finding}: {event} needs a note",
    ),
    "rule.evidence_required": (
        "问题 {finding}: 「{event_label}」需要提供佐证材料(evidence)",
        "finding {finding}: {event} needs evidence",
    ),
    "rule.reason_required": (
        "问题 {finding}: 「{event_label}」需要填写理由(reason)",
        "finding {finding}: {event} needs a reason",
    ),
    "rule.checkpoint_required": (
        "问题 {finding}: 阶段性成效需要下一个检查点(next_checkpoint)",
        "finding {finding}: a staged result needs a next_checkpoint",
    ),
    "rule.checkpoint_after_event": (
        "问题 {finding}: 下一个检查点 {checkpoint} 必须晚于事件日期 {day}",
        "finding {finding}: next checkpoint {checkpoint} must be after the event day {day}",
    ),
    "rule.checkpoint_within_interval": (
        "问题 {finding}: 下一个检查点 {checkpoint} 超出最长间隔{period}(最晚 {limit})",
        (
            "finding {finding}: next checkpoint {checkpoint} is beyond the longest interval of "
            "{period} (latest {limit})"
        ),
    ),
    "rule.measures_done": (
        "问题 {finding}: 仍有整改措施未完成: {pending}",
        "finding {finding}: measures not done yet: {pending}",
    ),
    "rule.signer_not_submitter": (
        "问题 {finding}: 销号人 {actor} 不能是提交人",
        "finding {finding}: {actor} submitted it and cannot sign it off",
    ),
    "rule.signer_not_responsible": (
        "问题 {finding}: 销号人 {actor} 不能是责任人",
        "finding {finding}: {actor} is the responsible person and cannot sign it off",
    ),
    "rule.rejecter_not_submitter": (
        "问题 {finding}: 退回人 {actor} 不能是提交人",
        "finding {finding}: {actor} submitted it and cannot reject it",
    ),
    "rule.look_back_wait": (
        "问题 {finding}: 销号后须满{period}才能回头看(最早 {earliest})",
        "finding {finding}: a look-back needs {period} after completion (not before {earliest})",
    ),
    "rule.rechecker_not_submitter": (
        "问题 {finding}: 回头看人员 {actor} 不能是提交人",
        "finding {finding}: {actor} submitted it and cannot recheck it",
    ),
    "rule.deadline_required": (
        "问题 {finding}: 「{event_label}」需要新的整改时限(deadline)",
        "finding {finding}: {event} needs a new deadline",
    ),
    "rule.deadline_after_event": (
        "问题 {finding}: 新的整改时限 {deadline} 必须晚于事件日期 {day}",
        "finding {finding}: the new deadline {deadline} must be after the event day {day}",
    ),
    "rule.extension_filed_in_time": (
        "问题 {finding}: 延期申请 {day} 晚于当前整改时限 {deadline}",
        "finding {finding}: the extension was filed on {day}, after the current deadline {deadline}",
    ),
    "rule.approver_not_requester": (
        "问题 {finding}: 延期的批准人 {actor} 不能是申请人",
        "finding {finding}: {actor} requested the extension and cannot approve it",
    ),
    "rule.max_extensions": (
        "问题 {finding}: 已延期 {count} 次, 达到上限 {limit} 次",
        "finding {finding}: already extended {count} times, the limit is {limit}",
    ),
    "rule.new_deadline_later": (
        "问题 {finding}: 新时限 {until} 必须晚于当前时限 {deadline}",
        "finding {finding}: the new deadline {until} must be later than the current {deadline}",
    ),
    "rule.requester_required": (
        "问题 {finding}: 延期需要申请人(requested_by)",
        "finding {finding}: an extension needs requested_by",
    ),
    "rule.seed_required": (
        "问题 {finding}: 抽查需要记录抽样种子(seed)",
        "finding {finding}: a spot check must record the seed of its draw",
    ),
    "rule.spot_check_draw": (
        "问题 {finding}: 种子 {seed} 的抽样(k、drawn_on)没有抽中该问题",
        "finding {finding}: the draw with seed {seed} (k, drawn_on) did not pick it",
    ),
    "rule.canceller_not_responsible": (
        "问题 {finding}: 责任人 {actor} 不能撤销自己负责的问题",
        "finding {finding}: {actor} is the responsible person and cannot cancel it",
    ),
    "rule.measure_unknown": (
        "问题 {finding}: 没有编号为 {measure!r} 的整改措施",
        "finding {finding}: no measure {measure!r}",
    ),
    "rule.measure_already_done": (
        "问题 {finding}: 措施 {measure} 已完成",
        "finding {finding}: measure {measure} is already done",
    ),
    "rule.measure_closed": (
        "问题 {finding}: 当前状态下只能记录周期性措施的执行",
        "finding {finding}: in this state only occurrences of recurring measures can be recorded",
    ),
    "rule.generic": (
        "问题 {finding}: 「{event_label}」违反规则 {rule}",
        "finding {finding}: {event} violates rule {rule}",
    ),
    "rule.inspection_unknown": ("没有编号为 {inspection!r} 的巡察", "no inspection {inspection!r}"),
    # issue 8: actors, roles, ledger events, anchors, evidence
    "denied.unregistered": (
        "{actor!r} 不是本台账登记的人员, 不能执行「{event}」({subject}); 需要角色: {needed}",
        "{actor!r} is not a registered actor and may not {event} ({subject}); needs: {needed}",
    ),
    "denied.role": (
        "{actor!r} 在 {at} 不具有「{event}」({subject}) 所需的角色 {needed} (巡察 {inspection})",
        (
            "{actor!r} does not hold a role {needed} needed to {event} ({subject}) at {at}"
            " (inspection {inspection})"
        ),
    ),
    "denied.relation": (
        "{actor!r} 是问题 {subject} 的{relation}, 不能执行「{event}」",
        "{actor!r} is the {relation} of finding {subject} and may not {event} it",
    ),
    "relation.submitter": ("提交人", "submitter"),
    "relation.responsible": ("责任人", "responsible person"),
    "relation.requester": ("延期申请人", "extension requester"),
    "unknown_role": (
        "未知的角色 {value!r}; 可用: {known}",
        "unknown role {value!r}; known roles: {known}",
    ),
    "role_held": (
        "{actor!r} 已具有巡察 {inspection} 的角色 {role}",
        "{actor!r} already holds role {role} for inspection {inspection}",
    ),
    "role_not_held": (
        "{actor!r} 没有巡察 {inspection} 的角色 {role}, 无可撤销",
        "{actor!r} holds no role {role} for inspection {inspection} to revoke",
    ),
    "no_change": (
        "巡察 {inspection}: 没有要修改的内容(declared_findings 或 feedback_at)",
        "inspection {inspection}: nothing to change (give declared_findings or feedback_at)",
    ),
    "bad_anchor": (
        "锚点应写作 COUNT:HASH 或 COUNT:HASH:MAC, 而不是 {value!r}",
        "an anchor is COUNT:HASH or COUNT:HASH:MAC, not {value!r}",
    ),
    "key_needed": (
        "锚点带有 MAC, 校验需要密钥(--key-file 或环境变量 RECTFLOW_HEAD_KEY)",
        "the anchor carries a MAC: verifying it needs the key (--key-file or RECTFLOW_HEAD_KEY)",
    ),
    "bad_key": ("密钥无效: {value}", "invalid key: {value}"),
    "evidence_file": (
        "无法读取证据文件 {value}: {error}",
        "cannot read evidence file {value}: {error}",
    ),
}


def msg(key: str, lang: str = "zh", /, **fields: Any) -> str:
    """Format message *key* in *lang* with *fields*."""
    zh, en = _MESSAGES[key]
    return (en if lang == "en" else zh).format(**fields)


def has(key: str) -> bool:
    """Whether the catalogue has *key*."""
    return key in _MESSAGES
