"""What every text renderer shares: one escape for strings that reach a terminal, and the console.

A name, a unit title or a file path read from a fact store or a file can hold control
characters: ESC starts a terminal escape sequence (colours, cursor moves, a rewritten
title bar), CR and backspace overwrite what was printed, NUL and the bidirectional
overrides hide or reorder text. :func:`safe` shows each as a visible ``\\x..`` /
``\\u....`` escape, so an officer sees what is in the record and the terminal does what
we print and nothing else. Text renderers build :class:`rich.text.Text` (never markup
from data) from strings passed through :func:`safe`.
"""
from __future__ import annotations

import os
import re
import sys
from typing import IO

from rich.console import Console

#: C0 and C1 controls, DEL, line/paragraph separators, bidirectional marks and overrides.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value) -> str:
    """``value`` as text that cannot drive a terminal: control characters shown as escapes.

    >>> safe("王\\x1b[2J伟\\r\\n"), safe(None), safe(3)
    ('王\\\\x1b[2J伟\\\\x0d\\\\x0a', '', '3')
    """
    if value is None:
        return ""
    return _UNSAFE.sub(_escape, str(value))


def console_for(stream: IO | None = None, *, color: bool | None = None) -> Console:
    """The console text renderers print on: colour and the terminal's width on a terminal.

    Anywhere else (a file, a pipe) nothing is cut or wrapped to a guessed width: lines are
    as long as their content, unless ``COLUMNS`` asks for a width; no colour codes.
    """
    stream = stream or sys.stdout
    terminal = stream.isatty() if hasattr(stream, "isatty") else False
    width = None if terminal or os.environ.get("COLUMNS") else 10_000
    return Console(file=stream, highlight=False, soft_wrap=False, width=width,
                   force_terminal=None if terminal else False,
                   no_color=not terminal if color is None else not color, markup=False, emoji=False)


#: Below this many columns a terminal is narrow: codes are left out and continuation lines indented.
NARROW = 100


def narrow(console: Console) -> bool:
    """Whether ``console`` is a terminal too narrow for the code columns (a file or pipe never is)."""
    return console.is_terminal and console.width < NARROW
