"""`policy lint`: every diagnostic of policy files and drafts, one line each."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cadre_policy.cli.common import EXIT_FINDINGS, EXIT_OK, policy_dir


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def lint(paths):
    """Check policy files: YAML, schema, names, types, strata. Exit 1 on errors."""
    from cadre_policy.load.drafts import is_draft_file, lint_drafts
    from cadre_policy.load.policyset import lint as lint_set
    targets = [Path(p) for p in paths] or [Path(policy_dir(None))]
    errors = 0
    shown = 0
    drafts = [p for p in targets if p.is_file() and is_draft_file(p)]
    targets = [p for p in targets if p not in drafts]
    for diagnostic in lint_drafts(drafts, policy_dir(None)):   # drafts: checked against the set in force
        click.echo(str(diagnostic))
        shown += 1
        errors += diagnostic.severity == "error"
    for directory in sorted({p if p.is_dir() else p.parent for p in targets}):
        only = {str(p) for p in targets if not p.is_dir()}
        _, diagnostics = lint_set(directory)
        for diagnostic in diagnostics:
            if only and diagnostic.location.file not in only:
                continue
            click.echo(str(diagnostic))
            shown += 1
            errors += diagnostic.severity == "error"
    click.echo(f"{errors} error(s), {shown - errors} warning(s)", err=True)
    sys.exit(EXIT_FINDINGS if errors else EXIT_OK)
