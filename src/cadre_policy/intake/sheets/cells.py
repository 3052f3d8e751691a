"""One spreadsheet cell to one value of the import format, by column kind.

Values come from openpyxl (str, int, float, bool, datetime, time) or from CSV (str).
The result is what a YAML/JSON import file would hold (dates as ISO text, codes
for enumerations), so the shared JSON Schema validates both alike.

出生年月 (year and month only, as on 干部任免审批表: ``1975.04``, ``1975-04``,
``1975/4``, ``1975年4月``) is read as the **first day** of that month. Ages (周岁)
are then reached on the 1st of the birth month: on any day of the birth month the
cadre counts as already having had the birthday, so an upper bound such as
"45岁以下" stops holding up to one month earlier, and a lower bound starts holding
up to one month earlier, than with the true day. A number cell ``1975.1`` is
refused: Excel shows ``1975.10`` typed into a General cell as ``1975.1``, so it may
mean January or October.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re

from cadre_policy.i18n import _, language
from cadre_policy.language import record_table
from cadre_policy.intake.sheets.layout import SheetColumn
from cadre_policy.language.labels import field

_FULL = (re.compile(r"(\d{4})([-./])(\d{1,2})\2(\d{1,2})"), re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"))
_MONTH = (re.compile(r"(\d{4})[-./](\d{1,2})"), re.compile(r"(\d{4})年(\d{1,2})月"))
_TRUE, _FALSE = {"是", "true", "yes", "y", "1"}, {"否", "false", "no", "n", "0"}
_YES_NO = {"是": True, "否": False}         # as the export writes them
_FLAG_SEPARATORS = re.compile(r"[、,，;；\s]+")
_EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                 "#SPILL!", "#CALC!"}


class CellError(ValueError):
    """The cell's value cannot be read as its column's kind (the message says why)."""


def is_empty(raw) -> bool:
    """True for a cell with no value (None, or text that is only spaces)."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _shown(raw) -> str:
    return f"'{raw}'" if isinstance(raw, str) else str(raw)


def _what(column: SheetColumn) -> str:
    """The column's field in words: its Chinese label, or in English the field's name."""
    return column.leaf.replace("_", " ") if language() == "en" else field(column.leaf)


def _suggest(text: str, column: SheetColumn) -> str:
    labels = list(column.labels.values())
    close = difflib.get_close_matches(text, labels + list(column.labels), n=1, cutoff=0.5)
    if close:
        best = column.labels.get(close[0], close[0])
        return _(" (did you mean '{hint}'?)").format(hint=best)
    return _(" (one of {values})").format(values="、".join(labels)) if labels else ""


def _date(year: str, month: str, day: str, raw) -> str:
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise CellError(_("{value} is not a date").format(value=_shown(raw))) from None


#: Excel's 1900 date system counts a 29 February 1900 that never was (serial 60): a date cell before
#: 1 March 1900 may be a day off whichever way it is read, so it is refused (text is read as written).
_FIRST_SURE_CELL = dt.date(1900, 3, 1)


def _date_cell(day: dt.date) -> str:
    if day < _FIRST_SURE_CELL:
        raise CellError(f"a date cell before 1900-03-01 ({day}) is ambiguous in Excel (its serial 60 is the "
                        f"1900-02-29 that never was): write the date as text")
    return day.isoformat()


def _datetime_cell(raw: dt.datetime, column: SheetColumn) -> str:
    if raw.time() != dt.time(0):
        raise CellError(_("{value} has a time of day; {field} is a date").format(value=raw, field=_what(column)))
    return _date_cell(raw.date())


def read_date(raw, column: SheetColumn) -> str:
    """A date cell or text in one of the accepted forms, as ISO text."""
    if isinstance(raw, dt.datetime):
        return _datetime_cell(raw, column)
    if isinstance(raw, dt.date):
        return _date_cell(raw)
    if isinstance(raw, str):
        text = raw.strip()
        for pattern in _FULL:
            m = pattern.fullmatch(text)
            if m:
                g = m.groups()
                return _date(g[0], g[-2], g[-1], raw)
        raise CellError(_("{value} is not a date (write 2017-06-30, 2017.06.30, 2017/6/30 or 2017年6月30日, "
                          "or use a date cell)").format(value=_shown(raw)))
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise CellError(_("the number {value} is not a date (format the cell as a date)").format(value=raw))
    raise CellError(_("{value} is not a date").format(value=_shown(raw)))


def read_birth(raw, column: SheetColumn) -> tuple[str, bool]:
    """A birth date; year and month alone stand for the 1st. Returns (ISO date, year-month only)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        year, _dot, month = f"{raw:.2f}".partition(".")
        if month == "10":
            raise CellError(_("the number {value} may mean {year}.10 or {year}.01; write the cell as text "
                              "('{year}.10')").format(value=raw, year=year))
        return _date(year, month, "1", raw), True
    if isinstance(raw, str):
        text = raw.strip()
        for pattern in _MONTH:
            m = pattern.fullmatch(text)
            if m:
                return _date(m.group(1), m.group(2), "1", raw), True
    return read_date(raw, column), False


def read_text(raw, column: SheetColumn) -> str:
    """Text; a whole number cell becomes its digits (an id typed as a number)."""
    if isinstance(raw, bool):
        raise CellError(_("{value} is a true/false cell, not text").format(value=raw))
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, (dt.date, dt.time)):
        raise CellError(_("{value} is a date or time cell, not text").format(value=raw))
    return str(raw).strip()  # control characters: refused by the shared validation


def read_int(raw, column: SheetColumn) -> int:
    """A whole number (a number cell, or digits as text)."""
    if isinstance(raw, bool):
        raise CellError(_("{value} is a true/false cell, not a whole number").format(value=raw))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
        return int(raw)
    raise CellError(_("{value} is not a whole number").format(value=_shown(raw)))


def read_bool(raw, column: SheetColumn) -> bool:
    """是/否 (also true/false, yes/no, 1/0, or a TRUE/FALSE cell)."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if isinstance(raw, (str, int)) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(_("{value} is not 是 or 否").format(value=_shown(raw)))


def read_enum(raw, column: SheetColumn) -> str:
    """A Chinese label or a code of the column's enumeration, as the code."""
    text = read_text(raw, column)
    code = column.codes.get(text)
    if code is not None:
        return code
    if column.values:
        if text in record_table.aliases(column.values):
            return record_table.aliases(column.values)[text]
        choices = record_table.ambiguous(column.values).get(text)
        if choices:
            named = "、".join(column.labels.get(c, c) for c in choices)
            raise CellError(_("'{value}' is ambiguous: did you mean one of {choices}?").format(value=text,
                                                                                             choices=named))
    raise CellError(_("'{value}' is not a {field}").format(value=text, field=_what(column)) + _suggest(text, column))


def read_flags(raw, column: SheetColumn) -> list[str]:
    """Several labels or codes separated by 、 or commas, as codes (unknown ASCII codes pass)."""
    out = []
    for part in filter(None, _FLAG_SEPARATORS.split(read_text(raw, column))):
        if part.isascii():
            out.append(part)
            continue
        codes = [code for code, label in column.labels.items() if label == part]
        if not codes:
            raise CellError(_("'{value}' is not a known {field}").format(
                value=part, field=_what(column) if language() != "en" else _what(column)[:-1]) + _suggest(part, column))
        out.append(codes[0])
    return out


_READERS = {"id": read_text, "text": read_text, "int": read_int, "date": read_date,
            "bool": read_bool, "enum": read_enum, "flags": read_flags}


def read_cell(raw, column: SheetColumn):
    """The import-format value of a non-empty cell (birth dates: see :func:`read_birth`).

    Raises:
        CellError: The value does not fit the column.
    """
    if isinstance(raw, str) and raw.strip() in _EXCEL_ERRORS:
        raise CellError(f"the formula gives the error {raw.strip()}")
    if isinstance(raw, dt.time) and not isinstance(raw, dt.datetime):
        raise CellError(f"{raw} is a time of day, not a {_what(column)}")
    if column.kind in ("birth", "month"):
        return read_birth(raw, column)[0]
    return _READERS[column.kind](raw, column)


def converter(column: SheetColumn):
    """:func:`read_cell` for one column, its kind looked up once (birth and month columns are
    read by :func:`read_birth`). The usual cell of each kind (text, a code, a date cell, a
    whole number, a true/false cell) is read without the general checks, which could not
    refuse it; any other goes through :func:`read_cell`."""
    kind = column.kind
    if kind in ("id", "text"):
        def read(raw):
            if type(raw) is str:
                text = raw.strip()
                if text not in _EXCEL_ERRORS:
                    return text
            return read_cell(raw, column)
    elif kind == "enum":
        codes = column.codes

        def read(raw):
            code = codes.get(raw) if type(raw) is str else None
            return read_cell(raw, column) if code is None else code
    elif kind == "date":
        def read(raw):
            if type(raw) is dt.datetime:
                return _datetime_cell(raw, column)
            return _date_cell(raw) if type(raw) is dt.date else read_cell(raw, column)
    elif kind == "bool":
        def read(raw):
            if type(raw) is bool:
                return raw
            value = _YES_NO.get(raw) if type(raw) is str else None
            return read_cell(raw, column) if value is None else value
    else:
        usual = int if kind == "int" else None

        def read(raw):
            return raw if type(raw) is usual else read_cell(raw, column)
    return read
