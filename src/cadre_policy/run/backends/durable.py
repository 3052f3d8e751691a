"""The durable_rules engine, driven through its C module.

Measured in shared/DURABLE_RULES.md: one ``assert_facts`` per cadre with a fresh
``sid``, actions drained, and the state deleted afterwards is both correct and the
fastest way. The host's Python layer (timer threads, ``post``, batch assertion of
several persons) is avoided. Rulesets are created once per compiled set and kept
for the life of the process (creating them repeatedly leaks memory).
"""
from __future__ import annotations

import itertools
import json

import durable_rules_engine as dre

from cadre_policy.compile import ir
from cadre_policy.run.firings import Firings, closure_values

# One fact may match at most 64 alpha branches (error 303); stay well below.
MAX_RULES_PER_RULESET = 48
_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
KEEP_STATE = "keep_state"
_ruleset_names = itertools.count(1)
_sids = itertools.count(1)


class EngineError(Exception):
    """durable_rules refused a ruleset or a fact."""


def _cmp(op: str, path: str, rhs) -> dict:
    if op == "==":
        return {path: rhs}
    return {_OPS[op]: {path: rhs}}


def _expr(formula) -> dict | None:
    """A cadre-fact formula as a durable_rules expression (None for TRUE)."""
    if isinstance(formula, ir.Const):
        return None if formula.value else {"$nex": {"t": 1}}
    if isinstance(formula, ir.Test):
        return _cmp(formula.op, formula.path, formula.const)
    if isinstance(formula, ir.TestField):
        return _cmp(formula.op, formula.path, {"$m": formula.other})
    if isinstance(formula, ir.Exists):
        return {"$ex" if formula.present else "$nex": {formula.path: 1}}
    if isinstance(formula, ir.Linear):
        # a*q op b*p  <=>  a op' a + (a*q - b*p): durable_rules allows arithmetic on the right only
        diff = {"$sub": {"$l": {"$mul": {"$l": {"$m": formula.a}, "$r": formula.q}},
                         "$r": {"$mul": {"$l": {"$m": formula.b}, "$r": formula.p}}}}
        return _cmp(ir.MIRROR[formula.op], formula.a, {"$add": {"$l": {"$m": formula.a}, "$r": diff}})
    if isinstance(formula, (ir.And, ir.Or)):
        parts = [_expr(f) for f in formula.items]
        if isinstance(formula, ir.And):
            parts = [p for p in parts if p is not None]
            return None if not parts else (parts[0] if len(parts) == 1 else {"$and": parts})
        if any(p is None for p in parts):
            return None
        return parts[0] if len(parts) == 1 else {"$or": parts}
    raise TypeError(formula)


def _dnf(formula) -> list[tuple[frozenset, object]]:
    """Split a formula on its asserted-fact atoms: [(facts to join, cadre formula)]."""
    if isinstance(formula, ir.Fact):
        return [(frozenset([formula.key]), ir.TRUE)]
    if isinstance(formula, ir.And):
        result = [(frozenset(), ir.TRUE)]
        for item in formula.items:
            result = [(fa | fb, ir.conj([ca, cb])) for fa, ca in result for fb, cb in _dnf(item)]
        return result
    if isinstance(formula, ir.Or) and ir.reads_asserted(formula):
        return [d for item in formula.items for d in _dnf(item)]
    return [(frozenset(), formula)]


def _rule_json(facts: frozenset, cadre_formula) -> dict:
    cadre = _expr(cadre_formula)
    patterns = [{"c": {"$and": [{"t": "cadre"}, cadre]} if cadre else {"t": "cadre"}}]
    for i, key in enumerate(sorted(facts)):
        patterns.append({f"f{i}": {"$and": [{"t": "asserted"}, {"key": key}]}})
    return {"all": patterns}


class _Ruleset:
    def __init__(self, name: str, entries: list[tuple[str, ir.RuleTest]]):
        self.tests = {}
        definition = {}
        for rule_name, test, rule_json in entries:
            definition[rule_name] = rule_json
            self.tests[rule_name] = test
        # Deleting a state in which no action ran corrupts durable_rules' heap (free(): invalid
        # pointer, or a segfault later). This rule fires once for every cadre, so every state is
        # drained through at least one action before it is deleted.
        definition[KEEP_STATE] = {"all": [{"c": {"t": "cadre"}}]}
        try:
            self.handle = dre.create_ruleset(name, json.dumps(definition, ensure_ascii=False))
        except Exception as error:  # the C module raises plain exceptions with a code
            raise EngineError(f"durable_rules refused ruleset {name}: {error}") from error


_last_fact: list = [None, ""]


def _cadre_json(fact: dict) -> str:
    """The cadre fact as JSON, serialised once per fact object: a what-if run hands the same
    encoded fact to the baseline and the draft engine (DURABLE_RULES.md: serialise once, reuse)."""
    if _last_fact[0] is not fact:
        _last_fact[0], _last_fact[1] = fact, json.dumps(dict(fact, t="cadre"), ensure_ascii=False)
    return _last_fact[1]


def _rule_name(message: str) -> str:
    """The rule name of an action message ``{"r12": {...matched facts...}}`` without parsing the facts."""
    if message.startswith('{"'):
        end = message.find('"', 2)
        if end > 2:
            return message[2:end]
    return next(iter(json.loads(message)))


class DurableEngine:
    """Evaluates compiled rules with durable_rules, one fresh state per cadre and ruleset."""

    name = "durable"

    def __init__(self, compiled: ir.CompiledSet):
        self.compiled = compiled
        base = f"{compiled.name}_{next(_ruleset_names)}"
        self.strata: list[list[_Ruleset]] = []
        for level, stratum in enumerate(compiled.strata):
            entries = []
            for test in stratum.tests:
                for facts, cadre_formula in _dnf(test.formula):
                    if cadre_formula == ir.FALSE:
                        continue
                    entries.append((f"r{len(entries)}", test, _rule_json(facts, cadre_formula)))
            chunks = [entries[i:i + MAX_RULES_PER_RULESET] for i in range(0, len(entries), MAX_RULES_PER_RULESET)]
            self.strata.append([_Ruleset(f"{base}_s{level}_p{n}", chunk) for n, chunk in enumerate(chunks)])

    def close(self) -> None:
        """Delete this engine's rulesets from durable_rules (their memory is kept until then: about
        0.5 MB a policy set); the engine must not be run again."""
        strata, self.strata = self.strata, []
        for rulesets in strata:
            for ruleset in rulesets:
                dre.delete_ruleset(ruleset.handle)

    def run(self, fact: dict) -> Firings:
        fired: set = set()
        asserted: set = set()
        base_json = _cadre_json(fact)
        for stratum, rulesets in zip(self.compiled.strata, self.strata):
            cadre_json = base_json
            if stratum.closure:   # the closure is the last key: splice it in rather than serialise again
                cadre_json = (f'{base_json[:-1]}, "{ir.CLOSURE}": '
                              f'{json.dumps(closure_values(stratum, asserted))}}}')
            while True:   # several rulesets in a stratum: repeat until nothing new is asserted
                before = len(asserted)
                for ruleset in rulesets:
                    self._run_one(ruleset, cadre_json, fired, asserted)
                if len(rulesets) == 1 or len(asserted) == before:
                    break
        return Firings(frozenset(fired), frozenset(asserted))

    def _run_one(self, ruleset: _Ruleset, cadre_json: str, fired: set, asserted: set) -> None:
        sid = str(next(_sids))
        handle = ruleset.handle
        facts = [cadre_json[:-1] + f', "sid": "{sid}", "id": "c"}}']
        facts += [json.dumps({"t": "asserted", "key": key, "sid": sid, "id": key}) for key in sorted(asserted)]
        try:
            result = dre.assert_facts(handle, "[" + ",".join(facts) + "]")
            state_offset = result[1]
            started = dre.start_action_for_state(handle, state_offset)
            message = started[1] if started else None
            while message:
                rule_name = _rule_name(message)
                if rule_name == KEEP_STATE:
                    message = dre.complete_and_start_action(handle, state_offset)
                    continue
                test = ruleset.tests[rule_name]
                fired.add(test.key)
                if test.asserts and test.asserts not in asserted:
                    asserted.add(test.asserts)
                    dre.assert_fact(handle, json.dumps({"t": "asserted", "key": test.asserts, "sid": sid,
                                                        "id": test.asserts}))
                message = dre.complete_and_start_action(handle, state_offset)
        except EngineError:
            raise
        except Exception as error:
            raise EngineError(f"durable_rules failed: {error}") from error
        finally:
            try:
                dre.delete_state(handle, sid)
            except Exception:   # a state that was never made: nothing to delete
                pass
