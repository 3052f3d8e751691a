"""Chinese labels for the fields and enumerated values of the import format."""
from __future__ import annotations

from cadre_policy.language import record_table

#: Field name -> Chinese label, from the record schema table (data/schemas/record.yaml).
FIELDS: dict[str, str] = record_table.labels()

#: Enumerated values by the schema property (or $defs name) that holds them: the table's enumerations.
VALUES: dict[str, dict[str, str]] = dict(record_table.enums())
VALUES["target_rank"] = VALUES["rank"]

#: The built-in facts a rule reads (the head of a fact path).
FACT_HEADS: dict[str, str] = {"cadre": "干部", "recruitment": "招录", "nomination": "拟提拔", "promotion": "提拔",
                              "as_of": "评估日期"}
#: Fields the engine computes (not in the import format); ``age`` is also said briefly.
COMPUTED_FIELDS: dict[str, str] = {"age": "年龄（周岁）", "full_time_education": "全日制最高学历",
                                   "promotion": "属提拔", "previous_unit": "前一职务单位",
                                   "target_rank": "拟任职务层次", "nominated": "已被提名"}
BRIEF: dict[str, str] = {"cadre": "", "age": "年龄"}      # a checklist line leaves the cadre implied
#: A determination's eligibility: the word and the colour it is shown in.
ELIGIBILITY: dict[str, tuple[str, str]] = {
    "eligible": ("符合", "green"), "ineligible": ("不符合", "red"), "pending": ("待定（资料不全）", "yellow"),
    "exception_required": ("须按例外程序（破格、越级或“一般应当”未满足）", "magenta")}


def fact_words(path: str, derived: dict, brief: bool = False) -> list[str]:
    """The Chinese words of a fact path, one per part: derived quantities by their titles.

    >>> fact_words("cadre.age", {}, brief=True)
    ['', '年龄']
    """
    head, *rest = path.split(".")
    brief_words = BRIEF if brief else {}
    words = [derived[head].title if head in derived else brief_words.get(head, FACT_HEADS.get(head, head))]
    words += [brief_words.get(p) or COMPUTED_FIELDS.get(p) or field(p) for p in rest]
    return words


def field(name: str) -> str:
    """Chinese label of a field name (the name itself if there is none)."""
    return FIELDS.get(name, name)


def value(kind: str, code) -> str:
    """Chinese label of an enumerated value, e.g. ``value("rank", "section") == "正科"``."""
    if isinstance(code, bool):
        return "是" if code else "否"
    return VALUES.get(kind, {}).get(code, str(code))
