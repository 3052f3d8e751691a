"""``policy facts export``: the whole store as one import document (YAML or JSON).

Output is streamed chunk by chunk so that a store of a million cadres exports in
bounded memory. Importing the output into an empty store and exporting again
gives the same text.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import TextIO

import yaml

from cadre_policy.record.canonical import RECORD_LISTS
from cadre_policy.store.fact_store import FactStore

FORMATS = ("yaml", "json")


class _Flow(dict):
    """A mapping written on one line (``{date: 2016-05-10, total: 45}``)."""


class _FlowList(list):
    """A list written on one line (``[provincial_bottom_ranked]``)."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes record mappings in flow style."""


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items(),
                                                         flow_style=True))
_Dumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                                             flow_style=True))
# keep key order: represent_dict would sort
_Dumper.add_representer(
    dict, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items()))


def _flow_records(cadre: dict) -> dict:
    out = dict(cadre)
    if "recruitment" in out:
        out["recruitment"] = _Flow(out["recruitment"])
    for key, _ in RECORD_LISTS:
        records = []
        for rec in out.get(key, ()):
            rec = _Flow(rec)
            if "rectification" in rec:
                rec["rectification"] = [_Flow(r) for r in rec["rectification"]]
            records.append(rec)
        out[key] = records
    return out


def _flow_unit(unit: dict) -> dict:
    out = dict(unit)
    if "flags" in out:
        out["flags"] = _FlowList(out["flags"])
    return out


def _yaml(value) -> str:
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=1 << 20)


def _json_default(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


def _json_item(value) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2, default=_json_default)
    return "\n".join("    " + line for line in text.splitlines())


def export_store(store: FactStore, out: TextIO, fmt: str = "yaml", chunk_size: int = 2000) -> int:
    """Write every unit and cadre of ``store`` to ``out`` in the import format.

    Args:
        store: The fact store.
        out: A text stream.
        fmt: ``yaml`` or ``json``.
        chunk_size: Cadres read per query round.

    Returns:
        The number of cadres written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    units = list(store.units().values())
    n = 0
    if fmt == "yaml":
        out.write("units:\n" + _yaml([_flow_unit(u) for u in units]) if units else "units: []\n")
        for chunk in store.iter_cadre_chunks(chunk_size=chunk_size):
            if n == 0:
                out.write("cadres:\n")
            out.write(_yaml([_flow_records(c) for c in chunk]))
            n += len(chunk)
        if n == 0:
            out.write("cadres: []\n")
        return n
    out.write('{\n  "units": [')
    out.write(",".join("\n" + _json_item(u) for u in units))
    out.write("\n  ],\n" if units else "],\n")
    out.write('  "cadres": [')
    for chunk in store.iter_cadre_chunks(chunk_size=chunk_size):
        out.write(("," if n else "") + ",".join("\n" + _json_item(c) for c in chunk))
        n += len(chunk)
    out.write("\n  ]\n}\n" if n else "]\n}\n")
    return n
