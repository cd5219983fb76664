"""Who is running a run (host, pid, process start time) and whether that process still lives."""

from __future__ import annotations

import functools
import os
import socket


@functools.cache
def hostname() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str:
    """The kernel's start time of pid (Linux), so a reused pid is not mistaken for the original."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # field 22, counted after the parenthesised command name, which may hold spaces
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def identity() -> tuple[str, int, str]:
    pid = os.getpid()
    return hostname(), pid, process_start(pid)


def is_alive(pid: int, pid_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if pid_start:
        current = process_start(pid)
        if current and current != pid_start:
            return False
        if current:
            # a zombie has exited: it only waits for its parent to reap it
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                        return False
            except OSError:
                return False
    return True
