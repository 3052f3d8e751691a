"""`policy test` and `policy show`: authoring feedback on the policy set."""
from __future__ import annotations

import sys

import click

from cadre_policy.cli.common import (EXIT_FINDINGS, EXIT_OK, Failure, as_of_option, engine_for, engine_option,
                                     evaluation_day, load_policies, policies_option, policy_dir)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@policies_option
@engine_option
@click.option("--coverage", is_flag=True, help="List the rules no case makes fire.")
def test_command(paths, policies_dir, engine, coverage):
    """Run the policy test cases (*.tests.yaml). Exit 1 when any fails."""
    from cadre_policy.testing.cases import run_files, uncovered
    directory = policy_dir(policies_dir)
    policy_set = load_policies(directory)
    results, problems = run_files(policy_set, paths or [directory], engine_for(engine, False))
    for problem in problems:
        click.echo(str(problem), err=True)
    for result in results:
        if not result.passed:
            click.echo(f"FAIL {result.case.file}:{result.case.line}: {result.case.name}")
            for difference in result.differences:
                click.echo(f"    {difference}")
    passed = sum(r.passed for r in results)
    if coverage:
        for location, rule_id, provision in uncovered(policy_set, results):
            click.echo(f"UNCOVERED {location}: {rule_id} ({provision}) no case exercises it")
    click.echo(f"PASS: {passed}/{len(results)}")
    sys.exit(EXIT_OK if passed == len(results) and not problems else EXIT_FINDINGS)


@click.command()
@click.argument("rule_id")
@as_of_option
@policies_option
def show(rule_id, as_of, policies_dir):
    """A rule as a Chinese sentence, with the parameter values in force on --as-of."""
    from cadre_policy.diagnostics import suggest
    from cadre_policy.explain.sentence import rule_sentence
    policy_set = load_policies(policies_dir)
    rule = policy_set.rule(rule_id)
    if rule is None:
        hint = suggest(rule_id, [r.id for r in policy_set.rules])
        raise Failure(f"unknown rule id: {rule_id}" + (f" (did you mean '{hint}'?)" if hint else ""))
    click.echo(rule_sentence(policy_set, rule, evaluation_day(as_of)))
