"""The one Jinja environment of the reports and sheets: autoescaped, the catalogue's ``_`` in every template.

The workbench's pages have their own environment (serve/pages.py); both escape every
value from data, so a name or a quote cannot become markup.
"""
from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from cadre_policy.i18n import _, language

env = Environment(loader=PackageLoader("cadre_policy.render", "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
env.globals.update(_=_, language=language)


def render(template: str, **values) -> str:
    """A template of render/templates filled with ``values``."""
    return env.get_template(template).render(**values)
