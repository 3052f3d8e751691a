"""The immutable model of groups and aggregate rules, each node with its source location."""
from __future__ import annotations

from dataclasses import dataclass, field

from cadre_policy.diagnostics import Location
from cadre_policy.language.model import InForce

# Partitions of a group: one group instance per unit, per region (county), per city, or one in all.
PARTITIONS = ("unit", "region", "city", "all")
# Measures an aggregate rule computes over a group instance.
MEASURES = ("count", "share", "exists", "share_of_teams")
# The word of a band target ("35岁左右", "10名左右"): inclusive bounds, both parameters.
BAND_WORD = "左右"


@dataclass(frozen=True)
class Band:
    """An inclusive band ``{from: LOW, to: HIGH}``; each end a Literal or a ParamRef."""
    low: object
    high: object
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class CadreTest:
    """A comparison on the member's cadre record: ``{fact: cadre.age, 以下: 35}``."""
    field: str                   # gender, party, age, ...
    op: str                      # >=, <=, >, <, ==, !=, in, not_in, band
    word: str
    value: object                # Literal | ParamRef | Band
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class PostTest:
    """A comparison on a post: ``{field: unit.level, eq: county}``; ``within`` on ``start``."""
    field: str                   # rank, principal, unit.kind, start, ...
    op: str
    word: str
    value: object                # Literal | ParamRef | Band | language.model.Period
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Held:
    """The cadre has held (on or before the evaluation date) a post matching ``condition``."""
    condition: object            # PostTest / All / Any / Not over post fields
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Group:
    """Cadres holding a matching post on the evaluation date, partitioned by ``per``."""
    name: str
    title: str
    members: object              # a member condition
    per: str                     # one of PARTITIONS
    policy: str
    note: str = ""
    loc: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class AggregateRule:
    """A target over each instance of a group; ``finding`` for each instance that misses it."""
    id: str
    title: str
    provision: str
    section: str
    quote: str
    policy: str
    group: str
    measure: str                 # one of MEASURES
    condition: object            # the member condition counted (None: every member)
    op: str | None               # comparison with the target (None for exists)
    word: str | None
    target: object               # Literal | ParamRef | Band | None
    finding: str
    per: str | None = None       # share_of_teams: how the teams are rolled up
    note: str = ""
    in_force: InForce | None = None
    order: int = 0
    loc: Location = field(default_factory=Location, compare=False)
