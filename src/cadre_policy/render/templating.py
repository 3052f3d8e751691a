"""The one Jinja environment of the reports and sheets: autoescaped, the catalogue's ``_`` in every template.

The workbench's pages have their own environment (serve/pages.py); both escape every
value from data, so a name or a quote cannot become markup.
"""
from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from cadre_policy.i18n import _, language

env = Environment(loader=PackageLoader("cadre_policy.render", "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def codes(text: str) -> Markup:
    """A rule's sentence with its codes (〔path〕) in elements of class ``code`` (the workbench's 显示代码 shows them)."""
    return Markup(re.sub(r"〔[^〕]*〕", lambda m: f'<span class="code">{m.group(0)}</span>', str(escape(text))))


env.globals.update(_=_, language=language)
env.filters.update(codes=codes)


def render(template: str, **values) -> str:
    """A template of render/templates filled with ``values``."""
    return env.get_template(template).render(**values)
