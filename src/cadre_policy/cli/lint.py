"""`policy lint`: every diagnostic of policy files, drafts, test files and the set's data files."""
from __future__ import annotations

import json
import sys

import click

from cadre_policy.i18n import _

from cadre_policy.cli.common import EXIT_FINDINGS, EXIT_OK, policies_option, policy_dir


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@policies_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="text: one line per diagnostic; json: a document; sarif: SARIF 2.1.0 for editors and code review.")
def lint(paths, policies_dir, fmt):
    """Check policy files, drafts, test files, outcomes.yaml and provisions.yaml.

    PATHS are files or directories (default: the policy set). Exit 1 on errors, 2 when a
    path does not exist or holds no policy file.
    """
    from cadre_policy.load.lint import lint_paths
    from cadre_policy.render.diagnostics import to_json, to_sarif
    diagnostics = lint_paths(paths, policy_dir(policies_dir))
    errors = sum(d.severity == "error" for d in diagnostics)
    if fmt == "json":
        click.echo(json.dumps(to_json(diagnostics), ensure_ascii=False, indent=2))
    elif fmt == "sarif":
        click.echo(json.dumps(to_sarif(diagnostics), ensure_ascii=False, indent=2))
    else:
        for diagnostic in diagnostics:
            click.echo(str(diagnostic))
        click.echo(_("{errors} error(s), {warnings} warning(s)").format(errors=errors, warnings=len(diagnostics) - errors),
                   err=True)
    sys.exit(EXIT_FINDINGS if errors else EXIT_OK)
