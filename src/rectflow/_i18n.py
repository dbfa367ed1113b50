"""Message catalogue: Chinese (``zh``, the default) and English (``en``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from rectflow.exceptions import RectflowError

E = TypeVar("E", bound="RectflowError")

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
    "import_inspection_missing": (
        "整改台账中没有编号为 {id!r} 的巡察; 导入时加上反馈日期即可创建(--feedback-at YYYY-MM-DD)",
        "no inspection {id!r}; give its feedback day to create it on import (--feedback-at DAY)",
    ),
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
    "time_conflict": (
        (
            "问题 {finding} 已有更晚的事件({previous}, 版本 {version}), 时间 {at} 的事件不能再记入;"
            "请重新读取后再操作(或不传 at, 由台账时钟记时)"
        ),
        (
            "finding {finding} already has a later event ({previous}, version {version}) than "
            "{at}; reload it and decide again (or send no at: the ledger's clock times it)"
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
    "rule.attest_import_only": (
        "问题 {finding}: 只有导入台账时才能记录「导入台账时已完成」",
        "finding {finding}: only an import records a completion attested by import",
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
    "rule.amend_empty": (
        "问题 {finding}: 「修订台账信息」需要至少一项改动(changes)",
        "finding {finding}: amend needs at least one change (changes)",
    ),
    "rule.amend_field": (
        "问题 {finding}: 不能修订字段 {field!r}; 可修订: {known}",
        "finding {finding}: field {field!r} cannot be amended; amendable: {known}",
    ),
    "rule.amend_shape": (
        "问题 {finding}: 字段 {field!r} 的改动应写作 {{old: 原值, new: 新值}}",
        "finding {finding}: the change of {field!r} must be {{old: …, new: …}}",
    ),
    "rule.amend_stale": (
        "问题 {finding}: 字段 {field!r} 的原值 {old!r} 与台账当前值 {current!r} 不符",
        "finding {finding}: the old value {old!r} of {field!r} is not the ledger's {current!r}",
    ),
    "rule.amend_unchanged": (
        "问题 {finding}: 字段 {field!r} 新旧值相同, 无需修订",
        "finding {finding}: {field!r} has the same old and new value",
    ),
    "rule.amend_value": (
        "问题 {finding}: 字段 {field!r} 的新值 {value!r} 无效",
        "finding {finding}: {value!r} is not a valid new value of {field!r}",
    ),
    "rule.generic": (
        "问题 {finding}: 「{event_label}」违反规则 {rule}",
        "finding {finding}: {event} violates rule {rule}",
    ),
    "rule.inspection_unknown": ("没有编号为 {inspection!r} 的巡察", "no inspection {inspection!r}"),
    # issue 9: policy and calendar errors in both languages (RectflowError.in_lang)
    "policy.period_bad": (
        "无法识别的期限 {value!r}(可写 '3 months'、'10 working days'、'30 days'、'10个工作日'、'2个月')",
        "cannot read period {value!r} (write '3 months', '10 working days', '30 days', '10个工作日', '2个月')",
    ),
    "policy.unit_bad": (
        "未知的期限单位 {value!r}; 可用: {known}",
        "unknown period unit {value!r}; use one of {known}",
    ),
    "policy.escalation_days": (
        "escalation: {value!r} 不是不小于 0 的工作日数",
        "escalation: {value!r} is not a number of working days ≥ 0",
    ),
    "policy.escalation_level": (
        "escalation: {value!r} 不是级别名称",
        "escalation: {value!r} is not a level name",
    ),
    "policy.escalation_shape": (
        "escalation: 每一级需要 after_workdays(整数)和 level",
        "escalation: each step needs after_workdays (a whole number) and level",
    ),
    "policy.tz_not_name": (
        "时区 {value!r} 不是 IANA 时区名(如 Asia/Shanghai)",
        "time zone {value!r} is not an IANA name (like Asia/Shanghai)",
    ),
    "policy.tz_unknown": (
        "未知的时区 {value!r}(如 Asia/Shanghai)",
        "unknown time zone {value!r} (like Asia/Shanghai)",
    ),
    "policy.calendar_unknown": (
        "未知的日历 {value!r}; 请用 'china' 或 'weekdays'",
        "unknown calendar {value!r}; use 'china' or 'weekdays'",
    ),
    "policy.whole_number": (
        "{field} 应为不小于 0 的整数, 而不是 {value!r}",
        "{field} must be a whole number ≥ 0, not {value!r}",
    ),
    "policy.negative": ("{field} 不能为负", "{field} cannot be negative"),
    "policy.positive": ("{field} 必须为正", "{field} must be positive"),
    "policy.not_table": (
        "{origin}: [policy] 必须是设置项的表",
        "{origin}: [policy] must be a table of settings",
    ),
    "policy.unknown_keys": (
        "{origin}: 未知的政策设置项: {keys}",
        "{origin}: unknown policy key(s): {keys}",
    ),
    "policy.file_missing": ("找不到政策文件: {path}", "policy file not found: {path}"),
    "policy.file_unreadable": (
        "{path}: 无法读取政策文件: {reason}",
        "{path}: cannot read the policy file: {reason}",
    ),
    "policy.not_toml": ("{path}: 不是有效的 TOML: {reason}", "{path}: not valid TOML: {reason}"),
    "policy.unknown_pack": (
        "未知的政策包 {value!r}; 可用: {known}",
        "unknown policy pack {value!r}; shipped: {known}",
    ),
    "cal.datetime_not_date": (
        "{field} 应为日期(date), 不能是带时刻的 datetime: {value!r}; 请先取其日期部分",
        "{field} must be a date, not a datetime with a time: {value!r}; take its date first",
    ),
    "cal.not_date": (
        "{field} 应为日期(datetime.date), 实际为 {type}: {value!r}",
        "{field} must be a datetime.date, not {type}: {value!r}",
    ),
    "cal.bool_not_int": (
        "{field} 应为整数, 实际为布尔值 {value!r}",
        "{field} must be an integer, not the boolean {value!r}",
    ),
    "cal.not_int": (
        "{field} 应为整数, 实际为 {type}: {value!r}",
        "{field} must be an integer, not {type}: {value!r}",
    ),
    "cal.out_of_range": (
        "计算结果超出可表示的日期范围 ({min} ~ {max})",
        "the result is outside the representable dates ({min} … {max})",
    ),
    "cal.rest_and_work": (
        "日期 {day} 不能同时是休息日和工作日",
        "{day} cannot be both a rest day and a working day",
    ),
    "cal.bounds": (
        "known_from ({start}) 不能晚于 known_until ({end})",
        "known_from ({start}) cannot be after known_until ({end})",
    ),
    "cal.no_holidays": (
        "已安装的 holidays 包没有中国的官方节假日安排数据",
        "the installed holidays package has no official Chinese holiday data",
    ),
    # ledger files: import and export (issue 7)
    "file.errors": (
        "{file}: 发现 {n} 处错误, 未写入任何内容",
        "{file}: {n} error(s) found, nothing was written",
    ),
    "file.more_errors": ("(仅列出前 {n} 处错误)", "(only the first {n} errors are listed)"),
    "file.unknown_format": (
        "无法识别文件格式 {value!r}; 可用: csv, xlsx, yaml(也可用 format= 指定)",
        "unknown file format {value!r}; use csv, xlsx or yaml (or pass format=)",
    ),
    "file.not_found": ("文件不存在或无法读取: {value}", "file not found or unreadable: {value}"),
    "file.needs_xlsx": (
        "读写 XLSX 需要安装 xlsx 扩展: pip install 'rectflow[xlsx]'",
        "XLSX needs the 'xlsx' extra: pip install 'rectflow[xlsx]'",
    ),
    "file.empty_file": ("文件为空", "the file is empty"),
    "file.encoding": (
        "文件编码无法识别: 请另存为 UTF-8 或 GB18030 编码的 CSV",
        "unrecognised encoding: save the CSV as UTF-8 or GB18030",
    ),
    "file.no_header": (
        "找不到表头行(应含 编号、问题、整改时限、责任部门 等列)",
        "no header row found (it should name columns like id, title, deadline, department)",
    ),
    "file.missing_column": ("缺少必填列「{name}」", "required column {name!r} is missing"),
    "file.missing_inspection": (
        "缺少必填列「巡察」; 加上该列, 或导入时指定巡察(--inspection R1)",
        "required column 巡察 (inspection) is missing; add it or name one (--inspection R1)",
    ),
    "file.unknown_column": (
        "未知的列 {value!r}; 删除该列, 或导入时允许多余的列(--allow-extra-columns)",
        "unknown column {value!r}; remove it or allow extra columns (--allow-extra-columns)",
    ),
    "file.duplicate_column": ("列 {value!r} 重复出现", "column {value!r} appears twice"),
    "file.ragged_row": (
        "本行有 {found} 个单元格, 表头有 {expected} 列",
        "this row has {found} cells but the header has {expected} columns",
    ),
    "file.required": ("「{name}」不能为空", "{name} must not be empty"),
    "file.duplicate_id": (
        "编号 {value!r} 在文件中重复(第 {first} 行已出现)",
        "id {value!r} appears twice in the file (first on row {first})",
    ),
    "file.id_exists": ("编号 {value!r} 已在台账中", "id {value!r} is already on the ledger"),
    "file.bad_date": (
        "{value!r} 不是有效的日期(可写 2024-01-31、2024/1/31、2024年1月31日、2024.1.31, 或期限如 2个月)",
        "{value!r} is not a valid date (write 2024-01-31, 2024/1/31, 2024年1月31日, 2024.1.31, or a period like 2个月)",
    ),
    "file.bad_time": (
        "{value!r} 不是有效的时间(写成 2024-01-31T10:00:00+08:00, 或只写日期)",
        "{value!r} is not a valid time (write 2024-01-31T10:00:00+08:00, or a date alone)",
    ),
    "file.naive_time": (
        "时间 {value!r} 缺少时区; 写成 2024-01-31T10:00:00+08:00, 或只写日期",
        "time {value!r} has no UTC offset; write 2024-01-31T10:00:00+08:00, or a date alone",
    ),
    "file.deadline_before_feedback": (
        "整改时限 {value} 早于巡察 {inspection} 的反馈日期 {feedback}",
        "deadline {value} is before the feedback day {feedback} of inspection {inspection}",
    ),
    "file.unknown_kind": (
        "未知的整改类型 {value!r}; 可用: 立行立改、限期整改、长期坚持",
        "unknown kind {value!r}; use 立行立改/immediate, 限期整改/deadline or 长期坚持/long_term",
    ),
    "file.unknown_state": (
        "未知的状态 {value!r}; 可用: {known}",
        "unknown state {value!r}; known: {known}",
    ),
    "file.unknown_inspection": (
        "台账中没有巡察 {value!r}; 先添加该巡察, 或用 --inspection 指定",
        "no inspection {value!r} on the ledger; add it first or pass --inspection",
    ),
    "file.inspection_mismatch": (
        "本行的巡察 {value!r} 与指定的巡察 {expected!r} 不一致",
        "this row's inspection {value!r} differs from the one given, {expected!r}",
    ),
    "file.long_term_kind": (
        "整改时限为「长期」, 整改类型却是 {value!r}",
        "deadline 长期 (long term) but kind {value!r}",
    ),
    "file.bad_value": ("无效的值 {value!r}", "invalid value {value!r}"),
    "file.cell_too_long": (
        "单元格有 {n} 个字符, 超过上限 {limit}",
        "the cell holds {n} characters, over the limit of {limit}",
    ),
    "file.too_many_rows": (
        "文件超过 {limit} 行的上限; 请拆分后分别导入",
        "the file has more than {limit} rows; split it and import the parts",
    ),
    "file.formula": (
        "单元格是公式 {value!r}; 台账只接受数值, 请把公式转换为值后再导入",
        "the cell is a formula {value!r}; ledgers take values: paste it as values and import again",
    ),
    "file.bad_xlsx": (
        "不是有效的 XLSX 文件(已损坏、被截断或不是 zip): {value}",
        "not a valid XLSX file (damaged, truncated or not a zip): {value}",
    ),
    "file.xml_entities": (
        "XLSX 中含有 XML 实体或 DTD 声明, 出于安全原因拒绝读取",
        "the XLSX contains XML entities or a DTD, refused for safety",
    ),
    "file.yaml_syntax": ("YAML 语法错误: {value}", "YAML syntax error: {value}"),
    "file.yaml_tag": (
        "YAML 中含有不允许的标签 {value!r}(只接受普通数据)",
        "YAML tag {value!r} is not allowed (plain data only)",
    ),
    "file.yaml_alias": (
        "YAML 中不允许使用锚点和别名(&/*)",
        "YAML anchors and aliases (&/*) are not allowed",
    ),
    "file.yaml_root": (
        "YAML 文件的根应为映射(含 inspections 与 events), 实际为 {value}",
        "the YAML root must be a mapping (with inspections and events), not {value}",
    ),
    "file.yaml_schema": ("{value}", "{value}"),
    "file.yaml_depth": (
        "YAML 嵌套超过 {limit} 层的上限(台账文件只需 8 层)",
        "the YAML nests deeper than the limit of {limit} levels (a ledger file needs 8)",
    ),
    "file.yaml_value": (
        "YAML 中的值无法读取: {value}",
        "a YAML value cannot be read: {value}",
    ),
    "file.file_too_large": (
        "文件有 {size} 字节, 超过 {limit} 字节的上限",
        "the file has {size} bytes, over the limit of {limit}",
    ),
    "file.time_limit": (
        "文件未能在 {limit} 秒的时限内读完并检查完毕; 请拆分后分别导入",
        "the file could not be read and checked within the limit of {limit} s; split it",
    ),
    "file.sheet_too_large": (
        "工作表的行顺序错乱且范围过大({cells} 个单元格), 无法读取; 请在 Excel 中另存后再导入",
        "the sheet's rows are out of order and it spans too many cells ({cells}): save it again",
    ),
    "file.finding_not_found": (
        "事件所属的问题 {value!r} 尚未添加(add 事件应在前)",
        "the event's finding {value!r} has not been added (its add event comes first)",
    ),
    "file.state_time": (
        "状态为 {state} 的行不能填写销号时间",
        "a row in state {state} cannot have a sign-off time",
    ),
    "file.unknown_event": ("未知的事件 {value!r}", "unknown event {value!r}"),
    "file.head_mismatch": (
        "文件记录的链首为 {expected}, 导入后的链首却是 {value}: 文件被改动过",
        (
            "the file names the head {expected}, the imported events hash to {value}: the file"
            " was edited"
        ),
    ),
    "file.version": (
        "问题 {finding} 的事件版本应为 {expected}, 实际为 {value}",
        "finding {finding}: event version should be {expected}, not {value}",
    ),
    "file.not_allowed": ("{value}", "{value}"),
    "file.rule": ("{value}", "{value}"),
    # issue 14: the monthly cycle, files that cannot be read
    "file.update_yaml": (
        "按月更新(--update)只适用于表格(CSV、XLSX); YAML 台账文件请直接导入",
        "--update applies to tables (CSV, XLSX); import a YAML ledger file as it is",
    ),
    "file.no_permission": (
        "没有读取 {value} 的权限; 请检查文件权限, 或先复制到可读的位置",
        "no permission to read {value}; check the file's permissions or copy it somewhere readable",
    ),
    # issue 8: actors, roles, ledger events, anchors, evidence
    "import_in_batch": (
        "import_file 不能在 batch() 之内调用: 导入本身就是全部写入或全部不写",
        "import_file cannot run inside batch(): an import is all or nothing on its own",
    ),
    "ledger_event.bad": (
        "台账事件 {event} 的 {field} 无效: {value!r}",
        "ledger event {event}: invalid {field}: {value!r}",
    ),
    "ledger_event.policy": (
        "台账事件 {event} 记录的政策摘要 {value} 与本台账的政策不符; 请用创建台账时的政策",
        "ledger event {event} was recorded under another policy ({value}); use the ledger's own",
    ),
    "rule.feedback_not_in_future": (
        "反馈日期 {feedback} 晚于变更当天 {day}",
        "the feedback day {feedback} is after the day of the change {day}",
    ),
    "rule.report_after_feedback": (
        "巡察 {inspection} 的整改报告报送时间 {at} 早于反馈日期 {feedback} 或巡察入账时间",
        (
            "the report of {inspection} at {at} is before its feedback day {feedback}"
            " or before the inspection was recorded"
        ),
    ),
    "rule.findings_before_feedback": (
        "巡察 {inspection} 已有问题在 {day} 列入台账, 反馈日期不能改到其后 ({feedback})",
        (
            "findings of {inspection} were put on the ledger on {day}: the feedback day cannot"
            " move after it ({feedback})"
        ),
    ),
    "v.row_deleted": (
        "{kind} {key}: 被删除: 它的事件在链上, 行却不见了",
        "{kind} {key}: deleted: its event is on the chain, its row is gone",
    ),
    "v.row_inserted": (
        "{kind} {key}: 被插入: 这一行在链上没有对应的事件",
        "{kind} {key}: inserted: a row without its event on the chain",
    ),
    "v.row_edited": (
        "{kind} {key}: 被改动: 这一行与它的事件不符",
        "{kind} {key}: edited: the row differs from its events",
    ),
    "v.row_kind.inspection": ("巡察", "inspection"),
    "v.row_kind.actor": ("人员", "actor"),
    "v.row_kind.grant": ("角色授予", "grant"),
    "v.ledger_gap": (
        "台账事件 {event} 的版本为 {version}, 应为 {expected}",
        "ledger event {event} has version {version}, not {expected}",
    ),
    "v.ledger_replay": (
        "台账事件 {event} 无法重放: {error}",
        "ledger event {event} cannot be replayed: {error}",
    ),
    "problem.policy_mismatch": (
        "第 {seq} 条: 事件记录的政策与台账保存的政策不符(政策被改动过)",
        (
            "entry {seq}: the event was recorded under another policy than the one the ledger"
            " holds (the policy was changed)"
        ),
    ),
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
    # review fixes
    "bad_as_of": (
        "{field}: {value!r} 既不是日期(YYYY-MM-DD)也不是带时区的时间(如 2024-03-01T10:00:00+08:00)",
        (
            "{field}: {value!r} is neither a date (YYYY-MM-DD) nor a time with a UTC offset "
            "(like 2024-03-01T10:00:00+08:00)"
        ),
    ),
    "anchor_forged": (
        "锚点 {count}:{hash}… 不是用此密钥签名的: 链头被伪造(或密钥不是当初那把)",
        (
            "the anchor {count}:{hash}… is not signed by this key:"
            " the head was forged (or the key is another one)"
        ),
    ),
    "evidence_missing": ("证据 {name} 缺失", "evidence {name} is missing"),
    "evidence_changed": (
        "证据 {name} 在记录后被改动(SHA-256 不同)",
        "evidence {name} changed since it was recorded (SHA-256 differs)",
    ),
    "v.edited": ("第 {seq} 条与其哈希不符", "entry {seq} does not match its hash"),
    "v.inserted": ("第 {seq} 条是第 {origin} 条的副本", "entry {seq} is a copy of entry {origin}"),
    "v.reordered": (
        "第 {seq} 条存放的是原第 {origin} 位写入的事件",
        "entry {seq} holds the event written at position {origin}",
    ),
    "v.renumbered": (
        "第 {seq} 条由第 {origin} 条改号而来",
        "entry {seq} was renumbered from {origin}",
    ),
    "v.deleted": ("第 {seq} 条从链中缺失", "entry {seq} is missing from the chain"),
    "v.first": ("第 1 条不是链的开头", "entry 1 does not start the chain"),
    "v.relinked": (
        "第 {seq} 条被改写并重新计算了哈希: 第 {next} 条不再与它相连",
        "entry {seq} was rewritten and re-hashed: entry {next} no longer links to it",
    ),
    "v.truncated": (
        "第 {seq} 条缺失: 锚点有 {count} 条, 链止于第 {last} 条",
        "entry {seq} is missing: the anchor has {count} entries, the chain ends at {last}",
    ),
    "v.anchor_not_head": ("锚点不是链头", "the anchor is not a head"),
    "v.anchor_differs": ("第 {seq} 条与锚点不符", "entry {seq} differs from the anchor"),
    "v.history_gap": (
        "问题 {finding}: 版本号为 {versions}, 而不是 1..{n}",
        "finding {finding}: versions are {versions}, not 1..{n}",
    ),
    "v.replay_failed": (
        "问题 {finding}: 重放失败: {error}",
        "finding {finding}: replay failed: {error}",
    ),
    "v.state_mismatch": (
        "问题 {finding}: 当前记录与重放历史的结果不同",
        "finding {finding}: current row differs from its replayed history",
    ),
    "v.no_history": (
        "问题 {finding}: 当前记录没有历史",
        "finding {finding}: a current row without history",
    ),
    "evidence_outside": (
        "证据 {name} 指向证据目录之外, 未读取",
        "evidence {name} points outside the evidence folder and was not read",
    ),
    # issue 15: workflow definitions
    "workflow.bad_name": (
        "{field} 的名称 {value!r} 无效(小写字母、数字和下划线)",
        "{field} name {value!r} is not valid (lower-case letters, digits, underscores)",
    ),
    "workflow.bad_version": (
        "{field} {name!r} 的版本 {value!r} 无效(正整数)",
        "{field} {name!r}: version {value!r} is not a positive whole number",
    ),
    "workflow.bad_kind": (
        "状态 {field!r} 的类型 {value!r} 未知(可用:{known})",
        "state {field!r}: unknown kind {value!r} (known: {known})",
    ),
    "workflow.bad_type": (
        "字段 {field!r} 的类型 {value!r} 未知(可用:{known})",
        "field {field!r}: unknown type {value!r} (known: {known})",
    ),
    "workflow.unknown_state": (
        "流程定义中事件 {event!r} 引用了未定义的状态 {value!r}",
        "the workflow definition names an unknown state {value!r} (event {event!r})",
    ),
    "workflow.unknown_rule": (
        "流程定义中事件 {event!r} 引用了未注册的规则 {value!r}",
        "the workflow definition names an unregistered rule {value!r} (event {event!r})",
    ),
    "workflow.unknown_effect": (
        "流程定义中事件 {event!r} 引用了未注册的效果 {value!r}",
        "the workflow definition names an unregistered effect {value!r} (event {event!r})",
    ),
    "workflow.duplicate": (
        "流程定义中 {field} {value!r} 重复",
        "the workflow definition has {field} {value!r} twice",
    ),
    "workflow.not_found": ("找不到流程定义 {value!r}", "no workflow definition {value!r}"),
    "workflow.not_toml": (
        "流程定义 {value!r} 不是有效的 TOML:{reason}",
        "workflow definition {value!r} is not valid TOML: {reason}",
    ),
    "workflow.extends_loop": (
        "流程定义 {value!r} 循环继承",
        "workflow definition {value!r} extends itself",
    ),
    "workflow.bad": (
        "流程定义 {field!r} 无效:{value}",
        "workflow definition {field!r} is not valid: {value}",
    ),
    "workflow.missing_arg": (
        "事件 {event!r} 缺少参数 {field!r}",
        "event {event!r} needs the argument {field!r}",
    ),
    "workflow.bad_arg": (
        "事件 {event!r} 的参数 {field!r} 应为 {type},而不是 {value!r}",
        "event {event!r}: argument {field!r} should be {type}, not {value!r}",
    ),
    # issue 15: the words of the report, its charts, the agenda and its calendar (one catalogue)
    "report.report": ("整改进展情况报告", "rectification progress report"),
    "report.as_of": ("截至", "As of"),
    "report.feedback": ("巡察反馈日期", "feedback on"),
    "report.due": ("整改报告报送时限", "report due"),
    "report.overdue_tag": ("已逾期", "overdue"),
    "report.submitted": ("整改报告已报送", "report submitted on"),
    "report.figures": ("主要指标", "Key figures"),
    "report.figure": ("指标", "figure"),
    "report.value": ("数值", "value"),
    "report.total": ("问题总数(台账)", "findings on the ledger"),
    "report.declared": ("反馈问题数", "declared in the feedback"),
    "report.itemized": ("逐项列明", "itemized"),
    "report.completed": ("已完成整改(含已回头看)", "completed (incl. rechecked)"),
    "report.staged": ("取得阶段性成效", "staged results"),
    "report.overdue": ("逾期未完成", "overdue"),
    "report.completion_rate": ("整改完成率", "completion rate"),
    "report.on_time_rate": ("按期完成率", "on-time rate"),
    "report.late": ("逾期完成", "late completions"),
    "report.rebounds": ("反弹(回潮)问题", "rebounds"),
    "report.recurring": ("常态化措施按期开展 / 漏开展", "recurring measures kept / missed"),
    "report.charts": ("图表", "Charts"),
    "report.no_charts": (
        "未安装图表组件, 本报告不含图表(pip install 'rectflow[charts]')。",
        "Charts are not included: install the charts extra (pip install 'rectflow[charts]').",
    ),
    "report.burndown_alt": ("未完成问题数变化(燃尽图)", "Open findings over time (burndown)"),
    "report.aspects_alt": ("分方面整改完成情况", "Completion per aspect"),
    "report.by_state": ("各状态问题数", "By state"),
    "report.state": ("状态", "state"),
    "report.count": ("数量", "count"),
    "report.by_aspect": ("分方面整改情况", "By aspect"),
    "report.aspect": ("方面 / 类别", "aspect / category"),
    "report.n_total": ("问题数", "findings"),
    "report.n_completed": ("已完成", "completed"),
    "report.n_staged": ("阶段性成效", "staged"),
    "report.n_overdue": ("逾期", "overdue"),
    "report.rate": ("完成率", "completion rate"),
    "report.ledger": ("整改台账", "The findings"),
    "report.col_id": ("编号", "id"),
    "report.col_title": ("问题", "finding"),
    "report.col_owner": ("责任部门 / 责任人", "department / person"),
    "report.col_deadline": ("整改时限", "deadline"),
    "report.col_state": ("状态", "state"),
    "report.col_note": ("最新进展", "latest note"),
    "report.late_tag": ("逾期完成", "late"),
    "report.overdue_list": ("逾期未完成的问题", "Overdue findings"),
    "report.late_list": ("逾期完成的问题", "Completed late"),
    "report.documents": ("建立的制度和规划", "Rules and plans adopted"),
    "report.data_as_of": ("数据截至", "Data as of"),
    "report.recurring_missed": ("常态化措施漏开展", "Recurring measures missed"),
    "report.md.as_of": (
        "截至 {as_of}(巡察反馈日期 {feedback},{report})。",
        "As of {as_of} (feedback on {feedback}; {report}).",
    ),
    "report.md.submitted": ("整改报告已于 {day} 报送", "the report was submitted on {day}"),
    "report.md.due": ("整改报告应于 {day} 前报送", "the report is due by {day}"),
    "report.md.due_overdue": (
        "整改报告应于 {day} 前报送,已逾期",
        "the report is due by {day}, overdue",
    ),
    "report.md.aspect": (
        "- **{head}** 共{total}个,已完成{completed}个,阶段性成效{staged}个",
        "- **{head}**: {total} findings, {completed} completed, {staged} staged",
    ),
    "report.md.aspect_overdue": (",逾期{overdue}个", ", {overdue} overdue"),
    "report.md.category": (
        "  - {head}:共{total}个,已完成{completed}个,阶段性成效{staged}个",
        "  - {head}: {total}, {completed} completed, {staged} staged",
    ),
    "report.md.overdue_list": ("逾期未完成的问题", "Overdue"),
    "report.headline": ("{summary}{rates}", "{summary} {rates}"),
    "report.summary.all_done": (
        "对巡察反馈的{declared}个问题,已完成整改{completed}项。",
        "Of the {declared} {problems} in the feedback: {completed} completed.",
    ),
    "report.summary.rest_staged": (
        (
            "对巡察反馈的{declared}个问题,已完成整改{completed}项,"
            "其余{rest}项已取得阶段性成效,正在常态化推进、长期坚持。"
        ),
        (
            "Of the {declared} {problems} in the feedback: {completed} completed; "
            "{rest} with staged results, kept up over the long term."
        ),
    ),
    "report.summary.rest": (
        "对巡察反馈的{declared}个问题,已完成整改{completed}项,其余{rest}项中{parts}。",
        "Of the {declared} {problems} in the feedback: {completed} completed; {parts}.",
    ),
    "report.summary.staged": (
        "{n}项已取得阶段性成效",
        "{n} with staged results, kept up over the long term",
    ),
    "report.summary.others": ("{n}项正在整改", "{n} in rectification"),
    "report.summary.missing": ("{n}项尚未录入台账", "{n} not on the ledger yet"),
    "report.summary.sep": ("、", "; "),
    "report.problems": ("问题", "problems"),
    "report.problems.one": ("问题", "problem"),
    "report.rates": (
        "台账所列问题整改完成率{completion},已完成问题按期完成率{on_time}。",
        (
            "Completion rate {completion} of the findings on the ledger; "
            "on-time rate {on_time} of those completed."
        ),
    ),
    "report.rates.known_day": (
        "台账所列问题整改完成率{completion},完成日期可考的已完成问题按期完成率{on_time}。",
        (
            "Completion rate {completion} of the findings on the ledger; "
            "on-time rate {on_time} of those completed on a known day."
        ),
    ),
    "report.rates.completion_only": (
        "台账所列问题整改完成率{completion}。",
        "Completion rate {completion} of the findings on the ledger.",
    ),
    "report.note.by_import": (
        "其中{n}项为导入台账时已完成(台账未记录提交人、销号人)。",
        (
            "{n} of the completed were completed as the imported sheet says "
            "(no submitter or signer recorded)."
        ),
    ),
    "report.note.on_time_unknown": (
        "{n}项完成日期不详(导入台账时已完成),未计入按期完成率和逾期完成。",
        "{n} completed on a day the sheet does not give are left out of the on-time figures.",
    ),
    "report.note.on_time_unknown.one": (
        "{n}项完成日期不详(导入台账时已完成),未计入按期完成率和逾期完成。",
        "{n} completed on a day the sheet does not give is left out of the on-time figures.",
    ),
    "report.note.not_itemized": (
        "其中{n}个问题已计入总数但未逐项列明。",
        "{n} problems are counted but not itemized.",
    ),
    "report.note.not_itemized.one": (
        "其中{n}个问题已计入总数但未逐项列明。",
        "{n} problem is counted but not itemized.",
    ),
    "report.note.missing": (
        "另有{n}个反馈问题尚未录入台账。",
        "{n} declared problems are not on the ledger yet.",
    ),
    "report.note.extra": (
        "台账问题数比反馈问题数多{n}个,请核对。",
        "The ledger holds {n} more problems than declared; check it.",
    ),
    "report.note.adopted": (
        "建立并完善{rules}项制度或方案和{plans}项发展规划。",
        "Adopted: {rules} {rule_words} and {plans} {plan_words}.",
    ),
    "report.rules": ("制度或方案", "rules or schemes"),
    "report.rules.one": ("制度或方案", "rule or scheme"),
    "report.plans": ("发展规划", "plans"),
    "report.plans.one": ("发展规划", "plan"),
    "chart.burndown": ("未完成问题数变化(燃尽图)", "Open findings over time (burndown)"),
    "chart.open": ("未完成问题", "open findings"),
    "chart.planned": ("按原定时限应未完成", "planned (original deadlines)"),
    "chart.report_due": ("整改报告报送时限", "report due"),
    "chart.aspects": ("分方面整改完成情况", "Completion per aspect"),
    "chart.completed": ("已完成整改", "completed"),
    "chart.staged": ("取得阶段性成效", "staged results"),
    "chart.other": ("正在整改", "in rectification"),
    "chart.findings": ("问题数", "findings"),
    "chart.date": ("日期", "date"),
    "chart.imported": ("导入", "imported"),
    "agenda.overdue": ("逾期未完成", "overdue"),
    "agenda.due_soon": ("即将到期", "due soon"),
    "agenda.checkpoint_missed": ("阶段性成效检查点已过", "checkpoint missed"),
    "agenda.look_back_due": ("应开展回头看", "look-back due"),
    "agenda.recurring_missed": ("常态化措施漏开展", "recurring measure missed"),
    "agenda.effectiveness_due": ("有效性验证到期", "effectiveness check due"),
    "agenda.reminder": ("提醒", "reminder"),
    "agenda.warning": ("预警", "warning"),
    "agenda.referral": ("移交/约谈", "referral"),
    "agenda.next_deadline": ("整改时限", "deadline"),
    "agenda.next_checkpoint": ("阶段性成效检查点", "checkpoint"),
    "agenda.next_look_back": ("可开展回头看", "look-back from"),
    "agenda.next_effectiveness": ("有效性验证", "effectiveness check"),
    "agenda.title": ("## 待办事项,截至 {day}", "## Agenda as of {day}"),
    "agenda.report_due": ("整改报告报送时限", "report due"),
    "agenda.report_overdue": ("已逾期", "overdue"),
    "agenda.report_submitted": ("已报送 {at}", "submitted {at}"),
    "agenda.nothing_due": ("无待办事项", "nothing due"),
    "agenda.days_left": ("剩余{n}个工作日", "{n} working days left"),
    "agenda.days_late": ("逾期{n}个工作日", "{n} working days late"),
    "agenda.provisional": ("日期为预估", "provisional"),
    "agenda.upcoming": ("接下来到期", "Falling due next"),
    "ics.deadline": ("整改时限", "Deadline"),
    "ics.checkpoint": ("阶段性成效检查点", "Checkpoint"),
    "ics.look-back": ("回头看", "Look-back"),
    "ics.recurring": ("常态化措施漏开展", "Recurring measure missed"),
    "ics.effectiveness": ("有效性验证", "Effectiveness check"),
    "ics.report": ("整改报告报送时限", "Progress report due"),
    "ics.report_submitted": ("整改报告已报送", "Progress report submitted"),
    "ics.overdue": ("已逾期", "overdue"),
    "ics.due_soon": ("即将到期", "due soon"),
    "ics.checkpoint_missed": ("检查点已过", "checkpoint missed"),
    "ics.look_back_due": ("应开展回头看", "look-back due"),
    "ics.effectiveness_due": ("验证到期", "check due"),
    "ics.owner": ("责任人", "Owner"),
    "ics.inspection": ("巡察", "Inspection"),
    "ics.finding": ("问题", "Finding"),
    "ics.workdays": ("工作日", "working days"),
    "ics.level": ("级别", "level"),
    "ics.provisional": (
        "日期为预估(超出已公布的节假日安排)",
        "provisional date (beyond the published holidays)",
    ),
    "ics.missed": ("漏开展周期", "missed periods"),
    "ics.measure": ("措施", "measure"),
    "ics.calendar": ("整改待办", "Rectification agenda"),
    "ics.as_of": ("截至", "as of"),
    # the import's summaries (_io)
    "update.add": ("新增", "added"),
    "update.moved": ("状态 {before} → {after}", "state {before} → {after}"),
    "update.backward": ("状态倒退 {before} → {after}", "moved back {before} → {after}"),
    "update.missing": (
        "表中已无此问题(台账中为 {state})",
        "no longer in the sheet (on the ledger: {state})",
    ),
    "update.amended": ("修订", "amended"),
    "update.not_applied": ("— 未应用", "— not applied"),
    "update.hint_backward": (
        (
            "状态倒退未应用: 在「整改进展」中写明反弹(以「反弹」或「回潮」开头)并附佐证材料, "
            "或导入时加 --allow-rebound"
        ),
        (
            "moves back are not applied: record the rebound in 整改进展 (starting with 反弹 or "
            "回潮) with evidence, or import with --allow-rebound"
        ),
    ),
    "update.hint_missing": (
        "表中缺少的问题未作改动; 如需撤销, 请逐个执行 cancel(撤销)",
        "findings missing from the sheet were left as they are; cancel them one by one if needed",
    ),
    "update.nothing": (
        "{file}: 与台账相比没有变化, 未写入任何内容",
        "{file}: nothing changed since the ledger's state; nothing written",
    ),
    "update.head_dry": (
        "试导入 {file}(未写入): {n} 个问题有变化",
        "dry run of {file} (nothing written): {n} finding(s) change",
    ),
    "update.head": (
        "已按 {file} 更新台账: {n} 个问题有变化",
        "updated from {file}: {n} finding(s) changed",
    ),
    "update.unchanged": ("{n} 个问题无变化", "{n} finding(s) unchanged"),
    "import.skipped.blank": ("空行", "blank row"),
    "import.skipped.footer": ("表尾", "footer"),
    "import.skipped.section": ("通栏文字行", "text across the table"),
    "import.skipped.header": ("重复的表头", "repeated header"),
    "import.at_source.at": ("--at 指定", "given by --at"),
    "import.at_source.sheet": ("表格的填报时间", "the sheet's 填报时间"),
    "import.at_source.now": ("当前时间(表格无填报时间)", "now (the sheet has no 填报时间)"),
    "import.renumbered.aspect": ("方面", "aspect"),
    "import.renumbered.category": ("类别", "category"),
    # a period in words (Policy's Period.text); its canonical form (str) is not a message
    "period.days": ("{n}天", "{n} days"),
    "period.days.one": ("{n}天", "{n} day"),
    "period.workdays": ("{n}个工作日", "{n} working days"),
    "period.workdays.one": ("{n}个工作日", "{n} working day"),
    "period.months": ("{n}个月", "{n} months"),
    "period.months.one": ("{n}个月", "{n} month"),
    "report.aspect_head": ("第{zh_n}方面问题:{name}", "Aspect {n}: {name}"),
    "report.category_head": ("({zh_n}){name}", "({n}) {name}"),
    "chart.aspect": ("第{zh_n}方面", "Aspect {n}"),
    "update.event_sep": ("、", ", "),
    "import.note.at": ("事件时间 {at}({where})", "events dated {at} ({where})"),
    "import.note.skipped": (
        "跳过非问题行 {n} 行: {rows}",
        "skipped {n} rows that are not findings: {rows}",
    ),
    "import.note.renumbered": (
        "序号在每个{by}内重新编号: 编号按 方面.类别.序号 生成(如 1.1.1)",
        "序号 restarts within each {by}: ids made aspect.category.n (1.1.1)",
    ),
    "import.note.attested": (
        "其中{n}项为导入台账时已完成(表中无提交人、销号人, 由导入人确认)",
        "{n} completed as the sheet says (no submitter or signer named: attested on import)",
    ),
    "import.note.no_evidence": (
        "提醒: {ids} 未附佐证材料(表中无佐证材料列的, 以台账本行为据)",
        "warning: no evidence for {ids} (a sheet without an evidence column: its row is cited)",
    ),
    "import.note.extra_columns": ("保留的其他列: {cols}", "columns kept as extra: {cols}"),
    "import.remarks": ("备注", "remarks"),
    "import.note.attested_by": (
        "导入台账时已完成(由 {who} 确认)",
        "completed as the imported sheet says (attested by {who})",
    ),
}


def msg(key: str, lang: str = "zh", /, **fields: Any) -> str:
    """Format message *key* in *lang* with *fields*."""
    zh, en = _MESSAGES[key]
    return (en if lang == "en" else zh).format(**fields)


def msg_n(key: str, n: int, lang: str = "zh", /, **fields: Any) -> str:
    """Message *key* counting *n*: its ``.one`` form when *n* is 1 and the catalogue has one."""
    one = f"{key}.one"
    return msg(one if n == 1 and one in _MESSAGES else key, lang, n=n, **fields)


def translate(error: E, key: str, /, prefix: str = "", **fields: Any) -> E:
    """*error* with :attr:`~rectflow.RectflowError.translations` of *key* in every language.

    Its message should already be the Chinese one (the default).
    """
    error.translations = {lang: prefix + msg(key, lang, **fields) for lang in LANGS}
    return error


def has(key: str) -> bool:
    """Whether the catalogue has *key*."""
    return key in _MESSAGES


def keys(prefix: str) -> tuple[str, ...]:
    """The catalogue's keys that begin with *prefix* (``"chart."``: every chart's word)."""
    return tuple(k for k in _MESSAGES if k.startswith(prefix))
