"""`policy lint` over everything a policy set holds: policy files, drafts, test files,
the outcome catalogue, the provision register and the test units.

A directory is a policy set (its policy files, data files and tests files are linted
together), or, when every YAML file in it is a draft, a folder of drafts (each linted
against the policy set in force). A file is linted by its kind. A path that does not
exist, or a directory that holds no policy file, is a :class:`LintPathError` (exit 2):
a typo in a path must not pass as "0 errors".
"""
from __future__ import annotations

from pathlib import Path

from cadre_policy.i18n import _
from cadre_policy.diagnostics import Diagnostic, Location
from cadre_policy.errors import UserError

DATA_SCHEMAS = {"outcomes.yaml": "outcomes", "provisions.yaml": "provisions", "test_units.yaml": "facts"}


class LintPathError(UserError):
    """A path given to lint that does not exist or holds nothing to lint."""


def file_kind(path: Path, text: str | None = None) -> str:
    """``policy``, ``draft``, ``tests`` or ``data`` (outcomes, register, test units), by the
    file's name and its text (read from ``path`` when not given)."""
    from cadre_policy.load.drafts import is_draft_file, is_draft_text
    if path.name.endswith(".tests.yaml"):
        return "tests"
    if path.name in DATA_SCHEMAS:
        return "data"
    return "draft" if (is_draft_text(text) if text is not None else is_draft_file(path)) else "policy"


def lint_paths(paths, policies_dir) -> list[Diagnostic]:
    """Every diagnostic of the given files and directories, sorted by place, without repeats.

    Args:
        paths: files or directories (none: the policy set ``policies_dir``).
        policies_dir: the policy set drafts are applied to, and test files outside a
            policy set are run against.

    Raises:
        LintPathError: a path does not exist, or a directory holds no YAML file.
    """
    targets = [Path(p) for p in paths] or [Path(policies_dir)]
    groups: dict[Path, set[Path] | None] = {}      # policy set directory -> files to report (None: all)
    drafts, loose_tests = [], []
    for target in targets:
        if not target.exists():
            raise LintPathError(f"{target}: no such file or directory")
        if target.is_dir():
            yamls = sorted(target.glob("*.yaml"))
            if not yamls:
                raise LintPathError(f"{target}: no policy file (*.yaml) in this directory")
            kinds = {file_kind(p) for p in yamls}
            if kinds == {"draft"}:
                drafts += yamls
            elif "policy" in kinds:
                groups[target] = None
            else:
                raise LintPathError(f"{target}: no policy file in this directory (only "
                                    f"{', '.join(sorted(p.name for p in yamls))})")
            continue
        kind = file_kind(target)
        if kind == "draft":
            drafts.append(target)
        elif kind == "tests" and not _is_policy_set(target.parent):
            loose_tests.append(target)
        elif groups.get(target.parent, set()) is not None:
            groups.setdefault(target.parent, set()).add(target)
    found: list[Diagnostic] = []
    for directory, only in groups.items():
        found += [d for d in lint_policy_set(directory)
                  if only is None or Path(d.location.file) in only or d.location.file in {str(p) for p in only}]
    if drafts or loose_tests:
        from cadre_policy.load.drafts import lint_drafts
        found += lint_drafts(drafts, policies_dir)
        found += _lint_tests(loose_tests, Path(policies_dir))
    unique = {(d.sort_key(), d.suggestion): d for d in found}
    return sorted(unique.values(), key=Diagnostic.sort_key)


def _is_policy_set(directory: Path) -> bool:
    return any(file_kind(p) == "policy" for p in directory.glob("*.yaml"))


def lint_policy_set(directory: Path) -> list[Diagnostic]:
    """The policy set's diagnostics, then those of its test files and test units."""
    from cadre_policy.load.policies import read_data_file
    from cadre_policy.load.policyset import lint as lint_set
    policy_set, found = lint_set(directory)
    if (directory / "test_units.yaml").exists():
        found = found + read_data_file(directory / "test_units.yaml", "facts")[2]
    if policy_set is None or any(d.severity == "error" for d in found):
        return found        # its test files are read against the set once it has no errors
    return found + _lint_tests(sorted(directory.glob("*.tests.yaml")), directory, policy_set, found)


def _lint_tests(files: list[Path], directory: Path, policy_set=None, diagnostics=None) -> list[Diagnostic]:
    if not files:
        return []
    from cadre_policy.load.cases import lint_cases_file
    if diagnostics is None:
        from cadre_policy.load.policyset import lint as lint_set
        policy_set, diagnostics = lint_set(directory)
    if policy_set is None or any(d.severity == "error" for d in diagnostics):
        return [Diagnostic("E003", _("the policy set {directory} has errors; its test files are checked once it has none").format(
            directory=directory), Location(str(f))) for f in files]
    return [d for f in files for d in lint_cases_file(f, policy_set)]
