"""Synthetic cadre populations in the import format, for tests and benchmarks.

``generate(cadres, seed)`` returns the units of a fictional province-like tree
(cities, counties, townships, departments, industrial parks, sized to the number
of cadres) and a lazy iterator over cadre documents, so a million cadres can be
written or bulk-loaded without holding them in memory. Everything is drawn from
one ``random.Random(seed)`` (the fields added for 条例（2019） from a second one seeded from
it): the same seed gives the same population.

Documents are canonical-ish plain Python values (dates are ``datetime.date``):
they validate against ``data/schemas/facts.schema.json`` once dates are turned into ISO text.

>>> units, cadres = generate(5, seed=1)
>>> [c["id"] for c in cadres]
['C0000001', 'C0000002', 'C0000003', 'C0000004', 'C0000005']
"""
from __future__ import annotations

import datetime as dt
import json
import random
from bisect import bisect
from itertools import accumulate
from typing import IO, Iterable, Iterator

import yaml

from cadre_policy.language.types import RANKS

AS_OF = dt.date(2017, 6, 30)

#: Share of cadres whose current rank is each of RANKS (most are section level or below).
RANK_WEIGHTS = (0.30, 0.28, 0.27, 0.11, 0.035, 0.004, 0.001)
#: Youngest plausible age for each rank (completed years).
RANK_MIN_AGE = (21, 25, 28, 32, 36, 42, 46)

GRADES = ("excellent", "competent", "basically_competent", "incompetent")
GRADE_WEIGHTS = (0.15, 0.78, 0.05, 0.02)
DEPARTMENTS = ("family_planning", "discipline", "procuratorate", "mass_work", "work_safety")
EDUCATION = ("secondary", "college", "bachelor", "master", "doctor")
EDUCATION_WEIGHTS = (0.03, 0.22, 0.55, 0.18, 0.02)
STATUSES = ("civil_servant", "reference_managed", "institution", "enterprise")
STATUS_WEIGHTS = (0.7, 0.2, 0.08, 0.02)
SANCTION_KINDS = ("admonishment", "admonishment", "admonishment", "post_adjustment", "removal", "demotion",
                  "party_warning", "party_serious_warning", "party_probation", "gov_warning", "gov_demerit",
                  "gov_major_demerit", "gov_downgrade")

#: Largest population written as YAML (the YAML writer builds the document in memory).
YAML_MAX = 20_000
COUNTIES_PER_CITY = 8
CADRES_PER_COUNTY = 3000

_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
             "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎")
_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞斌浩宇建国志海波辉林燕"
          "雪梅琳婷慧文俊峰亮晨欣然东坤凯锋军宁亚晶新春华荣德福云龙")
_PLACE = ("清江白河东湖西陵长阳龙泉石门花溪马鞍青山鸣凤金沙松林桃源云梦柳河枫桥凤凰莲花"
          "安乐永和宝庆兴隆太平富民南漳玉泉望城双溪岳阳临湘平江华容")


# --- units ---------------------------------------------------------------------------------------

def _place(rng: random.Random) -> str:
    return rng.choice(_PLACE[::2]) + rng.choice(_PLACE[1::2])


def _region(rng: random.Random, used: set, suffixes: str) -> str:
    """A region name not used before: regions key the structure aggregates."""
    while True:
        name = _place(rng) + rng.choice(suffixes)
        if name not in used:
            used.add(name)
            return name


def _unit(uid, name, kind, level, region, parent=None, flags=None) -> dict:
    u = {"id": uid, "name": name, "kind": kind, "level": level, "region": region}
    if parent:
        u["parent"] = parent
    if flags:
        u["flags"] = flags
    return u


_CITY_DEPTS = (("FIN", "财政局"), ("EDU", "教育局"), ("HR", "人力资源和社会保障局"),
               ("DRC", "发展和改革委员会"), ("TRANS", "交通运输局"), ("AGR", "农业局"),
               ("CIV", "民政局"), ("ENV", "环境保护局"), ("LAND", "国土资源局"),
               ("HLTH", "卫生和计划生育委员会"), ("COM", "商务局"), ("AUD", "审计局"))
_CITY_INSTS = (("ARCH", "档案馆"), ("PARTY", "党校"))
_TOWNSHIP_SUFFIXES = ("镇", "镇", "镇", "乡", "街道")
_COUNTY_ORGANS = (("PC", "中共{}委", "party_committee"), ("GOV", "{}人民政府", "government"),
                  ("COURT", "{}人民法院", "court"), ("PROC", "{}人民检察院", "procuratorate"),
                  ("PSB", "{}公安局", "public_security"), ("DISC", "中共{}纪律检查委员会", "discipline"),
                  ("ORG", "中共{}委组织部", "organisation"), ("EDU", "{}教育局", "department"),
                  ("FIN", "{}财政局", "department"), ("AGR", "{}农业局", "department"),
                  ("CIV", "{}民政局", "department"))


def _city_units(rng: random.Random, ci: int, used: set, name: str | None = None) -> list[dict]:
    cid = f"S{ci:02d}"
    region = _region(rng, used, "市")
    region = name or region            # drawn all the same: the same seed gives the same population
    units = [_unit(f"{cid}-PC", f"中共{region}委", "party_committee", "city", region, _province(ci)),
             _unit(f"{cid}-GOV", f"{region}人民政府", "government", "city", region, f"{cid}-PC"),
             _unit(f"{cid}-ORG", f"中共{region}委组织部", "organisation", "city", region, f"{cid}-PC")]
    for code, name in _CITY_DEPTS:
        # a few departments ranked near the bottom of the provincial assessment
        flags = ["provincial_bottom_ranked"] if rng.random() < 0.08 else None
        units.append(_unit(f"{cid}-{code}", region + name, "department", "city", region,
                           f"{cid}-GOV", flags))
    for code, name in _CITY_INSTS:
        units.append(_unit(f"{cid}-{code}", region + name, "institution", "city", region, f"{cid}-PC"))
    units.append(_unit(f"{cid}-PARK", f"{region}经济技术开发区管理委员会", "industrial_park", "city",
                       region, f"{cid}-GOV"))
    return units


def _county_units(rng: random.Random, cid: str, ki: int, townships: int, used: set,
                  name: str | None = None, parent: str | None = None) -> list[dict]:
    kid = f"{cid}-K{ki:02d}"
    region = _region(rng, used, "县县县区")
    region = name or region
    units = [_unit(f"{kid}-{code}", fmt.format(region), kind, "county", region,
                   None if code == "PC" else f"{kid}-PC")
             for code, fmt, kind in _COUNTY_ORGANS]
    units[0]["parent"] = parent or f"{cid}-PC"
    for ti in range(1, townships + 1):
        name = region + _place(rng) + rng.choice(_TOWNSHIP_SUFFIXES)
        units.append(_unit(f"{kid}-T{ti:02d}", name, "township", "township", region, f"{kid}-PC"))
    units.append(_unit(f"{kid}-PARK", f"{region}工业园区管理委员会", "industrial_park", "county",
                       region, f"{kid}-GOV"))
    return units


#: Where the generated units lie (language.jurisdiction): the first city is 宜昌市 (湖北省), bound
#: by the 003 plan; the last county is 清江县 of 江苏省, the county that the library binds by 004
#: and 000; further cities alternate between the two provinces. The 2019 regulation binds all.
PROVINCES = (("P-HB", "中共湖北省委", "湖北省"), ("P-JS", "中共江苏省委", "江苏省"))
PLAN_CITY = "宜昌市"
COUNTY_OF_004 = "清江县"


def _province(ci: int) -> str:
    return PROVINCES[(ci - 1) % 2][0]


def build_units(cadres: int, rng: random.Random) -> list[dict]:
    """Return the unit tree for a population of ``cadres``: at least one city of 3 counties, in
    several jurisdictions (``PROVINCES``).

    Args:
        cadres: Population size; about one county per 3,000 cadres, eight counties a city.
        rng: The generator's random source.
    """
    counties = max(3, -(-cadres // CADRES_PER_COUNTY))
    units: list[dict] = [_unit(uid, name, "party_committee", "province", region) for uid, name, region in PROVINCES]
    used: set = {PLAN_CITY, COUNTY_OF_004}
    cities = -(-counties // COUNTIES_PER_CITY)
    for ci in range(1, cities + 1):
        units += _city_units(rng, ci, used, PLAN_CITY if ci == 1 else None)
        last = min(COUNTIES_PER_CITY, counties - (ci - 1) * COUNTIES_PER_CITY)
        for ki in range(1, last + 1):
            moved = ci == cities and ki == last       # 清江县: its own county, in 江苏省
            units += _county_units(rng, f"S{ci:02d}", ki, rng.randint(6, 14), used,
                                   COUNTY_OF_004 if moved else None, PROVINCES[1][0] if moved else None)
    return units


# --- placement tables ---------------------------------------------------------------------------

class _Pools:
    """Units grouped by where cadres of a rank tier work, with cumulative weights for drawing."""

    def __init__(self, units: list[dict]):
        by_id = {u["id"]: u for u in units}
        self.by_id = by_id
        # (units, cumulative weights) per tier: section and below, county level, prefecture level
        low, county, pref = [], [], []
        for u in units:
            lvl, kind = u["level"], u["kind"]
            if lvl == "province":
                continue                # the top of the unit chain: no cadre of the population there
            if lvl == "township":
                low.append((u, 6.0))
            elif lvl == "county":
                low.append((u, 4.0 if kind in ("department", "industrial_park") else 3.0))
                county.append((u, 3.0 if kind in ("party_committee", "government") else 1.0))
            else:
                low.append((u, 2.0))
                if kind in ("party_committee", "government"):
                    pref.append((u, 1.0))
                else:
                    county.append((u, 1.5))
        self.tiers = [self._table(low), self._table(county), self._table(pref)]
        self.regions = sorted({u["region"] for u in units if u["level"] == "county"})
        self.parks = [u for u in units if u["kind"] == "industrial_park"]

    @staticmethod
    def _table(pairs):
        return [u for u, _ in pairs], list(accumulate(w for _, w in pairs))

    def draw(self, rng: random.Random, rank: int) -> dict:
        units, cum = self.tiers[0 if rank <= 2 else 1 if rank <= 4 else 2]
        return units[bisect(cum, rng.random() * cum[-1])]


# --- cadres -------------------------------------------------------------------------------------

# Titles follow the flags (issue 22, defect 6): a principal post gets its unit's head title, any
# other leadership post a deputy title. (head, deputy) per unit kind; below section rank a post
# is a section's (科) or an office's, at the county and city level alike.
_HEADS = {
    "township": ("镇党委书记", "镇党委副书记"),
    "party_committee": ("书记", "副书记"),
    "government": ("{level}长", "副{level}长"),
    "industrial_park": ("管委会主任", "管委会副主任"),
    "court": ("院长", "副院长"),
    "procuratorate": ("检察长", "副检察长"),
    "public_security": ("局长", "副局长"),
    "discipline": ("纪委书记", "纪委副书记"),
    "organisation": ("部长", "副部长"),
    "institution": ("院长", "副院长"),
    "enterprise": ("董事长", "副总经理"),
    "village": ("村党支部书记", "村委会副主任"),
}
_DEPARTMENT = ("局长", "副局长")
_LEVEL_WORD = {"city": "市", "county": "县", "township": "镇", "province": "省"}


def _title(unit: dict, rank: int, principal: bool) -> str:
    """A post's title from its unit, rank and ``principal`` flag: a principal is never titled 副…."""
    kind, level = unit["kind"], unit["level"]
    if rank == 0:
        return "科员"
    if kind == "township":
        return "镇党委书记" if principal else ("副镇长" if rank == 1 else "镇党委副书记")
    # a city unit's posts below the county level are its sections' (中层): 科长, 副科长
    office_rank = 2 if level == "city" or kind in ("party_committee", "government") else 1
    if rank <= office_rank and not (kind == "department" and level == "county"):
        office = "办公室" if kind in ("party_committee", "government") else ""
        return f"{office}{'主任' if office else '科长'}" if principal else f"{office}{'副主任' if office else '副科长'}"
    head, deputy = _HEADS.get(kind, _DEPARTMENT)
    title = head if principal else deputy
    if kind == "party_committee" and not principal and rank in (3, 5) and level in ("county", "city"):
        title = "常委" if rank == 5 else title
    return title.format(level=_LEVEL_WORD.get(level, "县"))


def _name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN)
    if rng.random() < 0.7:
        given += rng.choice(_GIVEN)
    return rng.choice(_SURNAMES) + given


class _CadreFactory:
    """Draws one cadre document at a time; holds the lookup tables, never the cadres."""

    def __init__(self, units: list[dict], rng: random.Random, as_of: dt.date, rng2019: random.Random,
                 rng2026: random.Random | None = None):
        self.rng = rng
        # the fields of 条例（2019） (work_start, 越级, 破格) draw from a stream of their own, so that a
        # seed gives the same careers, appraisals and reviews as before they were added
        self.rng2019 = rng2019
        self.rng2026 = rng2026 or random.Random(0)
        self.pools = _Pools(units)
        self.as_of = as_of.toordinal()
        self.rank_cum = list(accumulate(RANK_WEIGHTS))
        self.grade_cum = list(accumulate(GRADE_WEIGHTS))
        self.edu_cum = list(accumulate(EDUCATION_WEIGHTS))

    def cadre(self, n: int) -> dict:
        rng, as_of = self.rng, self.as_of
        age = 22 + int(38 * rng.random() ** 0.9)          # 22..59, slightly younger-skewed
        birth = as_of - age * 365 - age // 4 - rng.randrange(365)
        rank = min(bisect(self.rank_cum, rng.random() * self.rank_cum[-1]), len(RANKS) - 1)
        while rank and age < RANK_MIN_AGE[rank]:
            rank -= 1
        unit = self.pools.draw(rng, rank)
        female = rng.random() < 0.34
        doc = {"id": f"C{n:07d}", "name": _name(rng), "gender": "female" if female else "male",
               "birth_date": dt.date.fromordinal(birth),
               "party": "non_cpc" if rng.random() < 0.07 else "cpc", "ethnicity": "汉族"
               if rng.random() < 0.92 else rng.choice(("土家族", "苗族", "回族", "壮族", "侗族")),
               "education": EDUCATION[bisect(self.edu_cum, rng.random() * self.edu_cum[-1])],
               "native_region": unit["region"] if rng.random() < 0.6 else rng.choice(self.pools.regions)}
        start = birth + (22 + rng.randrange(4)) * 365 + rng.randrange(200)
        start = min(start, as_of - 30)
        posts, principal = self._posts(unit, rank, start)
        doc["posts"] = posts
        extra = self.rng2019
        if extra.random() < 0.85:    # 参加工作时间: usually on record, sometimes before the first post
            doc["work_start"] = dt.date.fromordinal(start - (extra.randrange(1, 900) if extra.random() < 0.3 else 0))
        if rank >= 3:
            doc["management"] = "city"
        elif principal and unit["level"] != "city":
            doc["management"] = "county"
        if age <= 40 and rank >= 1 and rng.random() < 0.12:
            doc["reserve"] = "county" if rank >= 2 else "section"
        if rng.random() < 0.8:
            first = posts[0]
            doc["recruitment"] = {"date": first["start"], "fresh_graduate": start - birth < 25 * 365,
                                  "unit": first["unit"]}
        doc["appraisals"] = self._appraisals(start)
        doc["reviews"] = self._reviews(posts[-1]) if doc.get("management") == "county" else []
        self._nomination(doc, rank, unit)
        doc["assessments"] = self._assessments() if principal and rng.random() < 0.06 else []
        self._record_2026(doc, birth, start)
        return doc

    # --- the record a department keeps (issue 26): party dates, status, educations, probation, sanctions;
    # drawn from a stream of their own, so a seed gives the same careers as before they were added

    def _record_2026(self, doc: dict, birth: int, start: int) -> None:
        rng = self.rng2026
        if doc["party"] == "cpc" and rng.random() < 0.9:
            joined = start - rng.randrange(0, 1500) if rng.random() < 0.5 else start + rng.randrange(0, 3000)
            joined = max(birth + 18 * 365, min(joined, self.as_of - 400))
            doc["party_joined"] = dt.date.fromordinal(joined)
            full = joined + 365 + rng.randrange(0, 60)
            if rng.random() < 0.95 and full <= self.as_of:
                doc["party_full"] = dt.date.fromordinal(full)
        if rng.random() < 0.9:
            doc["status"] = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        if rng.random() < 0.7:
            doc["educations"] = self._educations(doc["education"], birth)
        self._probation(doc["posts"])
        doc["sanctions"] = self._sanctions(doc["posts"]) if rng.random() < 0.04 else []

    def _educations(self, highest: str, birth: int) -> list[dict]:
        """Education records whose highest level is ``highest``: a full-time first degree, and now and
        then the highest one earned in service."""
        rng = self.rng2026
        top = EDUCATION.index(highest)
        in_service = top >= 1 and rng.random() < 0.35
        first = top - 1 if in_service else top
        records = [self._education(EDUCATION[first], "full_time", birth + (19 + 2 * first) * 365)]
        if in_service:
            records.append(self._education(highest, "in_service", birth + (28 + rng.randrange(10)) * 365))
        return records

    def _education(self, level: str, mode: str, day: int) -> dict:
        rng = self.rng2026
        record = {"level": level, "mode": mode, "school": _place(rng) + rng.choice(("大学", "学院", "党校")),
                  "date": dt.date.fromordinal(min(day + rng.randrange(200), self.as_of - 30))}
        degree = {"bachelor": "bachelor_degree", "master": "master_degree", "doctor": "doctor_degree"}.get(level)
        if degree and rng.random() < 0.8:
            record["degree"] = degree
        return record

    def _probation(self, posts: list[dict]) -> None:
        """A year's probation (任职试用期) on some recent promotions to a leading post."""
        rng = self.rng2026
        post = posts[-1]
        if post["rank"] != "clerk" and self.as_of - post["start"].toordinal() < 900 and rng.random() < 0.4:
            post["probation_end"] = dt.date.fromordinal(post["start"].toordinal() + 364)

    def _sanctions(self, posts: list[dict]) -> list[dict]:
        """One or two sanctions or measures while in post."""
        rng = self.rng2026
        first, last = posts[0]["start"].toordinal(), self.as_of - 10
        out = []
        for _ in range(1 + (rng.random() < 0.2)):
            kind = rng.choice(SANCTION_KINDS)
            record = {"date": dt.date.fromordinal(rng.randrange(first, last) if last > first else last), "kind": kind}
            if kind == "party_probation":
                record["years"] = rng.choice((1, 2))
            out.append(record)
        return out

    def _posts(self, unit: dict, rank: int, start: int) -> tuple[list[dict], bool]:
        """Career of 1-4 posts ending in ``unit`` at ``rank``; ranks climb, dates chain."""
        rng, as_of = self.rng, self.as_of
        span = as_of - start
        k = 1 + min(rank, rng.randrange(4)) if span > 8 else 1
        cuts = sorted(start + rng.randrange(1, span) for _ in range(k - 1))
        starts = [start] + cuts
        ranks = sorted(max(0, rank - rng.randrange(3)) for _ in range(k - 1)) + [rank]
        posts, principal = [], False
        for i, (s, r) in enumerate(zip(starts, ranks)):
            u = unit if i == k - 1 else (unit if rng.random() < 0.4 else self.pools.draw(rng, r))
            principal = r >= 2 and rng.random() < (0.45 if u["level"] != "city" else 0.25)
            middle = u["level"] == "city" and 1 <= r <= 2 and not principal and rng.random() < 0.7
            p = {"unit": u["id"], "title": _title(u, r, principal), "rank": RANKS[r],
                 "principal": principal, "leadership": (principal or r >= 1) and not middle,
                 "middle_level": middle}
            if rng.random() < 0.05:
                # explicit overrides: secondments that do or do not count as grassroots work
                p["grassroots"] = u["level"] != "city" and rng.random() < 0.5
            p["start"] = dt.date.fromordinal(s)
            if i < k - 1:
                # ``end`` is the last day held: the day before the next post starts
                p["end"] = dt.date.fromordinal(max(s, starts[i + 1] - 1))
            posts.append(p)
        return posts, principal

    def _appraisals(self, start: int) -> list[dict]:
        rng, as_of = self.rng, self.as_of
        out = []
        last = dt.date.fromordinal(as_of).year - 1
        first_year = dt.date.fromordinal(start).year
        for year in range(last - rng.randrange(2, 7) + 1, last + 1):
            if year < first_year:
                continue
            date = dt.date(year + 1, 1, 10 + rng.randrange(20))
            if date.toordinal() > as_of:
                break
            grade = GRADES[bisect(self.grade_cum, rng.random() * self.grade_cum[-1])]
            out.append({"year": year, "grade": grade, "date": date})
        return out

    def _reviews(self, post: dict) -> list[dict]:
        """Supervision reviews of a county-managed principal, ratios spread around 1/3 and 1/2."""
        rng, as_of = self.rng, self.as_of
        if rng.random() < 0.35:
            return []
        begin = post["start"].toordinal()
        out = []
        for _ in range(1 + (rng.random() < 0.3)):
            date = as_of - rng.randrange(7 * 365)
            if date < begin:
                continue
            total = rng.randint(30, 60)
            x = rng.random()
            ratio = (rng.uniform(0.0, 0.25) if x < 0.6 else rng.uniform(0.28, 0.40) if x < 0.85
                     else rng.uniform(0.44, 0.58))
            review = {"date": dt.date.fromordinal(date), "total": total,
                      "dissatisfied": min(total, round(total * ratio)), "rectification": []}
            if ratio > 0.2:
                for stage, days in (("three_month", 91), ("six_month", 183)):
                    if date + days > as_of:
                        break
                    bad = rng.random() < (0.3 if stage == "three_month" else 0.5)
                    review["rectification"].append({"stage": stage, "date": dt.date.fromordinal(date + days),
                                                    "result": "ineffective" if bad else "effective"})
                    if not bad:
                        break
            # two reviews on one day are refused at import; the draws above keep the random stream
            if all(r["date"] != review["date"] for r in out):
                out.append(review)
        out.sort(key=lambda r: r["date"])
        return out

    def _nomination(self, doc: dict, rank: int, unit: dict) -> None:
        """A few percent are nominated for the next rank, with a poll and, for parks, opinions."""
        rng, as_of = self.rng, self.as_of
        doc["nominations"], doc["polls"], doc["opinions"] = [], [], []
        if rank >= 4 or rng.random() >= 0.04:
            return
        date = as_of - rng.randrange(30, 180)
        park = rng.random() < 0.25
        target = rng.choice(self.pools.parks) if park else unit
        extra = self.rng2019
        skip = 1 if rank < 3 and extra.random() < 0.1 else 0      # 越级: two rungs up
        nomination = {"date": dt.date.fromordinal(date), "target_rank": RANKS[rank + 1 + skip],
                      "target_unit": target["id"]}
        if extra.random() < 0.15:
            nomination["exceptional"] = True                     # 破格
        doc["nominations"].append(nomination)
        if rng.random() < 0.85:
            total = rng.randint(30, 60)
            approve = min(total, round(total * rng.uniform(0.55, 0.97)))
            doc["polls"].append({"date": dt.date.fromordinal(min(as_of, date + rng.randrange(5, 25))),
                                 "approve": approve, "total": total})
        if park:
            for dept in DEPARTMENTS:
                if rng.random() < 0.93:   # a missing opinion leaves the requirement pending
                    day = min(as_of, date + rng.randrange(3, 20))
                    doc["opinions"].append({"department": dept, "date": dt.date.fromordinal(day),
                                            "adverse": rng.random() < 0.05})
            doc["opinions"].sort(key=lambda o: o["date"])

    def _assessments(self) -> list[dict]:
        rng, as_of = self.rng, self.as_of
        return [{"date": dt.date.fromordinal(as_of - rng.randrange(2 * 365)),
                 "kind": "special" if rng.random() < 0.5 else "annual",
                 "prominent_problems": rng.random() < 0.4}]


def generate(cadres: int, seed: int, as_of: dt.date = AS_OF) -> tuple[list[dict], Iterator[dict]]:
    """Return the units and a lazy iterator over ``cadres`` synthetic cadre documents.

    Args:
        cadres: How many cadres to generate.
        seed: Seed of the ``random.Random`` used (and of the one for the 2019 fields drawn from
            it); same seed, same population.
        as_of: No record is dated after this day (default 2017-06-30).

    Returns:
        ``(units, cadre_iterator)``. The units are built at once; cadres are made one at
        a time as the iterator is consumed (consume it only once).
    """
    if cadres < 0:
        raise ValueError("cadres must be >= 0")
    rng = random.Random(seed)
    units = build_units(cadres, rng)
    factory = _CadreFactory(units, rng, as_of, random.Random(f"{seed}:2019"), random.Random(f"{seed}:2026"))
    return units, (factory.cadre(n) for n in range(1, cadres + 1))


# --- writers ------------------------------------------------------------------------------------

def _iso(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_iso, separators=(",", ":"))


class JsonWriter:
    """Streams one import-format JSON document: units first, then cadres one per line.

    Use ``add`` as a sink (e.g. through :func:`tee` while bulk-loading) and ``close`` at
    the end; small writes are batched because one ``write`` per cadre is slow.
    """

    def __init__(self, out: IO[str], units: list[dict]):
        self.out = out
        self.count = 0
        self._buf: list[str] = []
        self._written = False
        out.write('{"units":[\n')
        out.write(",\n".join(_ENCODER.encode(u) for u in units))
        out.write('\n],\n"cadres":[\n')

    def add(self, doc: dict) -> None:
        """Append one cadre document."""
        self._buf.append(_ENCODER.encode(doc))
        self.count += 1
        if len(self._buf) >= 1000:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            # the separator goes before a batch, so the last batch needs no look-ahead
            self.out.write((",\n" if self._written else "") + ",\n".join(self._buf))
            self._written = True
            self._buf = []

    def close(self) -> None:
        """Write what is buffered and finish the document."""
        self._flush()
        self.out.write("\n]}\n")


def write_json(out: IO[str], units: list[dict], cadres: Iterable[dict]) -> int:
    """Stream one import-format JSON document to ``out``; return the number of cadres."""
    writer = JsonWriter(out, units)
    for doc in cadres:
        writer.add(doc)
    writer.close()
    return writer.count


def write_yaml(out: IO[str], units: list[dict], cadres: Iterable[dict]) -> int:
    """Write one import-format YAML document (builds it in memory: small populations only)."""
    docs = list(cadres)
    yaml.safe_dump({"units": units, "cadres": docs}, out, allow_unicode=True, sort_keys=False,
                   default_flow_style=None, width=120)
    return len(docs)


def tee(cadres: Iterable[dict], sink) -> Iterator[dict]:
    """Yield each cadre after passing it to ``sink`` (write a file while bulk-loading)."""
    for doc in cadres:
        sink(doc)
        yield doc
