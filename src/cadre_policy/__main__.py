"""``python -m cadre_policy``: the `policy` command."""
from cadre_policy.cli import main

main()
