"""Lint diagnostics for machines: JSON, and SARIF 2.1.0 (read by editors and code-review tools)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from cadre_policy.diagnostics import CODES, Diagnostic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_json(diagnostics: list[Diagnostic]) -> dict:
    """``{"diagnostics": [...], "errors": N, "warnings": N}``."""
    errors = sum(d.severity == "error" for d in diagnostics)
    return {"diagnostics": [d.as_dict() for d in diagnostics], "errors": errors,
            "warnings": len(diagnostics) - errors}


def to_sarif(diagnostics: list[Diagnostic]) -> dict:
    """One SARIF run: the lint codes as rules, each diagnostic a result with its region."""
    used = sorted({d.code for d in diagnostics})
    results = []
    for d in diagnostics:
        message = d.message + (f" (did you mean '{d.suggestion}'?)" if d.suggestion else "")
        location = {"physicalLocation": {"artifactLocation": {"uri": d.location.file}}}
        if d.location.line:
            location["physicalLocation"]["region"] = {"startLine": d.location.line,
                                                      "startColumn": max(d.location.column, 1)}
        results.append({"ruleId": d.code, "ruleIndex": used.index(d.code), "level": d.severity,
                        "message": {"text": message}, "locations": [location]})
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "policy lint", "version": _version(),
                            "rules": [{"id": code, "shortDescription": {"text": CODES.get(code, code)}}
                                      for code in used]}},
        "results": results}]}


def _version() -> str:
    try:
        return version("cadre-policy")
    except PackageNotFoundError:
        return "0"
