"""`policy test` and `policy show`: authoring feedback on the policy set."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cadre_policy.i18n import _

from cadre_policy.run.engines import default_engine
from cadre_policy.cli.common import (EXIT_FINDINGS, EXIT_OK, Failure, as_of_option, engine_option,
                                     evaluation_day, load_policies, policies_option, policy_dir)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@policies_option
@engine_option
@click.option("--coverage", is_flag=True,
              help="Also list the rules no case exercises (of the policies whose tests are given).")
@click.option("-k", "select", metavar="EXPR",
              help="Only the cases whose name matches: names joined by and, or, not, e.g. -k '诫勉 and not 恰为'.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True,
              help="text: failures and a summary; json: every case; junit: JUnit XML for CI.")
@click.option("--draft", "draft_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Run the cases with this draft applied; its own cases (FILE's name with .tests.yaml) too.")
def test_command(paths, policies_dir, engine, coverage, select, fmt, draft_file):
    """Run the policy test cases (*.tests.yaml). Exit 1 when any fails, 2 when a test file has errors."""
    from cadre_policy.load.cases import lint_cases_file
    from cadre_policy.load.lint import file_kind
    from cadre_policy.diagnostics import PolicyRejected
    from cadre_policy.testing.cases import case_files, coverage_scope, run_files, uncovered
    from cadre_policy.testing.select import matcher
    directory = policy_dir(policies_dir)
    policy_set = load_policies(directory)
    targets = list(paths or [directory])
    if draft_file is not None:
        policy_set, own = _with_draft(policy_set, draft_file)
        targets += [own] if own and own not in targets else []
    predicate = matcher(select) if select is not None else None
    problems = [d for f in case_files(targets) if file_kind(Path(f)) == "tests"
                for d in lint_cases_file(Path(f), policy_set)]
    if any(d.severity == "error" for d in problems):
        raise PolicyRejected(problems, "the test files have errors; run `policy lint`")
    results, _problems = run_files(policy_set, targets, default_engine(engine, False), predicate)
    if predicate is not None and not results:
        raise Failure(_("no case matches -k '{select}'").format(select=select))
    missing = uncovered(policy_set, results, coverage_scope(policy_set, targets)) if coverage else None
    passed = sum(r.passed for r in results)
    if fmt == "json":
        from cadre_policy.render.tests import to_json
        click.echo(json.dumps(to_json(results, missing), ensure_ascii=False, indent=2))
    elif fmt == "junit":
        from cadre_policy.render.tests import to_junit
        click.echo(to_junit(results), nl=False)
    else:
        for result in results:
            if not result.passed:
                click.echo(f"FAIL {result.case.file}:{result.case.line}: {result.case.name}")
                for difference in result.differences:
                    click.echo(f"    {difference}")
        for location, rule_id, provision in missing or ():
            click.echo(_("UNCOVERED {location}: {rule} ({provision}) no case exercises it").format(
                location=location, rule=rule_id, provision=provision))
        click.echo(_("PASS: {passed}/{total}").format(passed=passed, total=len(results)))
    sys.exit(EXIT_OK if passed == len(results) else EXIT_FINDINGS)


def _with_draft(policy_set, draft_file: str):
    """The policy set with the draft applied (a draft with errors is refused, every diagnostic listed),
    and the draft's own test file when there is one beside it (``name.tests.yaml`` for ``name.yaml``)."""
    from cadre_policy.diagnostics import PolicyRejected
    from cadre_policy.load.drafts import load_draft
    draft_set, _draft, diagnostics = load_draft(draft_file, policy_set)
    if draft_set is None:
        raise PolicyRejected(diagnostics, _("the draft {path} has errors; run `policy lint`").format(path=draft_file))
    path = Path(draft_file)
    own = path.with_name(path.name.removesuffix(path.suffix) + ".tests.yaml")
    return draft_set, (str(own) if own.exists() else None)


@click.command()
@click.argument("rule_id")
@as_of_option
@policies_option
def show(rule_id, as_of, policies_dir):
    """A rule as a Chinese sentence, with the parameter values in force on --as-of."""
    from cadre_policy.aggregate import load_structure
    from cadre_policy.diagnostics import suggest
    from cadre_policy.explain.sentence import aggregate_sentence, rule_sentence
    from cadre_policy.language.titles import titled
    day = evaluation_day(as_of)
    policy_set = titled(load_policies(policies_dir), day)
    rule = policy_set.rule(rule_id)
    if rule is not None:
        click.echo(rule_sentence(policy_set, rule, day))
        return
    structure = load_structure(policy_set)
    aggregate = next((r for r in structure.rules if r.id == rule_id), None)
    if aggregate is None:
        hint = suggest(rule_id, [r.id for r in policy_set.rules] + [r.id for r in structure.rules])
        raise Failure(_("unknown rule id: {id}").format(id=rule_id)
                      + (_(" (did you mean '{hint}'?)").format(hint=hint) if hint else ""))
    group = next((g for g in structure.groups if g.name == aggregate.group), None)
    click.echo(aggregate_sentence(policy_set, aggregate, group, day))
