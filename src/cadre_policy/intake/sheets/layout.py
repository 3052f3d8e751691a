"""The one table of the spreadsheet layout: every sheet, every column.

Reading (:mod:`.reader`), the template and the XLSX/CSV export (:mod:`.writer`), the
说明 sheet and the section of docs/spreadsheets.md (:mod:`.doc`) are all driven by :data:`SHEETS`.
A sheet holds one record kind of the import format; record sheets name their cadre
in the column 干部编号 (``cadre``), and 整改 rows name their review by cadre and
评议日期 (``review_date``). Headers are the Chinese labels the product prints
(:mod:`cadre_policy.language.labels`) where one exists; the English field name is
accepted as a header too.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cadre_policy.language import record_table
from cadre_policy.language.labels import VALUES, field

#: SheetColumn kinds and how 说明 names them.
KINDS: dict[str, str] = {
    "id": "编号（字母、数字、_ . -）",
    "text": "文字",
    "int": "整数",
    "date": "日期（Excel 日期，或 2017-06-30、2017.06.30、2017/6/30、2017年6月30日）",
    "birth": "日期，或出生年月 1975.04 / 1975年4月（按当月1日计）",
    "month": "日期，或只写年月 1998.07 / 1998年7月（按当月1日计）",
    "bool": "是/否",
    "enum": "选项（中文或代码）",
    "flags": "多个选项，用、或逗号分隔",
}


@dataclass(frozen=True)
class SheetColumn:
    """One column of a sheet.

    Attributes:
        header: The Chinese header.
        field: The English field name; dotted (``recruitment.date``) below a nested record.
        kind: One of :data:`KINDS`.
        required: The value must be given on every row.
        values: Key into :data:`cadre_policy.language.labels.VALUES` for ``enum``/``flags``.
        note: What the column means (说明 sheet, docs/spreadsheets.md).
        aliases: Other headers read as this column.
    """

    header: str
    field: str
    kind: str
    required: bool = False
    values: str | None = None
    note: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def labels(self) -> dict[str, str]:
        """Code → Chinese label of an enumerated column (empty otherwise)."""
        return VALUES.get(self.values, {}) if self.values else {}

    @cached_property
    def codes(self) -> dict[str, str]:
        """What a cell of an enumerated column may hold → its code: each code itself, then each
        label (a label equal to another value's code reads as that code, as the codes come first)."""
        labels = self.labels
        return {**{label: code for code, label in reversed(labels.items())}, **{code: code for code in labels}}

    @property
    def leaf(self) -> str:
        """The key inside the record (``date`` of ``recruitment.date``)."""
        return self.field.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Sheet:
    """One sheet (or CSV file): one record kind.

    Attributes:
        name: Sheet name (Chinese); the CSV file is ``NAME.csv``.
        key: The import format's list: ``units``, ``cadres``, a cadre's record list,
            or ``rectification`` (a review's checks).
        columns: The columns in template order.
        note: What one row is.
    """

    name: str
    key: str
    columns: tuple[SheetColumn, ...]
    note: str = ""

    def column(self, field_name: str) -> SheetColumn | None:
        """The column of a field name, or None."""
        return next((c for c in self.columns if c.field == field_name), None)


def _c(name: str, kind: str, required: bool = False, values: str | None = None, note: str = "",
       header: str | None = None, aliases: tuple[str, ...] = ()) -> SheetColumn:
    if kind in ("enum", "flags") and values is None:
        values = name
    return SheetColumn(header or field(name), name, kind, required, values, note, aliases)


CADRE = _c("cadre", "id", True, header="干部编号", note="本行记录所属干部的编号（干部表的编号）")
REVIEW_DATE = _c("review_date", "date", True, header="评议日期", note="所属监督评议的日期（监督评议表的日期）")
#: The columns a record sheet has before its own: the cadre, and for 整改 the review it checks.
_LEADING = {"cadres": (), "units": (), "rectification": (CADRE, REVIEW_DATE)}


def _columns(kind: record_table.Kind, prefix: str = "") -> list[SheetColumn]:
    """The sheet columns of a record kind, from the record schema table (a nested record's
    fields are columns of the same sheet, ``recruitment.date``)."""
    out = []
    for f in kind.fields.values():
        if f.type == "record":
            out += _columns(record_table.kind(f.of), prefix=f"{f.name}.")
            continue
        if f.sheet is None or f.type == "list":
            continue
        sheet = f.sheet
        out.append(SheetColumn(sheet.get("header") or f.label,
                          prefix + f.name, sheet.get("kind", f.type), sheet.get("required", f.required),
                          f.values_name, sheet.get("note", ""), tuple(sheet.get("aliases", ()))))
    return out


SHEETS: tuple[Sheet, ...] = tuple(
    Sheet(kind.sheet["name"], kind.list, (*_LEADING.get(kind.list, (CADRE,)), *_columns(kind)), kind.sheet["note"])
    for kind in record_table.kinds().values() if kind.sheet)

#: The sheet explaining every column (template and export); skipped when reading.
NOTES_SHEET = "说明"

BY_NAME: dict[str, Sheet] = {s.name: s for s in SHEETS}
BY_KEY: dict[str, Sheet] = {s.key: s for s in SHEETS}


def sheet_named(name: str) -> Sheet | None:
    """The sheet of a sheet or CSV name: Chinese (``任职``) or the list key (``posts``)."""
    name = name.strip()
    return BY_NAME.get(name) or BY_KEY.get(name)


def values_text(column: SheetColumn) -> str:
    """The accepted values of a column for people: ``男 (male)、女 (female)``."""
    if column.kind == "bool":
        return "是、否"
    return "、".join(f"{label} ({code})" for code, label in column.labels.items())


def describe() -> list[tuple[str, str, str, str, str, str, str]]:
    """One row per column: sheet, header, field, kind, required, values, note (说明 sheet, docs/spreadsheets.md)."""
    return [(s.name, c.header + "".join(f" / {a}" for a in c.aliases), c.field, KINDS[c.kind],
             "是" if c.required else "", values_text(c), c.note)
            for s in SHEETS for c in s.columns]
