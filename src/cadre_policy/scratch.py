"""Scratch files of the workbench: a posted draft's text for the draft loader, a job's reports.

They live in private temporary directories (never a user's ``-o`` path, which goes
through ``cli/output.py``), and are removed with them.
"""
from __future__ import annotations


def open_text(path):
    """A scratch text file opened for writing (UTF-8)."""
    return open(path, "w", encoding="utf-8")


def open_binary(path):
    """A scratch binary file opened for writing (a job's workbook)."""
    return open(path, "wb")


def write_text(path, text: str) -> str:
    """Write a scratch text file; return its path."""
    with open_text(path) as out:
        out.write(text)
    return str(path)


def write_bytes(path, data: bytes) -> str:
    """Write a scratch binary file (a posted import); return its path."""
    with open_binary(path) as out:
        out.write(data)
    return str(path)
