"""Reading policy files: strict YAML, the JSON Schema, and the model.

The loader reports reading (E0xx) and schema (E1xx) problems with their positions;
name and type checks are the checker's (``validate.policy``).
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import jsonschema

from jsonschema.exceptions import best_match

from cadre_policy.language import model as m
from cadre_policy.diagnostics import Diagnostic, Location, suggest
from cadre_policy.i18n import N_, _
from cadre_policy.parse.positioned import load_yaml
from cadre_policy.parse.positions import Positions

DERIVED_FORMS = ("latest", "first", "current", "duration", "count", "some", "every", "elapsed", "ratio", "age",
                 "rank", "steps", "year", "plus", "minus", "min", "max", "lookup", "consecutive")
DATA_FILES = {"provisions.yaml", "outcomes.yaml", "test_units.yaml"}
SCHEMA_LINE = "# yaml-language-server: $schema="


def policy_schema() -> dict:
    """The JSON Schema of a policy file (``schemas/policy.schema.json``, without generated enums)."""
    from cadre_policy.parse.schemas import structural
    return structural("policy")


def _policy_validator():
    from cadre_policy.parse.schemas import validator
    return validator("policy")


def policy_files(directory: Path) -> list[Path]:
    """The policy files of a policy-set directory, in name order."""
    return sorted(p for p in directory.glob("*.yaml")
                  if p.name not in DATA_FILES and not p.name.endswith(".tests.yaml"))


def _isoformat_dates(value):
    """YAML reads 2008-01-01 as a date; the schema and the model read strings."""
    if isinstance(value, dict):
        return {k: _isoformat_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_isoformat_dates(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def read_yaml_file(path: Path, display: str | None = None):
    """Read one YAML file strictly: (data, positions, diagnostics, text)."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, Positions(display), [Diagnostic("E003", _("cannot read file: {error}").format(
            error=error), Location(display))], ""
    data, positions, problems = load_yaml(text, display)
    return _isoformat_dates(data), positions, problems, text


def schema_diagnostics(data, positions: Positions, schema=None) -> list[Diagnostic]:
    """Validate ``data`` against a schema (a dict or a ready validator; the policy schema by
    default); one diagnostic per problem, placed at the node it is about."""
    schema = schema or policy_schema()
    from cadre_policy.parse.schemas import DATES
    validator = schema if isinstance(schema, jsonschema.protocols.Validator) else \
        jsonschema.Draft202012Validator(schema, format_checker=DATES)
    found = []
    for error in validator.iter_errors(data):
        found.extend(_explain(error, positions))
    unique = {(d.location, d.message): d for d in found}
    return list(unique.values())


# Words authors write for an operator the language spells otherwise (docs/language.md, boundary words).
_OPERATOR_HINTS = {"大于": "超过", "多于": "超过", "高于": "超过", "小于": "低于", "少于": "不满", "不少于": "以上",
                   "大于等于": "以上", "小于等于": "以下", "等于": "eq", "不等于": "ne", ">": "gt", ">=": "gte",
                   "<": "lt", "<=": "lte", "==": "eq", "=": "eq", "!=": "ne"}
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _rule_form(rule: dict, path, positions: Positions) -> Diagnostic:
    """Why a rule fits none of its four forms, said about what it has."""
    kinds = [k for k in ("finding", "requirement", "derive", "exception_to") if k in rule]
    if len(kinds) != 1:
        found = f"; found {' and '.join(kinds)}" if kinds else ""
        return Diagnostic("E101", _("a rule concludes exactly one of: 'finding' (with 'when'), 'requirement' (with 'met'), 'derive' (with 'when'), 'exception_to' (with 'when'){found}").format(
            found=found),
                          positions.at(path))
    if kinds == ["requirement"]:
        if "when" in rule:
            return Diagnostic("E101", _("a requirement states its condition in 'met' (and where it applies in 'applies'), not 'when'"), positions.at(path + ("when",), key=True), "met")
        return Diagnostic("E101", _("'met' is required with 'requirement'"), positions.at(path))
    return Diagnostic("E101", _("'when' is required with '{value}'").format(value=kinds[0]), positions.at(path))


def _is_rule_schema(schema) -> bool:
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return "finding" in props and "requirement" in props


def _applicable(errors) -> list:
    """The errors of the alternatives of an anyOf/oneOf whose type fits the instance.

    An alternative that fails at its root on ``type`` (a list where a mapping is
    wanted) says nothing about what the author meant; the others do.
    """
    branches: dict = {}
    for error in errors:
        branches.setdefault(error.relative_schema_path[0], []).append(error)
    return [e for group in branches.values()
            if not any(e.validator == "type" and not e.relative_path for e in group) for e in group]


def _explain(error, positions: Positions) -> list[Diagnostic]:
    from cadre_policy.parse.schemas import unknown_keys
    path = tuple(error.absolute_path)
    unknown = unknown_keys(error)
    if unknown is not None:
        keys, allowed = unknown
        out = []
        for key in keys:
            hint = _OPERATOR_HINTS.get(str(key))
            what = _("unknown operator '{key}'") if hint in allowed else _("unknown key '{key}'")
            out.append(Diagnostic("E102", what.format(key=key), positions.at(path + (key,), key=True),
                                  hint if hint in allowed else suggest(str(key), allowed)))
        return out
    if error.validator == "oneOf" and _is_rule_schema(error.schema) and isinstance(error.instance, dict):
        if set(error.instance) - set(error.schema["properties"]):
            return []   # a misspelt key explains why the rule fits no form: its E102 says so
        return [_rule_form(error.instance, path, positions)]
    if error.validator in ("anyOf", "oneOf") and error.context:
        applicable = _applicable(error.context)
        if applicable and len({e.relative_schema_path[0] for e in applicable}) == 1:
            return [d for e in applicable for d in _explain(e, positions)]
        deepest = best_match(applicable or error.context)
        if deepest is not None and deepest.validator != error.validator:
            return _explain(deepest, positions)
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        return [Diagnostic("E101", _("'{key}' is required").format(key=missing), positions.at(path))]
    if error.validator == "format" and error.validator_value == "date":
        return [Diagnostic("E104", _("'{value}' is not a calendar date").format(value=error.instance),
                           positions.at(path))]
    if error.validator == "pattern" and error.validator_value == _DATE_PATTERN:
        return [Diagnostic("E104", _("'{value}' is not a date (YYYY-MM-DD)").format(value=error.instance),
                           positions.at(path + ((error.instance,) if error.instance in positions.keys(path) else ()),
                                        key=error.instance in positions.keys(path)))]
    if error.validator == "enum":
        allowed = [str(v) for v in error.validator_value]
        shown = ", ".join(allowed) if len(allowed) <= 12 else ", ".join(allowed[:12]) + ", …"
        return [Diagnostic("E302", _("{value} is not one of {allowed}").format(value=_yaml_text(error.instance),
                                                                               allowed=shown), positions.at(path),
                           suggest(str(error.instance), allowed))]
    where = "/".join(str(p) for p in path) or _("(top)")
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return [Diagnostic("E101", _("{where}: {found} where {wanted} is expected").format(
            where=where, found=_(_KINDS.get(type(error.instance), N_("a value"))),
            wanted=_(" or ").join(_(KINDS_BY_NAME.get(w, w)) for w in wanted)), positions.at(path))]
    if error.validator == "pattern" and path and path[0] == "parameters":
        return [Diagnostic("E101", _("{where}: a parameter is named policy.name in ASCII letters "
                                     "(for example supervision.admonish_ratio), not '{name}'").format(
            where=where, name=error.instance), positions.at(path + (error.instance,), key=True))]
    message = error.message if len(error.message) <= 200 else f"{_yaml_text(error.instance)[:60]} … does not fit"
    return [Diagnostic("E101", f"{where}: {message}", positions.at(path))]


_KINDS = {dict: N_("a mapping"), list: N_("a list"), str: N_("text"), int: N_("a number"), float: N_("a number"),
          bool: N_("true/false"), type(None): N_("null")}
KINDS_BY_NAME = {"object": N_("a mapping"), "array": N_("a list"), "string": N_("text"),
                  "integer": N_("a whole number"), "number": N_("a number"), "boolean": N_("true/false"),
                  "null": N_("null")}


def _yaml_text(value) -> str:
    """A value as the author wrote it in YAML (true, not True; quoted text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return f"'{value}'" if isinstance(value, str) else str(value)


# ---- building the model ---------------------------------------------------------------
class _Builder:
    """Turns one validated policy document into model objects."""

    def __init__(self, policy_id: str, positions: Positions, diagnostics: list):
        self.policy_id = policy_id
        self.pos = positions
        self.diagnostics = diagnostics
        self.lookups: dict[str, m.Derived] = {}    # {param: NAME, key: {fact: F}} values, as derived lookups

    def loc(self, path) -> Location:
        return self.pos.at(path)

    def value(self, raw, path):
        loc = self.loc(path)
        if isinstance(raw, dict):
            if "param" in raw and isinstance(raw.get("key"), dict) and "fact" in raw["key"]:
                return m.FactRef(self._lookup(raw["param"], raw["key"]["fact"], loc), loc)
            if "param" in raw:
                return m.ParamRef(raw["param"], loc, self.policy_id)
            if "fact" in raw:
                return m.FactRef(raw["fact"], loc)
            if "rank" in raw:
                return self.rank_of(raw, path)
            return self.period(raw, path)
        return m.Literal(raw, loc)

    def _lookup(self, param: str, fact: str, loc) -> str:
        """A table parameter's entry named by a fact, as a derived quantity of its own (``lookup``): the
        value ``{param: NAME, key: {fact: F}}`` reads it, so every engine sees a plain fact."""
        name = f"{param.replace('.', '__')}__by__{fact.replace('.', '__')}"
        if name not in self.lookups:
            self.lookups[name] = m.Derived(name, f"{param}（按 {fact}）", "lookup", fact, None, None, None, None, (),
                                           "", self.policy_id, loc, None, None, (),
                                           m.ParamRef(param, loc, self.policy_id))
        return name

    def rank_of(self, raw, path) -> m.RankOf:
        return m.RankOf(raw["rank"], raw.get("step", 0), raw.get("level", ""), self.loc(path))

    def period(self, raw, path) -> m.Period:
        unit = next(iter(raw))
        amount = raw[unit]
        if isinstance(amount, dict) and not isinstance(amount.get("key"), (str, type(None))):
            self.diagnostics.append(Diagnostic("E103", _("a period's table entry is named by a field of the record (key: kind)"), self.loc(path + (unit,))))
            amount = {"param": amount["param"]}
        amount = m.ParamRef(amount["param"], self.loc(path + (unit,)), self.policy_id, amount.get("key")) \
            if isinstance(amount, dict) else m.Literal(amount, self.loc(path + (unit,)))
        return m.Period(unit, amount, self.loc(path))

    def condition(self, raw, path, record: bool = False):
        loc = self.loc(path)
        if isinstance(raw, list):
            return m.All(tuple(self.condition(c, path + (i,), record) for i, c in enumerate(raw)), loc)
        if record and not ({"field", "all", "any", "not", "present", "absent"} & set(raw)):
            # `where: {grassroots: true}` is short for equality on each field
            return m.All(tuple(m.Compare(k, "==", "eq", m.Literal(v, self.loc(path + (k,))), self.loc(path + (k,)))
                               for k, v in raw.items()), loc)
        for key, cls in (("all", m.All), ("any", m.Any)):
            if key in raw:
                self._only(raw, {key}, path)
                return cls(tuple(self.condition(c, path + (key, i), record) for i, c in enumerate(raw[key])), loc)
        if "not" in raw:
            self._only(raw, {"not"}, path)
            return m.Not(self.condition(raw["not"], path + ("not",), record), loc)
        for key in ("present", "absent"):
            if key in raw:
                self._only(raw, {key}, path)
                return m.Present(raw[key], key == "present", loc)
        for key in ("finding", "derived"):
            if key in raw:
                self._only(raw, {key}, path)
                return m.Asserted(key, raw[key], loc)
        subjects = [k for k in ("fact", "field", "ratio") if k in raw]
        operators = [k for k in raw if k in m.OPERATORS or k in ("within", "has")]
        if len(subjects) != 1 or len(operators) != 1:
            self.diagnostics.append(Diagnostic(
                "E103", _("a comparison needs one subject (fact, field or ratio) and one operator (以上, 超过, eq, within, ...); found {value}").format(
                    value=sorted(raw)), loc))
            return m.All((), loc)
        subject_key, word = subjects[0], operators[0]
        if record != (subject_key != "fact") and subject_key != "ratio":
            wanted = "field" if record else "fact"
            self.diagnostics.append(Diagnostic("E103", _("use '{wanted}:' here, not '{subject_key}:'").format(
                wanted=wanted, subject_key=subject_key), loc))
        subject = raw[subject_key]
        ratio_of = ()
        if subject_key == "ratio":
            ratio_of = tuple(subject)
            subject = f"{subject[0]}/{subject[1]}"
        if word == "within":
            return m.Within(subject, self.period(raw["within"], path + ("within",)), loc)
        if word == "has":
            return m.Has(subject, raw["has"], loc)
        return m.Compare(subject, m.OPERATORS[word], word, self.value(raw[word], path + (word,)), loc, ratio_of)

    def _only(self, raw, keys, path):
        extra = set(raw) - keys
        if extra:
            self.diagnostics.append(Diagnostic(
                "E103", _("'{value}' stands alone in its condition; move {value2} into a list").format(
                    value=next(iter(keys)), value2=sorted(extra)),
                self.loc(path)))

    def parameter(self, name, raw, path) -> m.Parameter:
        values = tuple(sorted((date.fromisoformat(k), v) for k, v in raw["values"].items()))
        return m.Parameter(f"{self.policy_id}.{name}", raw["kind"], raw["title"], values,
                           raw.get("note", ""), raw.get("open", False), self.pos.at(path, key=True))

    def derived(self, name, raw, path) -> m.Derived:
        forms = [f for f in DERIVED_FORMS if f in raw]
        if len(forms) != 1:
            self.diagnostics.append(Diagnostic(
                "E101", _("derived quantity '{name}' needs exactly one of {items}; found {value}").format(
                    name=name, items=', '.join(DERIVED_FORMS), value=forms or 'none'), self.loc(path)))
            forms = forms or ["latest"]
        form = forms[0]
        source = raw.get(form)
        operands, param, n, by = (), None, 0, ""
        if form in m.ARITHMETIC:           # two operands: fact paths or integers
            operands = tuple(source)
            source = tuple(x for x in operands if isinstance(x, str))
        elif form == "lookup":             # a table parameter's entry named by a fact
            param = m.ParamRef(source, self.loc(path + ("lookup",)), self.policy_id)
            source = raw.get("key")
        elif form == "consecutive":
            spec = source
            source, n, by = spec.get("over"), spec.get("count", 0), spec.get("by", "")
            if "where" in spec:
                raw = dict(raw, where=spec["where"])
                path_where = path + ("consecutive", "where")
        if isinstance(source, list):       # ratio, steps: two facts; elapsed, year: the first date on record
            source = tuple(source)
        if form == "consecutive" and "where" in raw:
            where = self.condition(raw["where"], path_where, record=True)
        else:
            where = self.condition(raw["where"], path + ("where",), record=True) if "where" in raw else None
        satisfies = self.condition(raw["satisfies"], path + ("satisfies",)) if "satisfies" in raw else None
        within = self.period(raw["within"], path + ("within",)) if "within" in raw else None
        distinct = raw.get("distinct") or ()
        distinct = (distinct,) if isinstance(distinct, str) else tuple(distinct)
        rank = self.rank_of({"rank": source, "step": raw.get("step", 0), "level": raw.get("level", "")},
                            path + ("rank",)) if form == "rank" else None
        return m.Derived(name, raw["title"], form, source, where, raw.get("at"), raw.get("since"), within,
                         distinct, raw.get("note", ""), self.policy_id, self.pos.at(path, key=True),
                         satisfies, rank, operands, param, n, by)

    def rule(self, raw, path, order) -> m.Rule:
        kind = next(k for k in ("finding", "requirement", "derive", "exception_to") if k in raw)
        cond = {k: self.condition(raw[k], path + (k,)) for k in ("when", "applies", "met", "unmet") if k in raw}
        until = None
        if "until" in raw:
            plus = raw["until"]["plus"]
            plus_path = path + ("until", "plus")
            plus = m.ParamRef(plus["param"], self.loc(plus_path), self.policy_id) if "param" in plus else self.period(plus, plus_path)
            until = m.Until(raw["until"]["fact"], plus, self.loc(path + ("until",)))
        in_force = self.in_force(raw["in_force"], path + ("in_force",)) if "in_force" in raw else None
        if kind == "exception_to":
            kind, code = "exception", raw["id"]
        else:
            code = raw[kind]
        return m.Rule(raw["id"], raw["title"], raw["provision"], raw["quote"], kind, code, self.policy_id,
                      raw.get("section", ""), raw.get("note", ""), cond.get("when"), cond.get("applies"),
                      cond.get("met"), cond.get("unmet"), until, tuple(raw.get("supersedes", ())), in_force,
                      order, self.loc(path), raw.get("strength", "required"), tuple(raw.get("exception_to", ())))


    def in_force(self, raw, path) -> m.InForce:
        """An in-force period; one that ends before it starts is E405."""
        end = raw.get("to")
        period = m.InForce(date.fromisoformat(raw["from"]), date.fromisoformat(end) if end else None)
        if period.end is not None and period.end < period.start:
            self.diagnostics.append(Diagnostic(
                "E405", _("in_force ends ({end}) before it starts ({start})").format(
                    end=period.end, start=period.start),
                self.loc(path + ("to",))))
        return period


def read_checked(path: Path, display: str, schema: dict, what: str, schema_file: str):
    """Read a YAML mapping and check it against ``schema``: (data, positions, diagnostics, text).

    ``data`` is None when the file could not be read or is not a mapping; ``what`` names the
    expected content in that message; a missing schema line is warning W503.
    """
    data, positions, problems, text = read_yaml_file(path, display)
    if problems or data is None:
        if data is None and not problems:
            problems = [Diagnostic("E003", _("the file is empty"), Location(display, 1, 1))]
        return None, positions, problems, text
    if not isinstance(data, dict):
        return None, positions, [Diagnostic("E101", f"{what}", Location(display, 1, 1))], text
    diagnostics = schema_diagnostics(data, positions, schema)
    if not text.startswith(SCHEMA_LINE):
        diagnostics.append(Diagnostic("W503", _("the first line should be '{line}' so editors complete and check "
                                                "the file").format(line=f"{SCHEMA_LINE}../schemas/{schema_file}"),
                                      Location(display, 1, 1)))
    return data, positions, diagnostics, text


def load_policy(path: Path, order_start: int = 0, display: str | None = None):
    """Load one policy file: (Policy or None, diagnostics, source text)."""
    display = display or str(path)
    data, positions, diagnostics, text = read_checked(
        path, display, _policy_validator(), "a policy file is a mapping (id, title, source, in_force, rules)",
        "policy.schema.json")
    if data is None or any(d.severity == "error" for d in diagnostics):
        return None, diagnostics, text
    builder = _Builder(data["id"], positions, diagnostics)
    derived = tuple(builder.derived(k, v, ("derived", k)) for k, v in data.get("derived", {}).items())
    rules = tuple(builder.rule(r, ("rules", i), order_start + i) for i, r in enumerate(data.get("rules", [])))
    src = data["source"]
    policy = m.Policy(
        id=data["id"], title=data["title"],
        source=m.Source(src["document"], src.get("issuer", ""), src.get("date"), src.get("file", ""),
                        src.get("note", "")),
        in_force=builder.in_force(data["in_force"], ("in_force",)), file=display,
        parameters=tuple(builder.parameter(k, v, ("parameters", k)) for k, v in data.get("parameters", {}).items()),
        derived=derived + tuple(builder.lookups.values()),
        rules=rules,
        boundary=data.get("boundary", "民法典"),
        jurisdiction=_jurisdiction(data.get("jurisdiction"), positions),
        groups=data.get("groups", {}),
        structure=tuple(data.get("structure", ())),
        positions=positions,
    )
    return policy, diagnostics, text


def _jurisdiction(raw, positions, path=("jurisdiction",)) -> m.Jurisdiction | None:
    """A ``jurisdiction:`` mapping (checked by the schema) as the model's Jurisdiction; None when absent."""
    if raw is None:
        return None
    return m.Jurisdiction(tuple(raw["regions"]), tuple(raw.get("management", ())), raw.get("note", ""),
                          positions.at(path, key=True))


def read_data_file(path: Path, schema_name: str, display: str | None = None):
    """Read a data file of the set (outcomes, register, test units) and check it against its
    shipped schema: (data or None, positions, diagnostics)."""
    from cadre_policy.parse.schemas import validator
    data, positions, problems, _text = read_yaml_file(path, display)
    if problems:
        return None, positions, problems
    if not isinstance(data, dict):
        return None, positions, [Diagnostic("E101", _("{name} is a mapping").format(
            name=path.name), Location(display or str(path), 1, 1))]
    problems = schema_diagnostics(data, positions, validator(schema_name))
    return (None if problems else data), positions, problems


def load_outcomes(path: Path) -> tuple[m.Outcomes, list[Diagnostic]]:
    """Read ``outcomes.yaml``: the finding codes, requirement codes and determinations."""
    if not path.exists():
        return m.Outcomes({}, {}, {}), [Diagnostic("E003", _("no outcomes.yaml in the policy set"), Location(str(path)))]
    data, _positions, problems = read_data_file(path, "outcomes")
    data = data or {}
    return m.Outcomes(data.get("findings") or {}, data.get("requirements") or {},
                      data.get("determinations") or {}), problems


def load_register(path: Path) -> tuple[dict, list[Diagnostic]]:
    """Read ``provisions.yaml``: the provision register, by id."""
    if not path.exists():
        return {}, []
    data, positions, problems = read_data_file(path, "provisions")
    register = {}
    for i, entry in enumerate((data or {}).get("provisions") or []):
        if entry["id"] in register:
            problems.append(Diagnostic("E205", _("duplicate provision id '{id}'").format(id=entry['id']),
                                       positions.at(("provisions", i, "id"))))
        register[entry["id"]] = entry
    return register, problems


def load_policy_set(directory) -> tuple[m.PolicySet | None, list[Diagnostic]]:
    """Load every policy file of a directory, without the name and type checks.

    Returns:
        The policy set (None when a file could not be read) and the diagnostics.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return None, [Diagnostic("E003", _("no such policy directory"), Location(str(directory)))]
    diagnostics: list[Diagnostic] = []
    policies = []
    digest = hashlib.sha256()
    order = 0
    files = policy_files(directory)
    if not files:
        diagnostics.append(Diagnostic("E004", _("no policy files (*.yaml) in the directory"), Location(str(directory))))
    for path in files:
        policy, problems, text = load_policy(path, order)
        diagnostics.extend(problems)
        digest.update(path.name.encode() + b"\0" + text.encode("utf-8") + b"\0")
        if policy is not None:
            policies.append(policy)
            order += len(policy.rules)
    outcomes, problems = load_outcomes(directory / "outcomes.yaml")
    diagnostics.extend(problems)
    register, problems = load_register(directory / "provisions.yaml")
    diagnostics.extend(problems)
    for extra in ("outcomes.yaml", "provisions.yaml"):
        if (directory / extra).exists():
            digest.update((directory / extra).read_bytes())
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    policy_set = m.PolicySet(str(directory), "sha256:" + digest.hexdigest(), tuple(policies), outcomes, register)
    return policy_set, diagnostics
