"""Process-level helpers of the privacy ledger: the file lock, Ctrl-C held across a ledger write, and whether the
process that holds a reservation has ended. No privacy logic here (see :mod:`synthgen.privacy.ledger`)."""
from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends.

    Wrap a ledger write together with the caller's record of it (``reservation = ledger.reserve(...)``), so an
    interrupt cannot land between the two and leave a reservation nobody cancels. Outside the main thread (where
    Python delivers no signals) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            if callable(previous):
                previous(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt here
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _holder_state(process: dict | None) -> str:
    """"ended", "is still running" or "ran on host ..." for a reservation's recorded process."""
    if not process:
        return "ended"  # written before processes were recorded: nothing to wait for
    if process.get("host") != socket.gethostname():
        return f"ran on host {process.get('host')!r} (its state cannot be checked from here)"
    try:
        os.kill(int(process["pid"]), 0)
    except ProcessLookupError:
        return "ended"
    except PermissionError:
        pass  # alive, owned by another user
    return "is still running"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
