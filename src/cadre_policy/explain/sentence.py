"""A rule as a Chinese sentence a policy officer can check against the document."""
from __future__ import annotations

from datetime import date

from cadre_policy.language import labels

from cadre_policy.language import model as m
from cadre_policy.language.parameters import name_of, parameters_on
from cadre_policy.run.reasons import display

OP_WORDS = {"==": "等于", "!=": "不等于", ">": "超过", ">=": "达到（含本数）", "<": "低于", "<=": "不超过（含本数）",
            "in": "属于", "not_in": "不属于"}
#: the kinds of outcome (outcomes.yaml) in words
OUTCOME_KINDS = {"action": "处理措施", "bar": "任用限制", "exception": "例外", "flag": "提示", "target": "结构目标"}
ENGLISH = {"gt", "gte", "lt", "lte", "eq", "ne", "in", "not_in", "on_or_after", "on_or_before", "after", "before"}


def fact_title(policy_set: m.PolicySet, path: str) -> str:
    """A fact path in Chinese: ``latest_review.total`` -> 最近一次监督评议的总票数."""
    return "的".join(labels.fact_words(path, policy_set.derived))


class _Sentence:
    def __init__(self, policy_set: m.PolicySet, as_of: date):
        self.ps = policy_set
        self.as_of = as_of
        self.params = parameters_on(policy_set, as_of)

    def fact(self, path: str) -> str:
        return fact_title(self.ps, path) + f"〔{path}〕"

    def param(self, ref: m.ParamRef, subject: str = "") -> str:
        name = name_of(ref, self.ps.parameters) or ref.name
        spec = self.ps.parameters.get(name)
        if self.params.get(name) is None:
            return f"〔参数 {name}：{self.as_of.isoformat()} 时尚无取值〕"
        unit = {"years": "年", "months": "个月"}.get(spec.kind if spec else "", "")
        open_note = "，原文未明确，为默认值" if spec is not None and spec.open else ""
        value = self.params[name]
        if spec is not None and spec.kind == "enum" and subject:      # options named as the record names them
            shown = "、".join(labels.value(_enumeration(subject), v) for v in (value if isinstance(value, (list, tuple))
                                                                              else [value]))
        else:
            shown = display(value)
        return f"{shown}{unit}（{self.as_of.isoformat()} 时的取值{open_note}）〔参数 {name}〕"

    def value(self, value, subject: str = "") -> str:
        if isinstance(value, m.ParamRef):
            return self.param(value, subject)
        if isinstance(value, m.FactRef):
            return self.fact(value.path)
        if isinstance(value, m.Period):
            if isinstance(value.amount, m.ParamRef):
                return self.param(value.amount)        # the parameter's value carries its unit
            return f"{value.amount.raw}{'年' if value.unit == 'years' else '个月'}"
        raw = value.raw
        kind = _enumeration(subject)
        if isinstance(raw, list):
            return "、".join(labels.value(kind, x) if isinstance(x, str) else str(x) for x in raw)
        return labels.value(kind, raw) if isinstance(raw, (str, bool)) else str(raw)

    def condition(self, cond, indent: int) -> list[str]:
        pad = "  " * indent
        if isinstance(cond, m.All):
            return [f"{pad}以下各项均成立："] + [line for c in cond.items for line in self.condition(c, indent + 1)]
        if isinstance(cond, m.Any):
            return [f"{pad}以下任一项成立："] + [line for c in cond.items for line in self.condition(c, indent + 1)]
        if isinstance(cond, m.Not):
            return [f"{pad}并非："] + self.condition(cond.item, indent + 1)
        return [f"{pad}· {self.leaf(cond)}"]

    def leaf(self, cond) -> str:
        if isinstance(cond, m.Asserted):
            if cond.kind == "finding":
                title = self.ps.outcomes.findings.get(cond.name, {}).get("title", cond.name)
                return f"已认定“{title}”〔finding: {cond.name}〕"
            return f"已推定“{cond.name}”〔derived: {cond.name}〕"
        if isinstance(cond, m.Present):
            return f"{self.fact(cond.subject)}{'有' if cond.present else '没有'}记录"
        if isinstance(cond, m.Has):
            return f"{self.fact(cond.subject)}含“{labels.value('flags', cond.flag)}”"
        if isinstance(cond, m.Within):
            return f"评估日期在{self.fact(cond.subject)}之后{self.value(cond.period)}以内（自该日起算，届满之日不再在内）"
        subject = (f"{self.fact(cond.ratio_of[0])}与{self.fact(cond.ratio_of[1])}之比" if cond.ratio_of
                   else self.fact(cond.subject))
        word = OP_WORDS[cond.op] if cond.word in ENGLISH else cond.word
        boundary = ""
        if cond.word not in ENGLISH and cond.op in (">", "<"):
            boundary = "（不含本数）"
        elif cond.word not in ENGLISH and cond.op in (">=", "<="):
            boundary = "（含本数）"
        return f"{subject} {word} {self.value(cond.value, cond.subject)}{boundary}"


def _enumeration(subject: str) -> str:
    """The enumeration of a fact's values: ``current_post.unit.kind`` -> unit_kind, ``nomination.target_rank`` -> rank."""
    *holder, field = subject.split(".")
    if field == "kind":          # a unit's, an assessment's or a sanction's: named by what holds it
        return next((f"{name}_kind" for name in ("unit", "assessment", "sanction") if name in ".".join(holder)), field)
    return {"target_rank": "rank"}.get(field, field)


def _kind(outcome: dict) -> str:
    return OUTCOME_KINDS.get(outcome.get("kind", ""), outcome.get("kind", ""))


def _derived_title(policy_set: m.PolicySet, code: str) -> str:
    derived = policy_set.derived.get(code)
    return derived.title if derived is not None else code


def rule_sentence(policy_set: m.PolicySet, rule: m.Rule, as_of: date) -> str:
    """The rule in Chinese: condition, consequence, citation, with parameter values on ``as_of``."""
    s = _Sentence(policy_set, as_of)
    policy = policy_set.policy_of(rule)
    lines = [f"{rule.id} — {rule.title}", ""]
    if rule.kind in ("finding", "derive"):
        lines.append("如果")
        lines += s.condition(rule.when, 1)
        if rule.kind == "finding":
            outcome = policy_set.outcomes.findings.get(rule.code, {})
            lines.append(f"则 认定：{outcome.get('title', rule.code)}（{_kind(outcome)}）〔{rule.code}〕")
        else:
            lines.append(f"则 推定：{_derived_title(policy_set, rule.code)}（供其他规则引用）〔{rule.code}〕")
        if rule.until is not None:
            plus = s.param(rule.until.plus) if isinstance(rule.until.plus, m.ParamRef) else s.value(rule.until.plus)
            lines.append(f"   期限：至{s.fact(rule.until.fact)}起{plus}届满之日")
        for target in rule.supersedes:
            lines.append(f"   同时成立时，取代规则 {target} 的结论（记为“已被取代”，不删除）")
    elif rule.kind == "exception":
        lines.append("如果")
        lines += s.condition(rule.when, 1)
        lines.append("则 例外：下列规则的“不符合”记为“已破格”（waived），结论须按例外程序研究")
        lines += [f"  · {target}" for target in rule.exception_to]
    else:
        title = policy_set.outcomes.requirements.get(rule.code, {}).get("title", rule.code)
        strength = "，一般应当：不符合时须按例外程序研究" if rule.strength == "normally" else ""
        lines.append(f"提拔任用条件“{title}”（{rule.code}{strength}）")
        if rule.applies is not None:
            lines.append("适用于")
            lines += s.condition(rule.applies, 1)
        lines.append("符合，当")
        lines += s.condition(rule.met, 1)
        if rule.unmet is not None:
            lines.append("不符合，当")
            lines += s.condition(rule.unmet, 1)
        else:
            lines.append("不符合，当上述条件确定不成立；资料不全时为“待定”")
    return "\n".join(lines + _citation(policy, rule, as_of))


def _citation(policy: m.Policy, rule, as_of: date) -> list[str]:
    src = policy.source
    lines = ["", f"依据：《{src.document}》（{src.issuer}{'，' + src.date if src.date else ''}）{rule.section}",
              f"原文：“{rule.quote}”", f"条款：{rule.provision}；文件 {src.file or '—'}；"
              f"有效期 {policy.in_force.start} 起{'至 ' + str(policy.in_force.end) if policy.in_force.end else ''}"]
    if rule.note:
        lines.append(f"说明：{rule.note}")
    if not m.rule_in_force(policy, rule, as_of):
        lines.append(f"注意：{as_of.isoformat()} 时本规则不在有效期内。")
    return lines


MEASURE_WORDS = {"count": "符合条件的人数", "share": "符合条件者所占比例", "exists": "至少一人符合条件",
                 "share_of_teams": "符合条件的班子所占比例"}


def aggregate_sentence(policy_set: m.PolicySet, rule, group, as_of: date) -> str:
    """A structure (aggregate) rule in Chinese: over which group, what is measured against what target."""
    s = _Sentence(policy_set, as_of)
    if rule.target is None:
        target = ""
    elif hasattr(rule.target, "low"):
        target = f" {rule.word} {s.value(rule.target.low)}至{s.value(rule.target.high)}"
    else:
        target = f" {rule.word} {s.value(rule.target)}"
    finding = policy_set.outcomes.findings.get(rule.finding, {})
    per = {"unit": "每个班子", "region": "每个县市区", "city": "全市", "all": "全部"}.get(group.per, group.per) \
        if group is not None else ""
    lines = [f"{rule.id} — {rule.title}", "",
             f"范围：{group.title if group else rule.group}（{per}为一个统计单位）",
             f"衡量：{MEASURE_WORDS.get(rule.measure, rule.measure)}{target}",
             f"未达到时 认定：{finding.get('title', rule.finding)}（{_kind(finding)}）〔{rule.finding}〕"]
    policy = next(p for p in policy_set.policies if p.id == rule.policy)
    return "\n".join(lines + _citation(policy, rule, as_of))
