"""Write small policy sets into a temporary directory for engine and lint tests."""
from __future__ import annotations

import textwrap
from pathlib import Path

OUTCOMES = """\
determinations:
  promotion: {title: 提拔任用资格}
findings:
  admonishment_talk: {kind: action, title: 诫勉谈话}
  demotion_or_removal: {kind: action, title: 降免职}
  promotion_barred: {kind: bar, title: 不得提拔使用}
requirements:
  no_promotion_bar: {determination: promotion, title: 无提拔限制}
  appraisal_excellent: {determination: promotion, title: 考评优秀}
"""

HEADER = """\
# yaml-language-server: $schema=../schemas/policy.schema.json
id: {id}
title: 测试政策
source: {{document: 测试文件, file: 004_24644f68cfafa6d1.txt}}
in_force: {{from: 2008-01-01, to: null}}
jurisdiction: {{regions: [全国]}}
"""


def write_set(directory: Path, files: dict[str, str], outcomes: str = OUTCOMES) -> Path:
    """Write ``{name: body}`` policy files (body below the header) and the outcome catalogue."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "outcomes.yaml").write_text(outcomes, encoding="utf-8")
    for name, body in files.items():
        text = textwrap.dedent(body)
        if not text.startswith("#") and "id:" not in text.split("\n", 1)[0]:
            text = HEADER.format(id=name) + text
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory
