"""Reading and checking an import in a forked child while the importing process writes.

On two cores the database's insert (the parent) and the reading, checking and laying out of
the records (the child) take turns no more: the batches cross a pipe, pickled (≈ 7 µs of CPU a
cadre, both sides together, against ≈ 40 µs of checking and ≈ 25 µs of insert). The child
sends ``("batch", units, cadres)`` messages, then ``("done",)``, ``("rejected", issues, total)``
or ``("error", exception)``; the parent yields the batches to the store inside its one
transaction and raises what the child raised, so an import stays all or nothing.

Only a process with one thread forks (a thread holding a lock at the fork would leave it held
in the child), and only where ``fork`` exists; else the caller checks in its own process.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from typing import Iterator

from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.parse.issues import ImportRejected


class CheckerDied(UserError):
    """The checking child ended without a word (killed, out of memory); nothing was written."""


def can_fork() -> bool:
    """True when this process may check an import in a forked child."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1 \
        and not multiprocessing.current_process().daemon


def checked_in_child(batches) -> Iterator:
    """The items of the iterable ``batches``, made in a forked child (see the module docstring)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(batches, send), daemon=True)
    child.start()
    send.close()
    try:
        while True:
            try:
                kind, *payload = pickle.loads(receive.recv_bytes())
            except EOFError:
                child.join(5)
                raise CheckerDied(_("the import's checking process ended without a word (exit status {status}); "
                                    "nothing was written: run the import again, or with "
                                    "POLICY_IMPORT_CHILD_MB=off").format(status=child.exitcode)) from None
            if kind == "batch":
                yield tuple(payload)
            elif kind == "rejected":
                raise ImportRejected(*payload)
            elif kind == "error":
                raise payload[0]
            else:
                return
    finally:
        receive.close()             # a child still sending stops at its next batch
        child.join(5)
        if child.is_alive():
            child.terminate()
            child.join()


def _child(batches, send) -> None:
    try:
        for batch in batches:
            send.send_bytes(pickle.dumps(("batch", *batch), pickle.HIGHEST_PROTOCOL))
        message: tuple = ("done",)
    except ImportRejected as rejected:
        message = ("rejected", rejected.issues, rejected.total)
    except BrokenPipeError:         # the parent stopped listening: nothing to say
        os._exit(1)
    except BaseException as exc:    # noqa: BLE001 - the parent raises it
        message = ("error", exc)
    try:
        try:
            data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        except Exception:          # noqa: BLE001 - an exception that does not pickle
            data = pickle.dumps(("error", RuntimeError(repr(message[1]))))
        send.send_bytes(data)
    finally:
        os._exit(0)                 # no exit handlers: they belong to the parent (its database)
