"""Running iterations several at a time: threads (for launches that wait on child processes) and a pool
of forked worker processes (for in-process handlers, which need their own interpreter to run in parallel).

Workers are forked once, before any progress thread starts, so they inherit the loaded handler and its
imports (XGBoost, pandas...) instead of importing them again for every iteration.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

OnDone = Callable[[dict], bool]
_HANDLERS: dict[int, Callable] = {}


def run_in_threads(children: list[dict], launch: Callable[[dict], dict], workers: int, on_done: OnDone) -> None:
    pending = deque(children)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = set()
        go_on = True
        while running or (pending and go_on):
            while go_on and pending and len(running) < workers:
                running.add(pool.submit(launch, pending.popleft()))
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                if not on_done(future.result()):
                    go_on = False


def _worker(token: int, uid: str, project: str, iteration: int, db_url: str, inline: dict) -> dict:
    from trackrun.db import get_run_db
    from trackrun.runtimes.inprocess import execute_handler

    db = get_run_db(db_url)
    return execute_handler(db.read_run(uid, project, iteration), _HANDLERS[token], db, inline, echo=False)


def run_in_processes(children: list[dict], handler: Callable, db: Any, inline: dict, workers: int,
                     on_done: OnDone, prepare: Callable[[dict], dict]) -> None:
    """Each iteration runs ``handler`` in one of ``workers`` forked processes."""
    token = id(handler)
    _HANDLERS[token] = handler
    results: queue.Queue = queue.Queue()
    context = multiprocessing.get_context("fork")
    pool = context.Pool(workers)
    try:
        pending = deque(children)
        in_flight = 0
        go_on = True
        while in_flight or (pending and go_on):
            while go_on and pending and in_flight < workers:
                child = prepare(pending.popleft())
                meta = child["metadata"]
                pool.apply_async(_worker, (token, meta["uid"], meta["project"], meta["iteration"], db.url, inline),
                                 callback=results.put, error_callback=results.put)
                in_flight += 1
            outcome = results.get()
            in_flight -= 1
            if isinstance(outcome, BaseException):
                raise outcome
            if not on_done(outcome):
                go_on = False
    finally:
        pool.terminate()
        pool.join()
        _HANDLERS.pop(token, None)
