"""A JSON Schema violation of an import file (YAML, JSON) as a sentence in the reader's language.

jsonschema words its errors in English ("'farmer' is not one of ['civil_servant', …]"); in Chinese the
field and its values are named by their labels (the record table), as the spreadsheet cells' errors are.
English keeps jsonschema's own words, which name the codes an English reader writes.
"""
from __future__ import annotations

import difflib

from cadre_policy.i18n import _, language
from cadre_policy.language import labels
from cadre_policy.load.policies import KINDS_BY_NAME

_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def schema_message(error) -> str:
    """The sentence for one jsonschema ``ValidationError`` (of the import format)."""
    if language() == "en":
        return error.message
    name = next((str(p) for p in reversed(error.absolute_path) if isinstance(p, str)), "")
    value = error.instance
    if error.validator == "format" and error.validator_value == "date" or \
            error.validator == "pattern" and error.validator_value == _DATE_PATTERN:
        return _("'{value}' is not a calendar date").format(value=value)
    if error.validator == "enum":
        codes = {str(c) for c in error.validator_value}      # the enumeration's labels, found by its codes
        named = next((v for v in labels.VALUES.values() if codes <= set(v)), {})
        choices = [named.get(str(c), str(c)) for c in error.validator_value]
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = _(" (did you mean '{hint}'?)").format(hint=close[0]) if close else \
            _(" (one of {values})").format(values="、".join(choices))
        return _("'{value}' is not a {field}").format(value=value, field=labels.field(name)) + hint
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return _("{field}: '{value}' is not {wanted}").format(
            field=labels.field(name), value=value, wanted=_(" or ").join(_(KINDS_BY_NAME.get(w, w)) for w in wanted))
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else ""
        return _("'{key}' is required").format(key=labels.field(missing))
    if error.validator in ("minimum", "exclusiveMinimum"):
        return _("{field}: {value} is less than {limit}").format(field=labels.field(name), value=value,
                                                                 limit=error.validator_value)
    if error.validator in ("maximum", "exclusiveMaximum"):
        return _("{field}: {value} is more than {limit}").format(field=labels.field(name), value=value,
                                                                 limit=error.validator_value)
    if error.validator in ("minLength", "maxLength", "pattern"):
        return _("{field}: '{value}' is not of the required form").format(field=labels.field(name), value=value)
    return error.message
