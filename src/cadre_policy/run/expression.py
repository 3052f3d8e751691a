"""One expression evaluated for one cadre on a date (``policy eval``): its value and why, as data.

An expression is a fact path (``cadre.age``, ``latest_appraisal.grade``, a derived quantity)
or a condition written as in a policy file (``{fact: cadre.age, 超过: 45}``). A condition is
checked like a rule's (unknown names, types, values) before it is evaluated.
"""
from __future__ import annotations

from cadre_policy.diagnostics import PolicyRejected
from cadre_policy.i18n import _
from cadre_policy.language.kleene import Evaluator, lookup
from cadre_policy.load.policies import _Builder
from cadre_policy.parse.positioned import load_yaml
from cadre_policy.run.reasons import because, display
from cadre_policy.validate.policy import check_condition

_ANSWER = {True: "true", False: "false", None: "unknown"}


def parse(runner, text: str):
    """A fact path (str) or a condition (model) from the text of an expression.

    Raises:
        PolicyRejected: the text is neither, or the condition does not check.
    """
    data, positions, problems = load_yaml(text, "<expression>")
    if problems:
        raise PolicyRejected(problems, _("the expression cannot be read"))
    if isinstance(data, str):
        if runner.catalogue.resolve(data) is None:
            raise PolicyRejected([], _("unknown fact '{name}' (policy facts fields lists them)").format(name=data))
        return data
    if not isinstance(data, (dict, list)):
        raise PolicyRejected([], _("an expression is a fact path or a condition {fact: …, OP: …}"))
    diagnostics: list = []
    cond = _Builder("eval", positions, diagnostics).condition(data, ())
    diagnostics += check_condition(runner.policy_set, cond)
    if any(d.severity == "error" for d in diagnostics):
        raise PolicyRejected(diagnostics, _("the condition has errors"))
    return cond


def evaluate(runner, text: str, doc: dict, units: dict) -> dict:
    """The value of an expression for one cadre, and why: a condition's deciding comparisons, or the
    definition of a derived quantity with the facts it reads."""
    expression = parse(runner, text)
    scope = runner.deriver.scope(doc, units)
    answer: dict = {"expression": text, "cadre": doc.get("id"), "as_of": runner.as_of.isoformat()}
    if isinstance(expression, str):
        kind = runner.catalogue.resolve(expression)
        answer["value"] = display(lookup(scope, expression), kind)
        spec = runner.catalogue.derived.get(expression.split(".")[0])
        answer["reads"] = []
        if spec is not None:
            answer.update(title=spec.title, form=spec.form)
            answer["reads"] = [{"fact": path, "value": display(lookup(scope, path), runner.catalogue.resolve(path))}
                               for path in sorted(spec.references()) if runner.catalogue.resolve(path) is not None
                               and not _is_list(runner, path)]
        return answer
    evaluator = Evaluator(runner.catalogue.resolve, runner.compiled.parameters, runner.as_of, set(),
                          runner.policy_set.parameters)
    answer["value"] = _ANSWER[evaluator.holds(expression, scope)]
    answer["because"] = because(expression, scope, evaluator)
    return answer


def _is_list(runner, path: str) -> bool:
    kind = runner.catalogue.resolve(path)
    return kind is not None and kind.name == "records"



