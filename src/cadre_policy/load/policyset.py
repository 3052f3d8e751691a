"""Loading and checking a policy set in one call: what every command does first."""
from __future__ import annotations

from cadre_policy.diagnostics import Diagnostic, PolicyRejected
from cadre_policy.language.model import PolicySet
from cadre_policy.load.cache import cached


def lint(directory) -> tuple[PolicySet | None, list[Diagnostic]]:
    """Every diagnostic of a policy set, sorted by place."""
    from cadre_policy.validate.policy import check_policy_set     # imported only when not cached
    from cadre_policy.load.policies import load_policy_set
    policy_set, diagnostics = load_policy_set(directory)
    if policy_set is not None:
        diagnostics = diagnostics + check_policy_set(policy_set)
        from cadre_policy.aggregate import structure_diagnostics   # groups and aggregate rules (issue 6)
        diagnostics = structure_diagnostics(policy_set, diagnostics)
    return policy_set, sorted(diagnostics, key=Diagnostic.sort_key)


def load(directory) -> PolicySet:
    """A checked policy set, from the start-up cache when nothing it came from changed (load/cache).

    Raises:
        PolicyRejected: with every error (warnings do not stop it).
    """
    return cached(directory, lambda: _load(directory))


def _load(directory) -> PolicySet:
    policy_set, diagnostics = lint(directory)
    if policy_set is None or any(d.severity == "error" for d in diagnostics):
        raise PolicyRejected(diagnostics)
    return policy_set
