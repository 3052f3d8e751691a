"""The record schema table (data/schemas/record.yaml) and everything read or generated from it agree."""
from __future__ import annotations

from sqlalchemy import Boolean, Date, Integer, String

from cadre_policy import data
from cadre_policy.editor.schema import editor_schemas
from cadre_policy.intake.sheets.layout import SHEETS
from cadre_policy.language import labels, record_table as rt, types
from cadre_policy.record import canonical, columns, schema
from cadre_policy.store import models

# Columns a record table has besides its fields: its cadre and its place.
_KEYS = {"cadre_id", "seq", "review_seq"}


def _stored_fields(kind: rt.Kind) -> list[rt.Field]:
    """The fields a kind keeps in its own table's columns, nested records flattened (recruitment)."""
    out = []
    for f in kind.fields.values():
        if f.type == "record":
            out += _stored_fields(rt.kind(f.of))
        elif f.scalar:
            out.append(f)
    return out


def test_import_json_schema_is_generated_from_the_table():
    shipped = (data.SCHEMAS / "facts.schema.json").read_text(encoding="utf-8")
    assert shipped == schema.dump(), "regenerate: python -m cadre_policy.record.schema > …/facts.schema.json"


def test_editor_descriptions_of_the_import_format_are_the_tables():
    facts = editor_schemas(_policy_set())["facts"]
    for kind in rt.kinds().values():
        for f in kind.fields.values():
            described = facts["$defs"][kind.name]["properties"][f.name]["description"]
            assert described == f.description + schema.value_labels(f), (kind.name, f.name)


def _policy_set():
    from cadre_policy.load.policyset import load
    return load(data.POLICIES)


def test_store_columns_are_the_tables():
    sql_types = {"id": String, "text": String, "enum": String, "date": Date, "int": Integer, "bool": Boolean}
    tables = dict(models.metadata.tables)
    for kind in rt.kinds().values():
        if not kind.table:
            continue
        table = tables[kind.table]
        expected = [f.column for f in _stored_fields(kind)]
        assert [c.name for c in table.columns if c.name not in _KEYS] == expected, kind.table
        for f in _stored_fields(kind):
            column = table.c[f.column]
            assert isinstance(column.type, sql_types[f.type]), (kind.table, f.column)
            if f.type == "text":
                assert column.type.length == f.max, (kind.table, f.column)
            if f.type == "enum":
                assert column.type.length == f.column_length, (kind.table, f.column)
                assert max(map(len, f.values)) <= f.column_length, (kind.table, f.column)
            if f.required and f.kind != "recruitment":      # a nested record is optional as a whole
                assert not column.nullable, (kind.table, f.column)


def test_spreadsheet_layout_is_the_tables():
    sheets = {s.key: s for s in SHEETS}
    for kind in rt.kinds().values():
        if not kind.sheet:
            continue
        sheet = sheets[kind.list]
        assert (sheet.name, sheet.note) == (kind.sheet["name"], kind.sheet["note"])
        own = [c for c in sheet.columns if c.field not in ("cadre", "review_date")]
        expected = []
        for f in kind.fields.values():
            nested = rt.kind(f.of).fields.values() if f.type == "record" else ()
            expected += [f"{f.name}.{sub.name}" for sub in nested if sub.sheet is not None]
            if f.scalar or f.type == "flags":
                expected += [f.name] if f.sheet is not None else []
        assert [c.field for c in own] == expected, kind.list
        for column in own:
            head, _, leaf = column.field.rpartition(".")
            f = rt.kind(kind.fields[head].of).fields[leaf] if head else kind.fields[leaf]
            assert column.header == f.sheet.get("header", f.label)
            assert column.labels == f.values


def test_labels_are_the_tables():
    assert labels.FIELDS == rt.labels()
    for name, values in rt.enums().items():
        assert labels.VALUES[name] == values


def test_columnar_field_lists_are_the_tables():
    for kind in rt.kinds().values():
        if kind.list in (None, "units"):
            continue
        names = list(columns.CADRE_FIELDS if kind.list == "cadres" else columns.RECORD_FIELDS[kind.list])
        # the cadre's row by column (``recruitment_date``), a record list by field name
        expected = [f.column if kind.list == "cadres" else f.name for f in _stored_fields(kind)]
        assert names == expected, kind.list


def test_fact_types_are_the_tables():
    kinds = {"unit": types.UNIT, "cadre": types.CADRE, "post": types.POST, "appraisal": types.APPRAISAL,
             "review": types.REVIEW, "rectification": types.RECTIFICATION, "nomination": types.NOMINATION,
             "poll": types.POLL, "opinion": types.OPINION, "assessment": types.ASSESSMENT,
             "recruitment": types.RECRUITMENT, "education": types.EDUCATION_RECORD, "sanction": types.SANCTION}
    assert set(kinds) == set(rt.kinds())
    for name, record in kinds.items():
        for f in rt.kind(name).fields.values():
            if name == "cadre" and f.type in ("list", "record"):
                continue                      # a cadre's records are facts of their own
            fact = record.fields[f.name]
            if f.type == "enum":
                assert fact.values == tuple(f.values), (name, f.name)
            elif f.ref == "unit":
                assert fact is types.UNIT
            else:
                assert fact.name == {"id": "text", "text": "text", "date": "date", "int": "integer",
                                     "bool": "boolean", "flags": "flags", "list": "records"}[f.type], (name, f.name)


def test_canonical_optional_fields_are_the_tables():
    cadre = rt.kind("cadre").fields.values()
    assert canonical.CADRE_OPTIONAL == tuple(f.name for f in cadre if f.scalar and not f.required)
    assert [key for key, _ in canonical.RECORD_LISTS] == [f.name for f in cadre if f.type == "list"]


def test_test_cases_take_every_field_of_a_cadre():
    """A test case's cadre (tests.schema.json partial_cadre) has every field the table gives a cadre."""
    partial = data.schema("tests")["$defs"]["partial_cadre"]["properties"]
    assert list(partial) == list(rt.kind("cadre").fields)
    for name, spec in partial.items():
        assert spec["$ref"] == f"facts.schema.json#/$defs/cadre/properties/{name}"
