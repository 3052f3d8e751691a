"""The policy set as the legislation explorer and the rules API show it: documents, provisions, rules, tests."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

from cadre_policy.language import model as m


def documents(policy_set: m.PolicySet) -> list[dict]:
    """Each policy document with its provisions (from the register) and the rules that encode them."""
    out = []
    for policy in policy_set.policies:
        provisions: dict[str, dict] = {}
        for rule in policy.rules:
            entry = provisions.setdefault(rule.provision, _provision(policy_set, rule.provision))
            entry["rules"].append({"id": rule.id, "title": rule.title, "kind": rule.kind, "code": rule.code})
        out.append({"id": policy.id, "title": policy.title, "document": policy.source.document,
                    "issuer": policy.source.issuer, "date": policy.source.date,
                    "in_force": _in_force(policy.in_force), "file": Path(policy.file).name,
                    "parameters": [p.name for p in policy.parameters],
                    "provisions": sorted(provisions.values(), key=lambda p: p["id"])})
    return out


def _provision(policy_set: m.PolicySet, pid: str) -> dict:
    entry = policy_set.provisions.get(pid) or {}
    quote = entry.get("quote", "")
    return {"id": pid, "section": entry.get("section", ""),
            "quote": "；".join(quote) if isinstance(quote, list) else quote, "rules": []}


def _in_force(in_force) -> dict | None:
    if in_force is None:
        return None
    return {"start": in_force.start.isoformat(), "end": in_force.end.isoformat() if in_force.end else None}


def parameter(param: m.Parameter, as_of: date) -> dict:
    """A parameter with its dated values (a timeline) and the value in force on ``as_of``."""
    from cadre_policy.language.values import format_value, parse_parameter
    values = []
    for i, (start, raw) in enumerate(param.values):
        end = param.values[i + 1][0] if i + 1 < len(param.values) else None
        values.append({"from": start.isoformat(), "until": end.isoformat() if end else None,
                       "value": format_value(parse_parameter(param.kind, raw)),
                       "in_force": start <= as_of and (end is None or as_of < end)})
    return {"name": param.name, "title": param.title, "kind": param.kind, "note": param.note, "values": values}


def _parameter_names(rule: m.Rule) -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, m.ParamRef):
            found.add(node.name if "." in node.name else f"{node.scope or rule.policy}.{node.name}")
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                if name != "loc":
                    walk(getattr(node, name))
    for part in (rule.when, rule.applies, rule.met, rule.unmet, rule.until):
        walk(part)
    return found


def rule_detail(policy_set: m.PolicySet, rule: m.Rule, as_of: date) -> dict:
    """Everything the explorer shows of a rule: sentence, quote, provision, source, parameters, tests."""
    from cadre_policy.explain.sentence import rule_sentence
    from cadre_policy.render.check import source_of
    params = policy_set.parameters
    used = sorted(n for n in _parameter_names(rule) if n in params)
    return {"id": rule.id, "title": rule.title, "kind": rule.kind, "code": rule.code, "policy": rule.policy,
            "provision": _provision(policy_set, rule.provision) | {"rules": None},
            "quote": rule.quote, "source": source_of(policy_set, rule), "note": rule.note,
            "in_force": _in_force(rule.in_force), "supersedes": list(rule.supersedes),
            "sentence": rule_sentence(policy_set, rule, as_of), "as_of": as_of.isoformat(),
            "parameters": [parameter(params[n], as_of) for n in used],
            "tests": tests_of(policy_set, rule)}


def rule_list(policy_set: m.PolicySet) -> list[dict]:
    return [{"id": r.id, "title": r.title, "kind": r.kind, "code": r.code, "provision": r.provision,
             "policy": r.policy} for r in policy_set.rules]


def tests_of(policy_set: m.PolicySet, rule: m.Rule) -> list[dict]:
    """The cases beside the rule's policy file that test it.

    A case tests a rule when its expectation names the rule's code, or when it sits
    under a ``# ---- …`` section comment naming the rule's id or provision (the
    boundary case that does not fire is one of the rule's tests too).
    """
    policy = policy_set.policy_of(rule)
    beside = Path(policy.file).with_name(Path(policy.file).stem + ".tests.yaml")
    words = {rule.id, rule.provision}
    return [{k: v for k, v in case.items() if k not in ("names", "section")} for case in _cases(str(beside))
            if rule.code in case["names"] or any(_names(case["section"], w) for w in words)]


def _names(section: str, word: str) -> bool:
    """Whether a section comment names ``word`` as a whole id (P003-1 is not P003-10)."""
    return re.search(r"(?<![\w.-])" + re.escape(word) + r"(?![\w-])", section) is not None


@lru_cache(maxsize=64)
def _cases(path: str) -> list[dict]:
    from cadre_policy.testing.cases import load_cases
    if not Path(path).exists():
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    cases, _ = load_cases(Path(path))
    out = []
    for case in cases:
        names = set()
        for value in case.expect.values():
            names |= set(value) if isinstance(value, (list, dict)) else {value}
        section = next((lines[i] for i in range(min(case.line, len(lines)) - 1, -1, -1)
                        if lines[i].lstrip().startswith("# ----")), "")
        out.append({"name": case.name, "file": Path(case.file).name, "line": case.line,
                    "as_of": case.as_of.isoformat(), "expect": case.expect, "names": sorted(map(str, names)),
                    "section": section})
    return out
