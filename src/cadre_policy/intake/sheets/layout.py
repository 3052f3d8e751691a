"""The one table of the spreadsheet layout: every sheet, every column.

Reading (:mod:`.reader`), the template and the XLSX/CSV export (:mod:`.writer`), the
说明 sheet and the README section (:mod:`.readme`) are all driven by :data:`SHEETS`.
A sheet holds one record kind of the import format; record sheets name their cadre
in the column 干部编号 (``cadre``), and 整改 rows name their review by cadre and
评议日期 (``review_date``). Headers are the Chinese labels the product prints
(:mod:`cadre_policy.language.labels`) where one exists; the English field name is
accepted as a header too.
"""
from __future__ import annotations

from dataclasses import dataclass

from cadre_policy.language.labels import VALUES, field

#: Column kinds and how 说明 names them.
KINDS: dict[str, str] = {
    "id": "编号（字母、数字、_ . -）",
    "text": "文字",
    "int": "整数",
    "date": "日期（Excel 日期，或 2017-06-30、2017.06.30、2017/6/30、2017年6月30日）",
    "birth": "日期，或出生年月 1975.04 / 1975年4月（按当月1日计）",
    "bool": "是/否",
    "enum": "选项（中文或代码）",
    "flags": "多个选项，用、或逗号分隔",
}


@dataclass(frozen=True)
class Column:
    """One column of a sheet.

    Attributes:
        header: The Chinese header.
        field: The English field name; dotted (``recruitment.date``) below a nested record.
        kind: One of :data:`KINDS`.
        required: The value must be given on every row.
        values: Key into :data:`cadre_policy.language.labels.VALUES` for ``enum``/``flags``.
        note: What the column means (说明 sheet, README).
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
    columns: tuple[Column, ...]
    note: str = ""

    def column(self, field_name: str) -> Column | None:
        """The column of a field name, or None."""
        return next((c for c in self.columns if c.field == field_name), None)


def _c(name: str, kind: str, required: bool = False, values: str | None = None, note: str = "",
       header: str | None = None, aliases: tuple[str, ...] = ()) -> Column:
    if kind in ("enum", "flags") and values is None:
        values = name
    return Column(header or field(name), name, kind, required, values, note, aliases)


CADRE = _c("cadre", "id", True, header="干部编号", note="本行记录所属干部的编号（干部表的编号）")

SHEETS: tuple[Sheet, ...] = (
    Sheet("单位", "units", (
        _c("id", "id", True, note="单位编号，全表唯一"),
        _c("name", "text", True, header="名称", note="单位名称"),
        _c("kind", "enum", True, "unit_kind", note="单位类别"),
        _c("level", "enum", True, note="行政层级"),
        _c("region", "text", note="服务区域"),
        _c("parent", "id", note="上级单位的编号"),
        _c("flags", "flags", note="考核标记，如 全省综合考核排名靠后"),
    ), "一行一个单位"),
    Sheet("干部", "cadres", (
        _c("id", "id", True, note="干部编号，全表唯一"),
        _c("name", "text", True),
        _c("gender", "enum", True),
        _c("birth_date", "birth", True, aliases=("出生年月",),
           note="出生日期；只写年月（1975.04）时按当月1日计算年龄"),
        _c("party", "enum", True),
        _c("ethnicity", "text"),
        _c("education", "enum", note="最高学历"),
        _c("native_region", "text", note="籍贯/成长地"),
        _c("management", "enum", note="县管或市管"),
        _c("reserve", "enum", note="后备干部类别"),
        _c("recruitment.date", "date", header="招录日期", note="录用为公务员的日期；空 = 无招录记录"),
        _c("recruitment.fresh_graduate", "bool", header="应届毕业生", note="是否以应届毕业生身份招录"),
        _c("recruitment.unit", "id", header="招录单位", note="招录单位的编号"),
    ), "一行一名干部"),
    Sheet("任职", "posts", (
        CADRE,
        _c("unit", "id", True, note="任职单位的编号"),
        _c("title", "text", True, note="职务名称"),
        _c("rank", "enum", True),
        _c("principal", "bool", True, note="是否正职"),
        _c("leadership", "bool", True, note="是否班子成员"),
        _c("middle_level", "bool", note="是否中层干部"),
        _c("grassroots", "bool", note="是否计为基层经历（空 = 按单位层级）"),
        _c("start", "date", True),
        _c("end", "date", note="空 = 现任"),
    ), "一行一段任职经历"),
    Sheet("年度考核", "appraisals", (
        CADRE,
        _c("year", "int", True, note="考核年度"),
        _c("grade", "enum", True),
        _c("date", "date", note="结果确定日期；空 = 当年12月31日"),
    ), "一行一个年度的考核结果"),
    Sheet("监督评议", "reviews", (
        CADRE,
        _c("date", "date", True, note="评议日期"),
        _c("total", "int", True),
        _c("dissatisfied", "int", True),
    ), "一行一次监督评议"),
    Sheet("整改", "rectification", (
        CADRE,
        _c("review_date", "date", True, header="评议日期", note="所属监督评议的日期（监督评议表的日期）"),
        _c("stage", "enum", True),
        _c("date", "date", True, note="检查日期"),
        _c("result", "enum", True),
    ), "一行一次整改检查"),
    Sheet("拟提拔", "nominations", (
        CADRE,
        _c("date", "date", True),
        _c("target_rank", "enum", True),
        _c("target_unit", "id", True, note="拟任单位的编号"),
    ), "一行一次拟提拔"),
    Sheet("民意征询", "polls", (
        CADRE,
        _c("date", "date", True),
        _c("approve", "int", True),
        _c("total", "int", True),
    ), "一行一次民意征询"),
    Sheet("部门意见", "opinions", (
        CADRE,
        _c("department", "enum", True),
        _c("date", "date", True),
        _c("adverse", "bool", True, note="是否否定意见"),
    ), "一行一份部门意见"),
    Sheet("考核", "assessments", (
        CADRE,
        _c("date", "date", True),
        _c("kind", "enum", True, "assessment_kind"),
        _c("prominent_problems", "bool", True, note="是否问题突出"),
    ), "一行一次专项/年度考核"),
)

#: The sheet explaining every column (template and export); skipped when reading.
NOTES_SHEET = "说明"

BY_NAME: dict[str, Sheet] = {s.name: s for s in SHEETS}
BY_KEY: dict[str, Sheet] = {s.key: s for s in SHEETS}


def sheet_named(name: str) -> Sheet | None:
    """The sheet of a sheet or CSV name: Chinese (``任职``) or the list key (``posts``)."""
    name = name.strip()
    return BY_NAME.get(name) or BY_KEY.get(name)


def values_text(column: Column) -> str:
    """The accepted values of a column for people: ``男 (male)、女 (female)``."""
    if column.kind == "bool":
        return "是、否"
    return "、".join(f"{label} ({code})" for code, label in column.labels.items())


def describe() -> list[tuple[str, str, str, str, str, str, str]]:
    """One row per column: sheet, header, field, kind, required, values, note (说明 sheet, README)."""
    return [(s.name, c.header + "".join(f" / {a}" for a in c.aliases), c.field, KINDS[c.kind],
             "是" if c.required else "", values_text(c), c.note)
            for s in SHEETS for c in s.columns]
