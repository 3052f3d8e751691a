"""A cadre's record edited in memory: its facts as form fields, and typed edits applied with a Chinese error
naming the field (the case simulator, serve/simulate.py). Nothing is written anywhere.

A field's key is its place in the canonical document: ``birth_date``, ``reviews.0.dissatisfied``,
``reviews.0.rectification.0.result``. Its label says it as the sheets do: 监督评议（第1条）·不满意票.
The edited document goes through the import's own validation (``importer.validate``) and canonical
form, as posted facts do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.language import record_table

BOOLS = {"是": True, "否": False, "true": True, "false": False}


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    type: str                       # date | int | enum | bool | text | id
    value: str                      # as the form shows it
    choices: tuple = ()             # (code, Chinese name) of an enumeration or a yes/no


class EditRejected(UserError):
    """Edits that cannot be applied: (key, label, message) for each field at fault."""

    def __init__(self, errors: list[tuple[str, str, str]]):
        super().__init__("；".join(f"{label}：{message}" for _key, label, message in errors))
        self.errors = errors


def _shown(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))


def _walk(kind: record_table.Kind, doc: dict, prefix: str, title: str):
    """(key, label, field, value) of every scalar field of a record and the records it holds."""
    for name, spec in kind.fields.items():
        if name == "id" or spec.type == "flags":
            continue
        value = doc.get(name)
        if spec.type == "record" and isinstance(value, dict):
            yield from _walk(record_table.kind(spec.of), value, f"{prefix}{name}.", f"{title}{spec.label}·")
        elif spec.type == "list" and isinstance(value, list):
            inner = record_table.kind(spec.of)
            for i, item in enumerate(value):
                yield from _walk(inner, item, f"{prefix}{name}.{i}.",
                                 _("{title}{label} (no. {n})").format(title=title, label=spec.label, n=i + 1) + "·")
        elif spec.scalar and (name in doc or prefix == ""):
            yield f"{prefix}{name}", f"{title}{spec.label}", spec, value


def form_fields(doc: dict) -> list[FormField]:
    """Every fact of a cadre's record that a form can change, in the record table's order."""
    out = []
    for key, label, spec, value in _walk(record_table.kind("cadre"), doc, "", ""):
        choices = tuple(spec.values.items()) if spec.type == "enum" else \
            (("是", "是"), ("否", "否")) if spec.type == "bool" else ()
        out.append(FormField(key, label, spec.type, _shown(value), choices))
    return out


def _typed(spec: FormField, text: str):
    """The form's text as the record holds it; ValueError with the reason in Chinese."""
    text = text.strip()
    if text == "":
        return None
    if spec.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(_("not a date (YYYY-MM-DD): {text}").format(text=text)) from None
    if spec.type == "int":
        if not text.lstrip("-").isdigit():
            raise ValueError(_("not a whole number: {text}").format(text=text))
        return int(text)
    if spec.type == "bool":
        if text.lower() not in BOOLS:
            raise ValueError(_("answer 是 or 否: {text}").format(text=text))
        return BOOLS[text.lower()]
    if spec.type == "enum" and text not in dict(spec.choices):
        names = {name: code for code, name in spec.choices}
        if text not in names:
            raise ValueError(_("“{text}” is not one of {choices}").format(
                text=text, choices="、".join(name for _code, name in spec.choices)))
        return names[text]
    return text


def _put(doc, key: str, value) -> None:
    *path, last = key.split(".")
    for part in path:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    if value is None:
        doc.pop(last, None)
    else:
        doc[last] = value


def edited(doc: dict, edits: dict[str, str], unit_ids) -> tuple[dict, list[tuple[str, str, str]]]:
    """The cadre's canonical document with ``edits`` (key -> the form's text) applied, and what changed
    (label, before, after). Raises EditRejected naming each field whose value does not fit."""
    from cadre_policy.intake.importer import validate
    from cadre_policy.parse.positioned import Document
    from cadre_policy.record.canonical import canonical_cadre
    fields = {f.key: f for f in form_fields(doc)}
    plain = json.loads(json.dumps(doc, default=str))
    errors, changed = [], []
    for key, text in edits.items():
        spec = fields.get(key)
        if spec is None:
            errors.append((key, key, _("no such fact in this cadre's record")))
            continue
        if text.strip() == spec.value:
            continue
        try:
            _put(plain, key, _typed(spec, text))
        except ValueError as error:
            errors.append((key, spec.label, str(error)))
            continue
        names = dict(spec.choices)
        changed.append((spec.label, names.get(spec.value, spec.value) or "—", names.get(text.strip(), text.strip()) or "—"))
    if not errors:
        for issue in validate([Document("input", {"units": [], "cadres": [plain]})], unit_ids):
            key = _key(issue.path)
            spec = fields.get(key)
            errors.append((key, spec.label if spec else key, issue.message))
    if errors:
        raise EditRejected(errors)
    return canonical_cadre(plain), changed


def _key(path: str) -> str:
    """``$.cadres[0].reviews[0].total`` -> ``reviews.0.total``."""
    return path.replace("$.cadres[0]", "", 1).replace("[", ".").replace("]", "").lstrip(".")
