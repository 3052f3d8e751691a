"""The data the package ships: the policy library, sample drafts, the sample city and the JSON Schemas.

``policies/``, ``drafts/`` and ``schemas/`` at the top of the repository are links to these
folders, so an installed package and a checkout read the same files.
"""
import json
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent
POLICIES = ROOT / "policies"
DRAFTS = ROOT / "drafts"
SAMPLE = ROOT / "sample"
SCHEMAS = ROOT / "schemas"


@cache
def schema(name: str) -> dict:
    """The shipped JSON Schema ``name`` (``policy``, ``draft`` or ``facts``), parsed once per process."""
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
