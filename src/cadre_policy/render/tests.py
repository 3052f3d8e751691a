"""`policy test` results for machines: JSON, and JUnit XML (read by CI systems)."""
from __future__ import annotations

from xml.etree import ElementTree as ET


def to_json(results: list, uncovered: list | None) -> dict:
    """Every case with its outcome, the totals and (with --coverage) the rules no case exercises."""
    out = {"cases": [{"file": r.case.file, "line": r.case.line, "name": r.case.name, "passed": r.passed,
                      "differences": list(r.differences)} for r in results],
           "passed": sum(r.passed for r in results), "total": len(results)}
    if uncovered is not None:
        out["uncovered"] = [{"location": loc, "rule": rule_id, "provision": provision}
                            for loc, rule_id, provision in uncovered]
    return out


def to_junit(results: list) -> str:
    """One ``<testsuite>`` per tests file, one ``<testcase>`` per case; a failure lists the differences."""
    root = ET.Element("testsuites", name="policy test", tests=str(len(results)),
                      failures=str(sum(not r.passed for r in results)))
    suites: dict[str, ET.Element] = {}
    for r in results:
        suite = suites.get(r.case.file)
        if suite is None:
            suite = suites[r.case.file] = ET.SubElement(root, "testsuite", name=r.case.file, tests="0", failures="0")
        suite.set("tests", str(int(suite.get("tests")) + 1))
        case = ET.SubElement(suite, "testcase", name=r.case.name, classname=r.case.file, file=r.case.file,
                             line=str(r.case.line))
        if not r.passed:
            suite.set("failures", str(int(suite.get("failures")) + 1))
            failure = ET.SubElement(case, "failure", message=r.differences[0])
            failure.text = "\n".join(r.differences)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
