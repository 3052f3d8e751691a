"""CLI conventions (click, OPA, sqlfluff): --version, -h, global options after the subcommand,
contradictory options refused with exit 2, help on every option, no module names in help."""
from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from cadre_policy.cli import main


def run(*args):
    result = CliRunner().invoke(main, list(args), prog_name="policy", catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _commands(command=main, path=("policy",)):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, path + (name,))


def test_version_and_short_help():
    result = run("--version")
    assert result.exit_code == 0 and re.fullmatch(r"policy \d+\.\d+\.\d+\n", result.output)
    for path, _ in _commands():
        result = run(*path[1:], "-h")
        assert result.exit_code == 0 and result.output.startswith(f"Usage: {' '.join(path)}"), path


@pytest.mark.parametrize("path,command", list(_commands()), ids=lambda x: " ".join(x) if isinstance(x, tuple) else "")
def test_every_option_has_help_and_no_module_names(path, command):
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"
    text = run(*path[1:], "--help").output
    assert not re.search(r"\w+\.py\b|engine/|cadre_policy\.|issue \d", text), text


def test_facts_help_lists_every_subcommand():
    text = run("facts", "--help").output
    for name in main.commands["facts"].commands:
        assert re.search(rf"^  {name}\b", text, re.MULTILINE), name


def test_db_after_the_subcommand(tmp_path, sqlite_url):
    from conftest import SAMPLE
    assert run("facts", "import", str(SAMPLE), "--db", sqlite_url).exit_code == 0
    before = run("--db", sqlite_url, "check", "C0007", "--as-of", "2017-06-30")
    after = run("check", "C0007", "--as-of", "2017-06-30", "--db", sqlite_url)
    assert before.exit_code == after.exit_code == 0
    assert after.output == before.output and "C0007" in after.output


@pytest.mark.parametrize("args,message", [
    (["check", "C0007", "--all"], "Error: give a CADRE_ID or --all, not both (got C0007 and --all)"),
    (["check", "C0007", "--margin", "2"], "Error: --margin limits --near; add --near, or leave --margin out"),
    (["check", "C0007", "--unit", "DS-T1"], "Error: --unit selects cadres for --all; with one CADRE_ID leave it out"),
])
def test_contradictory_options_are_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
