"""Group results are facts for individual rules: a team's missed target reaches its members."""
from pathlib import Path

from conftest import SAMPLE, invoke

ROOT = Path(__file__).resolve().parent.parent
RULE = """\
  - id: structure_chain.rotation_unit
    title: 所在单位中层干部轮岗面未达标的，其轮岗到期干部优先轮岗
    provision: P003-5
    section: 二、(三)12
    quote: 市直单位原则上每五年对中层干部进行一次轮岗,轮岗面应达到50%以上
    when:
      all:
        - {finding: rotation_due}
        - {fact: current_post.unit.structure, has: rotation_share_below_target}
    finding: exchange_recommended
"""


def test_a_unit_structure_finding_chains_into_an_individual_rule(tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    for path in (ROOT / "policies").glob("*.yaml"):
        (policies / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    exchange = policies / "yichang_exchange.yaml"
    exchange.write_text(exchange.read_text(encoding="utf-8") + RULE, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'facts.db'}"
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    import json
    lines = invoke(url, "check", "--all", "--as-of", "2017-06-30", "--policies", policies,
                   "--format", "jsonl").stdout.splitlines()
    fired = {json.loads(line)["cadre"] for line in lines
             if any(f["rule"] == "structure_chain.rotation_unit" for f in json.loads(line)["findings"])}
    # C0052 is due for rotation in 教育局, whose rotation share 0/1 misses 50%; C0047 is due in
    # 财政局, whose share 2/3 meets it
    assert "C0052" in fired and "C0047" not in fired
