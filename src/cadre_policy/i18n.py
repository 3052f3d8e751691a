"""The one message catalogue: every sentence a user reads, in Chinese (the default) or English.

Messages are written in the code in English (``_("unknown cadre id: {id}")``) and
translated in ``data/locale/zh/LC_MESSAGES/cadre_policy.po``; English is the message
itself. The ``.po`` file is the one that is edited; ``cadre_policy.mo`` beside it is
compiled from it with Babel (``pybabel compile -D cadre_policy -d src/cadre_policy/data/locale``)
and both ship as package data. At run time the standard library reads the ``.mo`` in
about a millisecond (reading the ``.po`` with Babel costs ~0.2 s, on every command); a
test fails when the ``.mo`` is not what compiling the ``.po`` gives.

The language is chosen per context (a :class:`contextvars.ContextVar`), so a server can
answer each request in its own language: :func:`set_language`, or ``with using("en")``;
when none was chosen, the locale decides (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: English
when it names English, Chinese otherwise).

>>> with using("zh"):
...     _("unknown cadre id: {id}").format(id="C0007")
'未知的干部编号：C0007'
>>> with using("en"):
...     _("unknown cadre id: {id}").format(id="C0007")
'unknown cadre id: C0007'
"""
from __future__ import annotations

import gettext as gettext_module
import os
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Iterator, Mapping

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
LOCALE = Path(__file__).resolve().parent / "data" / "locale"
CATALOGUE = LOCALE / "zh" / "LC_MESSAGES" / "cadre_policy.po"
COMPILED = CATALOGUE.with_suffix(".mo")

_chosen: ContextVar[str | None] = ContextVar("cadre_policy_language", default=None)


def from_locale(environ: Mapping[str, str] = os.environ) -> str:
    """The language the locale asks for: the first set of LC_ALL, LC_MESSAGES, LANG.

    >>> from_locale({"LANG": "en_US.UTF-8"}), from_locale({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US"})
    ('en', 'zh')
    >>> from_locale({"LANG": "C.UTF-8"}), from_locale({})
    ('zh', 'zh')
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT
    return DEFAULT


def language() -> str:
    """The language of messages in this context: the one chosen, else the locale's."""
    return _chosen.get() or from_locale()


def set_language(lang: str | None) -> None:
    """Choose ``zh`` or ``en`` for this context; None goes back to the locale."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    _chosen.set(lang)


@contextmanager
def using(lang: str | None) -> Iterator[None]:
    """Messages in ``lang`` inside the block (a request, a test), as before after it."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    token = _chosen.set(lang)
    try:
        yield
    finally:
        _chosen.reset(token)


@cache
def catalogue() -> gettext_module.GNUTranslations:
    """The compiled Chinese catalogue, read once per process."""
    with open(COMPILED, "rb") as stream:
        return gettext_module.GNUTranslations(stream)


def gettext(message: str) -> str:
    """``message`` in the language of this context (the message itself when untranslated)."""
    if language() == "en" or not message:
        return message
    return catalogue().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the language of this context."""
    if language() == "en":
        return singular if n == 1 else plural
    return catalogue().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it yet (translated where shown)."""
    return message


_ = gettext

__all__ = ["LANGUAGES", "N_", "_", "catalogue", "from_locale", "gettext", "language", "ngettext",
           "set_language", "using"]
