"""Drafts: a YAML overlay on the policy set in force, and quick ``--set`` changes.

A draft changes parameter values, replaces rules by id, adds rules, disables rules
and adds or replaces derived quantities. Applying it builds a *new* PolicySet (the
model objects are frozen; the baseline is never touched) which then goes through the
same checker as a policy set, so a bad draft gets the same diagnostic codes, with
positions in the draft file.

The draft schema (``schemas/draft.schema.json``) refers to the rule, derived and
parameter definitions of ``schemas/policy.schema.json`` by relative ``$ref``s, which
resolve locally (``parse.schemas``), so both files stay the single source of truth.
"""
from __future__ import annotations

import re

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cadre_policy.errors import UserError
from cadre_policy.i18n import N_, _
from cadre_policy.language import model as m
from cadre_policy.validate.policy import check_policy_set
from cadre_policy.diagnostics import Diagnostic, Location, suggest, suggest_qualified
from cadre_policy.load.policies import _Builder, _jurisdiction, read_checked
from cadre_policy.parse.schemas import validator
from cadre_policy.language.values import parse_parameter, parse_whole

EARLIEST = date(1900, 1, 1)


class DraftError(UserError):
    """A quick change (``--set``) that cannot be applied: one line for the user."""


#: A key of dated values (YYYY-MM-DD); any other mapping is one value (a table parameter's entries).
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_draft_file(path) -> bool:
    """True when a YAML file is a draft (see :func:`is_draft_text`)."""
    try:
        return is_draft_text(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False


def is_draft_text(text: str) -> bool:
    """True when YAML text is a draft: its schema line names draft.schema.json, or it has draft keys."""
    if "draft.schema.json" in text.split("\n", 1)[0]:
        return True
    return any(line.startswith(("replace:", "disable:", "add:", "outcomes:", "provisions:"))
               for line in text.splitlines())


@dataclass(frozen=True)
class Draft:
    """What a draft file says, kept for reports."""
    id: str
    title: str
    file: str
    in_force: m.InForce | None
    note: str = ""
    parameters: tuple = ()        # qualified names changed
    replaced: tuple = ()          # rule ids
    added: tuple = ()             # rule ids
    disabled: tuple = ()          # rule ids
    derived: tuple = ()           # derived names added or replaced
    sets: dict = field(default_factory=dict)   # --set NAME -> raw text
    document: tuple = ()          # a new document's own outcome codes and provision ids

    def describe(self) -> list[str]:
        """One line per change, for report headers."""
        lines = []
        for what, items in ((N_("parameters"), self.parameters), (N_("replaced rules"), self.replaced),
                            (N_("added rules"), self.added), (N_("disabled rules"), self.disabled),
                            (N_("derived quantities"), self.derived),
                            (N_("new outcome codes and provisions"), self.document)):
            if items:
                lines.append(f"{_(what)}: {', '.join(items)}")
        for name, raw in self.sets.items():
            lines.append(f"--set {name}={raw}")
        return lines


def _param_value_diags(kind, raw, name, loc) -> list[Diagnostic]:
    try:
        parse_parameter(kind, raw)
    except ValueError as error:
        return [Diagnostic("E303", _("parameter '{name}': {error}").format(name=name, error=error), loc)]
    return []


def load_draft(path, baseline: m.PolicySet, display: str | None = None):
    """Apply a draft file to a checked baseline.

    Returns:
        (draft policy set or None, Draft or None, diagnostics). Diagnostics are those
        the draft causes: its own reading and schema problems, and the checker's
        diagnostics of the new set that the baseline does not have.
    """
    path = Path(path)
    display = display or str(path)
    data, positions, diagnostics, text = read_checked(
        path, display, validator("draft"),
        "a draft is a mapping (id, title, parameters, replace, add, disable, derived)", "draft.schema.json")
    if data is None or any(d.severity == "error" for d in diagnostics):
        return None, None, diagnostics
    draft_set, draft = _apply(data, positions, display, baseline, diagnostics, text)
    if any(d.severity == "error" for d in diagnostics):
        return None, None, sorted(diagnostics, key=Diagnostic.sort_key)
    # the baseline's own findings are not the draft's, wherever they now point (a changed parameter's
    # place is the draft's line); nor is a parameter of a policy file left unused because the draft
    # disabled or replaced its rules: that is the draft's intent, nothing to fix in that file
    known = {(d.code, d.message) for d in check_policy_set(baseline)}
    diagnostics += [d for d in check_policy_set(draft_set) if (d.code, d.message) not in known
                    and not (d.code == "W501" and d.location.file != display)]
    diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
    if any(d.severity == "error" for d in diagnostics):
        return None, draft, diagnostics
    return draft_set, draft, diagnostics


def _apply(data: dict, positions, display: str, baseline: m.PolicySet, diagnostics: list, text: str):
    draft_id = data["id"]
    in_force = _Builder(draft_id, positions, diagnostics).in_force(data["in_force"], ("in_force",)) \
        if "in_force" in data else None
    policies = {p.id: p for p in baseline.policies}
    order = {p.id: i for i, p in enumerate(baseline.policies)}
    changes = {p.id: {"parameters": list(p.parameters), "derived": list(p.derived), "rules": list(p.rules)}
               for p in baseline.policies}
    src = data.get("source", {})
    own = m.Policy(id=draft_id, title=data["title"],
                   source=m.Source(src.get("document", data["title"]), src.get("issuer", ""), src.get("date"),
                                   src.get("file", display), src.get("note", data.get("note", ""))),
                   in_force=in_force or m.InForce(EARLIEST), file=display, positions=positions,
                   jurisdiction=_jurisdiction(data.get("jurisdiction"), positions, ("jurisdiction",)))
    if draft_id in policies:
        diagnostics.append(Diagnostic("E205", _("the draft id '{draft_id}' is the id of a policy of the set; give the draft its own id").format(
            draft_id=draft_id), positions.at(("id",))))
    changes.setdefault(draft_id, {"parameters": [], "derived": [], "rules": []})
    params = baseline.parameters
    rules = {r.id: r for r in baseline.rules}
    derived = baseline.derived
    next_order = max((r.order for r in baseline.rules), default=0) + 1

    # ---- parameters ------------------------------------------------------------------
    changed_params = []
    for name, raw in (data.get("parameters") or {}).items():
        path = ("parameters", name)
        loc = positions.at(path, key=True)
        declaration = isinstance(raw, dict) and "values" in raw and "kind" in raw
        if name not in params and not declaration:
            diagnostics.append(Diagnostic("E202", _("unknown parameter '{name}': a draft names parameters as "
                                                    "policy.name").format(name=name), loc,
                                          suggest_qualified(name, params)))
            continue
        if declaration:
            owner, _dot, short = name.rpartition(".")
            if not owner or owner not in changes:
                diagnostics.append(Diagnostic("E209", _("unknown policy '{owner}' for parameter '{name}'").format(
                    owner=owner, name=name), loc,
                                              suggest(owner, changes)))
                continue
            new = _Builder(owner, positions, diagnostics).parameter(short, raw, path)
            for _start, value in new.values:
                diagnostics.extend(_param_value_diags(new.kind, value, name, loc))
            _put(changes[owner]["parameters"], new, lambda p: p.name == name)
            changed_params.append(name)
            continue
        old = params[name]
        if isinstance(raw, dict) and all(_ISO_DAY.fullmatch(str(k)) for k in raw):
            dated = {date.fromisoformat(str(k)): v for k, v in raw.items()}
        else:                             # one value (a table's entries too), from the draft's first day
            start = in_force.start if in_force else (old.values[0][0] if old.values else EARLIEST)
            dated = {start: raw}
            dated.update({d: v for d, v in old.values if d < start})
        for value in dated.values():
            diagnostics.extend(_param_value_diags(old.kind, value, name, positions.at(path)))
        if not (isinstance(raw, dict) and all(_ISO_DAY.fullmatch(str(k)) for k in raw)):     # one value, a table too
            values = tuple(sorted(dated.items()))
        else:
            merged = dict(old.values)
            merged.update(dated)
            values = tuple(sorted(merged.items()))
        owner = name.rsplit(".", 1)[0]
        # the draft's own place: a value the rules do not accept is reported on the draft, not the policy file
        _put(changes[owner]["parameters"], dataclasses.replace(old, values=values, loc=positions.at(path)),
             lambda p: p.name == name)
        changed_params.append(name)

    # ---- derived quantities ------------------------------------------------------------
    changed_derived = []
    for name, raw in (data.get("derived") or {}).items():
        owner = derived[name].policy if name in derived else draft_id
        builder = _Builder(owner, positions, diagnostics)
        new = builder.derived(name, raw, ("derived", name))
        _put(changes[owner]["derived"], new, lambda d: d.name == name)
        _keep_lookups(builder, changes[owner]["derived"])
        changed_derived.append(name)

    # ---- rules -------------------------------------------------------------------------
    replaced = []
    for i, raw in enumerate(data.get("replace") or []):
        path = ("replace", i)
        old = rules.get(raw["id"])
        if old is None:
            diagnostics.append(Diagnostic("E204", _("unknown rule id '{id}' in replace (to add a rule, use add:)").format(
                id=raw['id']), positions.at(path + ("id",)), suggest(raw["id"], rules)))
            continue
        builder = _Builder(old.policy, positions, diagnostics)
        new = builder.rule(raw, path, old.order)
        _put(changes[old.policy]["rules"], new, lambda r: r.id == old.id)
        _keep_lookups(builder, changes[old.policy]["derived"])
        replaced.append(old.id)
    added = []
    add = data.get("add") or []
    groups = [(draft_id, ("add",), add)] if isinstance(add, list) else \
        [(pid, ("add", pid), items) for pid, items in add.items()]
    for owner, base_path, items in groups:
        if owner not in changes:
            diagnostics.append(Diagnostic("E209", _("unknown policy '{owner}' in add").format(
                owner=owner), positions.at(base_path, key=True),
                                          suggest(owner, changes)))
            continue
        for i, raw in enumerate(items):
            path = base_path + (i,)
            if raw["id"] in rules:
                diagnostics.append(Diagnostic("E205", _("rule '{id}' already exists (first at {loc}); use replace: to change it").format(
                    id=raw['id'], loc=rules[raw['id']].loc),
                                              positions.at(path + ("id",))))
                continue
            builder = _Builder(owner, positions, diagnostics)
            new = builder.rule(raw, path, next_order)
            _keep_lookups(builder, changes[owner]["derived"])
            next_order += 1
            changes[owner]["rules"].append(new)
            added.append(new.id)
    disabled = []
    for i, rule_id in enumerate(data.get("disable") or []):
        if rule_id not in rules:
            diagnostics.append(Diagnostic("E204", _("unknown rule id '{rule_id}' in disable").format(rule_id=rule_id),
                                          positions.at(("disable", i)), suggest(rule_id, rules)))
            continue
        owner = rules[rule_id].policy
        changes[owner]["rules"] = [r for r in changes[owner]["rules"] if r.id != rule_id]
        disabled.append(rule_id)

    moved = {}
    for pid, raw in (data.get("jurisdictions") or {}).items():
        if pid not in policies:
            diagnostics.append(Diagnostic("E209", _("unknown policy '{pid}' in jurisdictions").format(pid=pid),
                                          positions.at(("jurisdictions", pid), key=True), suggest(pid, policies)))
            continue
        moved[pid] = _jurisdiction(raw, positions, ("jurisdictions", pid))
    new_policies = []
    for pid, parts in changes.items():
        base = policies.get(pid, own)
        if pid in moved:
            base = dataclasses.replace(base, jurisdiction=moved[pid])
        if pid == draft_id and not any(parts.values()):
            continue
        new_policies.append(dataclasses.replace(base, parameters=tuple(parts["parameters"]),
                                                derived=tuple(parts["derived"]), rules=tuple(parts["rules"])))
    new_policies.sort(key=lambda p: order.get(p.id, len(order)))
    outcomes, provisions = _document(data, positions, baseline, diagnostics)
    digest = hashlib.sha256((baseline.digest + "\0" + text).encode("utf-8")).hexdigest()
    draft_set = dataclasses.replace(baseline, policies=tuple(new_policies), digest="sha256:" + digest,
                                    outcomes=outcomes, provisions=provisions)
    draft = Draft(draft_id, data["title"], display, in_force, data.get("note", ""), tuple(changed_params),
                  tuple(replaced), tuple(added), tuple(disabled), tuple(changed_derived),
                  document=tuple([c for part in ("findings", "requirements")
                                  for c in ((data.get("outcomes") or {}).get(part) or {})]
                                 + [p["id"] for p in data.get("provisions") or []]))
    return draft_set, draft


def _document(data: dict, positions, baseline: m.PolicySet, diagnostics: list):
    """The outcome catalogue and register with a new document's own codes and provisions added."""
    outcomes = baseline.outcomes
    new = data.get("outcomes") or {}
    merged = {}
    for part in ("findings", "requirements"):
        merged[part] = dict(getattr(outcomes, part))
        for code, entry in (new.get(part) or {}).items():
            if code in merged[part]:
                diagnostics.append(Diagnostic("E205", _("{value} code '{code}' is already in outcomes.yaml").format(
                    value=part[:-1], code=code),
                                              positions.at(("outcomes", part, code), key=True)))
            merged[part][code] = entry
    provisions = dict(baseline.provisions)
    for i, entry in enumerate(data.get("provisions") or []):
        if entry["id"] in provisions:
            diagnostics.append(Diagnostic("E205", _("provision '{id}' is already in provisions.yaml").format(
                id=entry['id']),
                                          positions.at(("provisions", i, "id"))))
        provisions[entry["id"]] = entry
    return m.Outcomes(merged["findings"], merged["requirements"], outcomes.determinations), provisions


def _keep_lookups(builder: _Builder, derived: list) -> None:
    """The table entries a draft's conditions read (``{param: NAME, key: {fact: F}}``), as derived lookups."""
    for lookup in builder.lookups.values():
        _put(derived, lookup, lambda d, name=lookup.name: d.name == name)


def _put(items: list, new, same) -> None:
    for i, item in enumerate(items):
        if same(item):
            items[i] = new
            return
    items.append(new)


def lint_drafts(paths, policies_dir) -> list[Diagnostic]:
    """Every diagnostic of some draft files, against the policy set in ``policies_dir``."""
    if not paths:
        return []
    from cadre_policy.load.policyset import lint as lint_set
    baseline, diagnostics = lint_set(policies_dir)
    if baseline is None or any(d.severity == "error" for d in diagnostics):
        return [Diagnostic("E003", _("the policy set {policies_dir} has errors; lint it first").format(
            policies_dir=policies_dir), Location(str(p)))
                for p in paths]
    out = []
    for path in paths:
        out += load_draft(path, baseline)[2]
    return out


# ---- quick changes: --set NAME=VALUE ------------------------------------------------------
def parse_set(policy_set: m.PolicySet, text: str, as_of: date) -> tuple[str, object]:
    """``supervision.admonish_ratio=3/10`` -> (qualified name, value parsed by the parameter's kind).

    Raises:
        DraftError: no '=', an unknown name (with a did-you-mean), or a value that does
        not fit the parameter's kind.
    """
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name:
        raise DraftError(_("--set needs NAME=VALUE, e.g. supervision.admonish_ratio=3/10 (got '{text}')").format(
            text=text))
    params = policy_set.parameters
    if name not in params:
        short = {p.split(".", 1)[1]: p for p in params}
        if name in short:
            name = short[name] if list(short.values()).count(short[name]) == 1 else name
        if name not in params:
            hint = suggest_qualified(name, params)
            raise DraftError(_("unknown parameter '{name}' in --set").format(name=name)
                             + (_(" (did you mean '{hint}'?)").format(hint=hint) if hint else ""))
    param = params[name]
    value: object = raw
    if param.kind in ("years", "months", "count"):
        try:
            value = parse_whole(raw)
        except ValueError:
            raise DraftError(_("--set {name}: '{raw}' is not a whole number of {kind}").format(
                name=name, raw=raw, kind=param.kind)) from None
    elif param.kind == "enum" and isinstance(param.raw_on(as_of), list):
        value = [v.strip() for v in raw.split(",") if v.strip()]
    try:
        parsed = parse_parameter(param.kind, value)
    except ValueError as error:
        raise DraftError(f"--set {name} ({param.kind}): {error}") from None
    if param.kind == "enum":
        _check_members(policy_set, param, value)
    return name, parsed


def _check_members(policy_set: m.PolicySet, param: m.Parameter, value) -> None:
    """Refuse an enumeration value the rules comparing with the parameter do not know, as a draft's would be
    (the checker's E302), with the message on the option rather than on the policy file."""
    from cadre_policy.validate.policy import Checker
    where = f"--set {param.name}"
    checker = Checker(policy_set)
    checker.parameters = dict(checker.parameters)
    checker.parameters[param.name] = dataclasses.replace(param, values=((date(1900, 1, 1), value),),
                                                         loc=Location(where))
    for diagnostic in checker.check():
        if diagnostic.code == "E302" and diagnostic.location.file == where:
            hint = f" (did you mean '{diagnostic.suggestion}'?)" if diagnostic.suggestion else ""
            raise DraftError(f"{where}: {diagnostic.message}{hint}")


def parse_sets(policy_set: m.PolicySet, texts, as_of: date) -> tuple[dict, dict]:
    """(overrides by qualified name, raw text by name) of several ``--set`` options."""
    overrides, raws = {}, {}
    for text in texts or ():
        name, value = parse_set(policy_set, text, as_of)
        overrides[name] = value
        raws[name] = text.partition("=")[2].strip()
    return overrides, raws

