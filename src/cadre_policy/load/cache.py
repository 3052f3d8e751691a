"""The checked policy set cached on disk, keyed by a content digest of everything it came from.

Reading and checking a policy set (YAML, JSON Schema, name and type checks) costs more than
the command that follows; the result depends only on the policy files and on this package's
code. The key is a SHA-256 over the code version (the path, size and modification time of
every file of the package, and the Python version) and the name and bytes of every YAML file
of the directory, so any edit to either gives a new key. Entries are signed with a per-user
key (HMAC-SHA256) kept beside them, readable only by the user; an entry that is unsigned,
tampered, unreadable or from another code version is ignored and rebuilt, never trusted.

``POLICY_CACHE=off`` disables the cache; ``POLICY_CACHE_DIR`` moves it (default
``$XDG_CACHE_HOME/cadre-policy`` or ``~/.cache/cadre-policy``).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Callable

PACKAGE = Path(__file__).resolve().parent.parent
_TAG = 32        # bytes of an HMAC-SHA256 tag


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is off."""
    if os.environ.get("POLICY_CACHE", "").lower() in ("off", "0", "no"):
        return None
    configured = os.environ.get("POLICY_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cadre-policy"


@cache
def code_version() -> str:
    """A digest of this package's files (path, size, modification time) and the Python version."""
    digest = hashlib.sha256(sys.version.encode())
    digest.update("".join(sorted(_code_files(str(PACKAGE), ""))).encode())
    return digest.hexdigest()


def _code_files(folder: str, prefix: str):
    """Path, size and modification time of every source and data file under ``folder`` (os.scandir:
    a fifth of the cost of pathlib's rglob and stat, paid by every command at start)."""
    for entry in os.scandir(folder):
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _code_files(entry.path, f"{prefix}{entry.name}/")
        elif entry.name.endswith((".py", ".json", ".yaml")):
            stat = entry.stat()
            yield f"{prefix}{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0"


def digest_of(directory: Path) -> str:
    """The cache key of a policy directory: the code version and every YAML file's name and bytes."""
    digest = hashlib.sha256(f"{code_version()}\0{directory}\0{directory.resolve()}\0".encode())
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cached(directory, build: Callable[[], object]) -> object:
    """``build()``, or the entry stored for ``directory``'s current content digest.

    Exceptions of ``build`` (a policy set with errors) pass through and nothing is stored.
    """
    where = cache_dir()
    directory = Path(directory)
    if where is None or not directory.is_dir():
        return build()
    try:
        key = digest_of(directory)
        secret = _secret(where)
    except OSError:
        return build()
    entry = where / f"policyset-{key}.pickle"
    value = _read(entry, secret)
    if value is not None:
        return value
    value = build()
    _write(entry, secret, value)
    return value


def _secret(where: Path) -> bytes:
    """The per-user signing key, made on first use (directory 0700, file 0600)."""
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = where / "key"
    try:
        return _owned(path).read_bytes()
    except FileNotFoundError:
        fd, tmp = tempfile.mkstemp(dir=where)
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(32))
        try:
            os.link(tmp, path)      # first writer wins; a racing one reads the winner's key
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return _owned(path).read_bytes()


def _owned(path: Path) -> Path:
    """``path`` if it is this user's and nobody else may write it; else an OSError."""
    stat = path.stat()
    if stat.st_uid != os.getuid() or stat.st_mode & 0o022:
        raise PermissionError(f"{path}: not private to this user")
    return path


def _read(entry: Path, secret: bytes):
    try:
        blob = _owned(entry).read_bytes()
    except OSError:
        return None
    tag, body = blob[:_TAG], blob[_TAG:]
    if not hmac.compare_digest(tag, hmac.new(secret, body, hashlib.sha256).digest()):
        return None
    try:
        return pickle.loads(body)
    except Exception:           # an entry from an incompatible build: rebuild it
        return None


def _write(entry: Path, secret: bytes, value) -> None:
    try:
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=entry.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(hmac.new(secret, body, hashlib.sha256).digest() + body)
        os.replace(tmp, entry)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass                    # a cache that cannot be written costs time, not correctness
