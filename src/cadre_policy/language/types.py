"""The types of facts a rule can use, and the vocabularies of the import format."""
from __future__ import annotations

from dataclasses import dataclass, field

from cadre_policy.i18n import language
from cadre_policy.language import record_table

RANKS = tuple(record_table.enums()["rank"])             # lowest first
# The levels (级) of the ladder, each a deputy (副职) and a principal (正职) rank; 科员 belongs to none.
LEVELS_OF_RANK = {"deputy_section": ("township_section", "deputy"), "section": ("township_section", "principal"),
                  "deputy_county": ("county_division", "deputy"), "county": ("county_division", "principal"),
                  "deputy_prefecture": ("prefecture_bureau", "deputy"),
                  "prefecture": ("prefecture_bureau", "principal")}


def rank_step(rank: str | None, step: int) -> str | None:
    """The rank ``step`` rungs up (+) or down (-) the ladder; None off either end.

    >>> rank_step("deputy_county", -1), rank_step("prefecture", 1)
    ('section', None)
    """
    if rank not in RANKS:
        return None
    index = RANKS.index(rank) + step
    return RANKS[index] if 0 <= index < len(RANKS) else None


def rank_at_level(rank: str | None, role: str) -> str | None:
    """The ``role`` (deputy | principal) rank of the same level as ``rank``; None for 科员.

    >>> rank_at_level("county", "deputy"), rank_at_level("section", "principal"), rank_at_level("clerk", "deputy")
    ('deputy_county', 'section', None)
    """
    level = LEVELS_OF_RANK.get(rank)
    return next((r for r, (lv, ro) in LEVELS_OF_RANK.items() if level and lv == level[0] and ro == role), None)


def rank_steps(low: str | None, high: str | None) -> int | None:
    """Rungs from ``low`` up to ``high`` (negative when ``high`` is lower)."""
    if low not in RANKS or high not in RANKS:
        return None
    return RANKS.index(high) - RANKS.index(low)


# the vocabularies of the record schema table (data/schemas/record.yaml)
EDUCATION = tuple(record_table.enums()["education"])
GRADES = tuple(record_table.enums()["grade"])
UNIT_KINDS = tuple(record_table.enums()["unit_kind"])
LEVELS = tuple(record_table.enums()["level"])
DEPARTMENTS = tuple(record_table.enums()["department"])

RANK_INDEX = {rank: i for i, rank in enumerate(RANKS)}         # the ladder's rungs, lowest 0
NEXT_RANK = dict(zip(RANKS, RANKS[1:]))                       # the rank one step above


def rank_index(rank) -> int:
    """A rank's rung on the ladder; -1 for no rank or an unknown one (below every rank)."""
    return RANK_INDEX.get(rank, -1)


@dataclass(frozen=True)
class Type:
    """A fact type. ``values`` lists an enum's members (in order, for ordered ones)."""

    name: str                 # integer boolean text date duration fraction enum rank flags record
    values: tuple = ()
    ordered: bool = False
    fields: dict = field(default_factory=dict, compare=False, hash=False)   # record fields
    record: str = ""          # a record type's kind (post, review, ...)

    def __str__(self) -> str:
        if language() != "en":           # in a Chinese diagnostic: 选项（男 | 女）, 记录（任职）
            return self._chinese()
        if self.name == "record":
            return f"record({self.record})"
        if self.name in ("enum", "rank") and self.values:
            return f"{self.name}({' | '.join(self.values)})"
        return self.name

    def values_text(self) -> str:
        """An enumeration's values as a reader knows them: 男 | 女 in Chinese, the codes in English."""
        if language() == "en":
            return " | ".join(self.values)
        from cadre_policy.language import labels
        named = next((v for v in labels.VALUES.values() if set(self.values) <= set(v)), {})
        return "、".join(f"“{v}”（{named[v]}）" if v in named else f"“{v}”" for v in self.values)

    def _chinese(self) -> str:
        from cadre_policy.language import labels
        word = type_word(self.name)
        if self.name == "record":
            return f"{word}（{labels.FACT_HEADS.get(self.record) or labels.field(self.record)}）"
        if self.name in ("enum", "rank") and self.values:
            named = next((v for v in labels.VALUES.values() if set(self.values) <= set(v)), {})
            return f"{word}（{' | '.join(named.get(v, v) for v in self.values)}）"
        return word

    @property
    def comparable_order(self) -> bool:
        """Whether <, > make sense for this type."""
        return self.name in ("integer", "date", "duration", "fraction", "rank") or self.ordered


#: The type names in Chinese (diagnostics); a literal's natural type (language.values.literal_type) too.
TYPE_WORDS = {"integer": "整数", "boolean": "是/否", "text": "文本", "date": "日期", "duration": "时长",
              "fraction": "比值", "flags": "标记", "rank": "职级", "enum": "选项", "record": "记录", "list": "列表",
              "period": "期限"}


def type_word(name: str) -> str:
    """A type's name in the reader's language: 整数 for integer."""
    return name if language() == "en" else TYPE_WORDS.get(name, name)


INTEGER = Type("integer")
BOOLEAN = Type("boolean")
TEXT = Type("text")
DATE = Type("date")
DURATION = Type("duration")
FRACTION = Type("fraction")
FLAGS = Type("flags")
RANK = Type("rank", RANKS, ordered=True)


def enum(*values: str, ordered: bool = False) -> Type:
    return Type("enum", tuple(values), ordered=ordered)


def record(kind: str, fields: dict) -> Type:
    return Type("record", fields=fields, record=kind)


def records(kind: str, fields: dict) -> Type:
    """A list of records (only derived quantities range over lists)."""
    return Type("records", fields=fields, record=kind)


def _type_of(f: record_table.Field) -> Type:
    """The fact type of a field of the record schema table."""
    if f.ref == "unit":
        return UNIT
    if f.type == "enum":
        return RANK if f.values_name == "rank" else enum(*f.values, ordered=f.ordered)
    if f.type == "list":
        return records(f.of, _fields(f.of))
    return {"id": TEXT, "text": TEXT, "date": DATE, "int": INTEGER, "bool": BOOLEAN, "flags": FLAGS}[f.type]


def _fields(kind: str, computed: dict | None = None, after: str | None = None) -> dict:
    """The fact types of a record kind's fields (a cadre's records are facts of their own), with the
    ``computed`` fields the engine adds, placed after the field ``after`` (at the end without one)."""
    out = {}
    for f in record_table.kind(kind).fields.values():
        if kind == "cadre" and f.type in ("list", "record"):
            continue
        out[f.name] = _type_of(f)
        if f.name == after:
            out.update(computed or {})
    if after is None:
        out.update(computed or {})
    return out


UNIT = record("unit", _fields("unit", {
    "structure": FLAGS,          # structure findings of the group instances the unit falls in
    "regions": FLAGS,            # its region and those of every unit above it (the parent chain)
}))
POST = record("post", _fields("post", {"promotion": BOOLEAN, "previous_unit": TEXT}))
APPRAISAL = record("appraisal", _fields("appraisal"))
RECTIFICATION = record("rectification", _fields("rectification"))
REVIEW = record("review", _fields("review"))
NOMINATION = record("nomination", _fields("nomination"))
POLL = record("poll", _fields("poll"))
OPINION = record("opinion", _fields("opinion"))
ASSESSMENT = record("assessment", _fields("assessment"))
# computed: age; the highest full-time education (全日制最高学历) among the education records on record
CADRE = record("cadre", _fields("cadre", {"age": INTEGER, "full_time_education": enum(*EDUCATION, ordered=True)},
                                after="work_start"))
RECRUITMENT = record("recruitment", _fields("recruitment"))
EDUCATION_RECORD = record("education", _fields("education"))
SANCTION = record("sanction", _fields("sanction", {"rank": RANK}))   # rank: the highest held on its date
PROMOTION = record("promotion", {"target_rank": RANK, "target_unit": UNIT, "nominated": BOOLEAN})
# Where the cadre is, for the jurisdiction of each document: the unit of the current post, and
# the unit a promotion would be in (the open nomination's target unit, else the current post's).
PLACE = record("place", {"unit": UNIT, "promotion_unit": UNIT})

# The record lists of a cadre document, and the field that dates each record.
RECORD_LISTS = {
    "posts": POST, "appraisals": APPRAISAL, "reviews": REVIEW, "nominations": NOMINATION,
    "polls": POLL, "opinions": OPINION, "assessments": ASSESSMENT,
    "educations": EDUCATION_RECORD, "sanctions": SANCTION,
}
RECORD_DATE = {"post": "start", "appraisal": "date", "review": "date", "rectification": "date",
               "nomination": "date", "poll": "date", "opinion": "date", "assessment": "date",
               "education": "date", "sanction": "date"}

# Facts every rule can use without declaring them.
BUILTIN_FACTS = {
    "cadre": CADRE,
    "recruitment": RECRUITMENT,
    "nomination": NOMINATION,
    "promotion": PROMOTION,
    "place": PLACE,
    "as_of": DATE,
}
