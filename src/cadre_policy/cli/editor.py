"""`policy schema` and `policy lsp`: what an editor needs to complete and check policy files."""
from __future__ import annotations

import os

import click

from cadre_policy.i18n import _

from cadre_policy.cli.common import Failure, load_policies, policies_option, policy_dir


@click.command()
@click.option("--output", "-o", "out_dir", metavar="DIR", default="schemas", show_default=True,
              help="The folder the schemas are written to (created when missing).")
@policies_option
def schema(out_dir, policies_dir):
    """Write the JSON Schemas with Chinese descriptions and the policy set's names.

    The names (fact names, finding and requirement codes, provision ids, parameter
    names) come from the policy set, so an editor completes them after `fact: `,
    `finding: `, `provision: ` and `param: `.
    """
    from cadre_policy.cli.output import open_output
    from cadre_policy.editor.schema import dump, editor_schemas
    schemas = editor_schemas(load_policies(policies_dir))
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as error:
        raise Failure(_("cannot create {path}: {reason}").format(path=out_dir, reason=error.strerror or error)) from None
    for name, content in schemas.items():
        path = os.path.join(out_dir, f"{name}.schema.json")
        with open_output(path) as stream:
            stream.write(dump(content))
        click.echo(path)


@click.command()
@policies_option
def lsp(policies_dir):
    """Run the language server on standard input and output (for editors).

    It publishes the lint diagnostics of a policy, draft or test file as it is typed,
    shows a rule's Chinese sentence and a fact's title on hover, and completes names
    after `fact: `, `finding: `, `requirement: `, `provision: ` and `param: `.
    """
    from cadre_policy.editor.server import serve
    serve(policy_dir(policies_dir))
