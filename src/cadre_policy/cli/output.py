"""The one way the CLI writes an output file (``-o PATH``) or standard output.

A regular file (or a missing one) is written to a fresh temporary file in the target's
directory and renamed over it only when everything was written, so a reader never sees
half a report and an error leaves the old file as it was. A character device, FIFO or
socket (``-o /dev/null``, a named pipe) is written directly: renaming over it would
replace the device. A symbolic link is resolved first, so the file it points to is
replaced and the link stays. The temporary file never survives an error.
"""
from __future__ import annotations

import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from typing import IO, Iterator

from cadre_policy.errors import UserError
from cadre_policy.i18n import _


class OutputError(UserError):
    """An output file that cannot be written."""


def _cannot(path: str, error: OSError) -> OutputError:
    return OutputError(_("cannot write {path}: {reason}").format(path=path, reason=error.strerror or error))


@contextmanager
def open_output(path: str | None, *, binary: bool = False, newline: str | None = "\n") -> Iterator[IO]:
    """Yield a stream for ``path`` (standard output when None), committed on success.

    Args:
        path: The target file, or None for standard output.
        binary: Open in binary mode (XLSX); text is UTF-8 otherwise.
        newline: Newline translation for text mode ('' leaves ``\\r\\n`` of CSV alone).

    Raises:
        OutputError: the target's folder is missing or not writable, or the write failed.
    """
    if path is None:
        if binary:
            yield sys.stdout.buffer
        else:
            yield sys.stdout
        return
    mode = "wb" if binary else "w"
    kwargs = {} if binary else {"encoding": "utf-8", "newline": newline}
    target = os.path.realpath(path)
    try:
        special = os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode)
    except OSError as error:
        raise _cannot(path, error) from None
    if special:     # a device, FIFO or socket: write in place, never rename over it
        try:
            stream = open(target, mode, **kwargs)
        except OSError as error:
            raise _cannot(path, error) from None
        with stream:
            yield stream
        return
    folder = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise _cannot(path, error) from None
    try:
        with os.fdopen(fd, mode, **kwargs) as stream:
            yield stream
        if os.path.exists(target):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as error:
        raise _cannot(path, error) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def append_line(path: str, line: str) -> None:
    """Add ``line`` at the end of the text file ``path`` (made when missing), through
    :func:`open_output`: the file is whole before and after, never half appended."""
    try:
        with open(path, encoding="utf-8") as old:
            before = old.read()
    except FileNotFoundError:
        before = ""
    except (OSError, UnicodeDecodeError) as error:
        raise OutputError(_("cannot write {path}: {reason}").format(
            path=path, reason=getattr(error, "strerror", None) or error)) from None
    with open_output(path) as out:
        out.write(before + ("" if not before or before.endswith("\n") else "\n") + line + "\n")


def quiet_broken_pipe() -> None:
    """After the reader of standard output went away (``| head``): say nothing more, exit 1."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(1)
