"""Chinese labels for the fields and enumerated values of the import format."""
from __future__ import annotations

FIELDS: dict[str, str] = {
    # cadre
    "id": "编号", "name": "姓名", "gender": "性别", "birth_date": "出生日期", "party": "政治面貌",
    "ethnicity": "民族", "education": "学历", "native_region": "成长地", "management": "管理权限",
    "reserve": "后备干部", "recruitment": "招录", "work_start": "参加工作时间",
    # record lists
    "posts": "任职经历", "appraisals": "年度考核", "reviews": "监督评议", "nominations": "拟提拔",
    "polls": "民意征询", "opinions": "部门意见", "assessments": "专项/年度考核问题",
    "rectification": "整改",
    # fields inside records
    "unit": "单位", "title": "职务", "rank": "职务层次", "principal": "正职", "leadership": "班子成员",
    "middle_level": "中层干部", "grassroots": "基层", "start": "起始日期", "end": "终止日期",
    "year": "年度", "grade": "等次", "date": "日期", "total": "总票数", "dissatisfied": "不满意票",
    "stage": "阶段", "result": "结果", "target_rank": "拟任职务层次", "target_unit": "拟任单位",
    "approve": "同意票", "department": "部门", "adverse": "否定意见", "kind": "类别",
    "prominent_problems": "问题突出", "fresh_graduate": "应届毕业生", "exceptional": "破格提拔",
    # unit
    "level": "层级", "region": "服务区域", "parent": "上级单位", "flags": "考核标记",
}

#: Enumerated values by the schema property (or $defs name) that holds them.
VALUES: dict[str, dict[str, str]] = {
    "gender": {"male": "男", "female": "女"},
    "party": {"cpc": "中共党员", "non_cpc": "非中共党员"},
    "education": {"secondary": "中专/高中", "college": "大专", "bachelor": "大学本科",
                  "master": "硕士研究生", "doctor": "博士研究生"},
    "management": {"county": "县管", "city": "市管"},
    "reserve": {"none": "非后备干部", "section": "科级后备", "county": "县级后备"},
    "rank": {"clerk": "科员", "deputy_section": "副科", "section": "正科", "deputy_county": "副县",
             "county": "正县", "deputy_prefecture": "副厅", "prefecture": "正厅"},
    "grade": {"excellent": "优秀", "competent": "称职", "basically_competent": "基本称职",
              "incompetent": "不称职"},
    "stage": {"three_month": "三个月整改检查", "six_month": "六个月整改检查"},
    "result": {"effective": "整改有效", "ineffective": "整改不力"},
    "department": {"family_planning": "计生", "discipline": "纪检监察", "procuratorate": "检察院",
                   "mass_work": "群工部", "work_safety": "安监局"},
    "assessment_kind": {"special": "专项考核", "annual": "年度考核"},
    "unit_kind": {"party_committee": "党委", "government": "政府", "department": "部门",
                  "court": "法院", "procuratorate": "检察院", "public_security": "公安局",
                  "discipline": "纪委监委", "organisation": "组织部", "township": "乡镇(街道)",
                  "village": "村(社区)", "enterprise": "企业", "institution": "事业单位",
                  "industrial_park": "工业园区", "other": "其他"},
    "level": {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇级",
              "village": "村级"},
    "flags": {"provincial_bottom_ranked": "全省综合考核排名靠后"},
}
VALUES["target_rank"] = VALUES["rank"]

#: The built-in facts a rule reads (the head of a fact path).
FACT_HEADS: dict[str, str] = {"cadre": "干部", "recruitment": "招录", "nomination": "拟提拔", "promotion": "提拔",
                              "as_of": "评估日期"}
#: Fields the engine computes (not in the import format); ``age`` is also said briefly.
COMPUTED_FIELDS: dict[str, str] = {"age": "年龄（周岁）", "promotion": "属提拔", "previous_unit": "前一职务单位",
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
