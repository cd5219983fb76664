"""Running iterations several at a time: threads (for launches that wait on child processes) and a pool
of worker processes (for in-process handlers, which need their own interpreter to run in parallel).

Workers are started once per sweep (``python -m trackrun.runtimes.worker``) and load the handler once, so
its imports (XGBoost, pandas...) are paid once per worker, not per iteration.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

from trackrun.errors import InvalidArgumentError

OnDone = Callable[[dict], bool]
_launcher_fds: set[int] = set()  # the launcher's ends of forked workers' pipes


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


class _Worker:
    """One worker process (see worker.py): ``send`` an iteration, read its answer from ``answers``."""

    def __init__(self, handler: Callable, db_url: str, inline: dict, spawn_setup: Callable[[], str] | None):
        if spawn_setup is None:
            self._fork(handler, db_url, inline)
        else:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), PYTHONUNBUFFERED="1")
            self.proc = subprocess.Popen([sys.executable, "-m", "trackrun.runtimes.worker"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
            self.pid = self.proc.pid
            self.tasks, self.answers = self.proc.stdin, self.proc.stdout
            self.tasks.write(spawn_setup())
        self.task: dict | None = None

    def _fork(self, handler: Callable, db_url: str, inline: dict) -> None:
        task_r, task_w = os.pipe()
        answer_r, answer_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                os.close(task_w)
                os.close(answer_r)
                for fd in _launcher_fds:  # other workers' pipes: holding them would hide their EOF
                    with contextlib.suppress(OSError):
                        os.close(fd)
                os.dup2(2, 1)
                from trackrun.runtimes.worker import serve

                serve(handler, db_url, inline, os.fdopen(task_r), os.fdopen(answer_w, "w"))
            except BaseException:
                code = 1
            finally:
                os._exit(code)  # never run the launcher's exit handlers or flush its buffers twice
        os.close(task_r)
        os.close(answer_w)
        _launcher_fds.update((task_w, answer_r))
        self.proc = None
        self.pid = pid
        self.tasks = os.fdopen(task_w, "w", buffering=1)
        self.answers = os.fdopen(answer_r)

    def send(self, child: dict) -> None:
        meta = child["metadata"]
        self.task = child
        self.tasks.write(json.dumps({"uid": meta["uid"], "project": meta["project"],
                                     "iteration": meta["iteration"]}) + "\n")

    def read(self) -> dict | None:
        line = self.answers.readline()
        return json.loads(line) if line else None

    def stop(self) -> None:
        if self.proc is None:
            _launcher_fds.difference_update((self.tasks.fileno(), self.answers.fileno()))
        with contextlib.suppress(OSError):
            self.tasks.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            self.answers.close()


def fork_is_safe() -> bool:
    """True when every thread of this process is one known to survive a fork: OpenBLAS's pool (it stops
    and restarts it around fork) and jemalloc's background thread. Any other thread, an OpenMP pool left
    by XGBoost or a user's thread, may hold a lock or a barrier that the forked child would wait on forever."""
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return False
    if len(tids) == 1:
        return True
    import threading

    if any(t is not threading.main_thread() for t in threading.enumerate()):
        return False  # a Python thread of ours or the user's: never explained by a library pool
    names = []
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/comm") as fh:
                names.append(fh.read().strip())
        except OSError:
            return False
    unexplained = len(tids) - 1 - names.count("jemalloc_bg_thd") - _openblas_pool_threads()
    return unexplained <= 0


def _openblas_pool_threads() -> int:
    """Worker threads of the OpenBLAS libraries loaded here (each runs n-1 besides the caller's)."""
    import ctypes

    try:
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "openblas" in line.rsplit("/", 1)[-1].lower()}
    except OSError:
        return 0
    total = 0
    for path in libs:
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD)
        except OSError:
            continue
        for symbol in ("openblas_get_num_threads", "openblas_get_num_threads64_",
                       "scipy_openblas_get_num_threads", "scipy_openblas_get_num_threads64_"):
            getter = getattr(lib, symbol, None)
            if getter is not None:
                total += max(0, getter() - 1)
                break
    return total


def _pickle_handler(handler: Callable) -> bytes:
    import cloudpickle

    module = sys.modules.get(getattr(handler, "__module__", "") or "")
    if module is not None and module.__name__.startswith("trackrun_user_"):
        # a file we imported under a private name: the worker could not import it by that name
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(handler)
    except Exception as exc:
        raise InvalidArgumentError(f"cannot send handler {getattr(handler, '__name__', handler)} to worker "
                                   f"processes for parallel_runs ({exc}); run without parallel_runs") from None
    finally:
        if module is not None and module.__name__.startswith("trackrun_user_"):
            cloudpickle.unregister_pickle_by_value(module)


def run_in_processes(children: list[dict], handler: Callable, db: Any, inline: dict, workers: int,
                     on_done: OnDone, prepare: Callable[[dict], dict]) -> None:
    """Each iteration runs ``handler`` in one of ``workers`` worker processes (started once per sweep)."""
    spawn_setup = None
    if not fork_is_safe():
        blob = base64.b64encode(_pickle_handler(handler)).decode()
        setup = json.dumps({"handler": blob, "db": db.url, "inline": inline}) + "\n"
        spawn_setup = lambda: setup  # noqa: E731

    def ready(worker: _Worker) -> _Worker:
        if worker.read() is None:  # it says it is ready once the handler (and what it imports) is loaded
            worker.stop()
            raise InvalidArgumentError("a worker process for parallel_runs could not load the handler; "
                                       "see its error above, or run without parallel_runs")
        return worker

    def start() -> _Worker:
        return ready(_Worker(handler, db.url, inline, spawn_setup))

    pool: list[_Worker] = []
    try:
        # all started before waiting for any: a fresh interpreter takes seconds to import the handler's libraries
        pool.extend(_Worker(handler, db.url, inline, spawn_setup) for _ in range(min(workers, len(children))))
        for worker in pool:
            ready(worker)
        idle = list(pool)
        pending = deque(children)
        go_on = True
        busy: dict[Any, _Worker] = {}
        while busy or (pending and go_on):
            while go_on and pending and idle:
                worker = idle.pop()
                worker.send(prepare(pending.popleft()))
                busy[worker.answers] = worker
            readable, _, _ = select.select(list(busy), [], [])
            for stream in readable:
                worker = busy.pop(stream)
                task, worker.task = worker.task, None
                answer = worker.read()
                meta = task["metadata"]
                if answer is None or "failure" in answer:
                    _record_failure(db, meta, "its worker process died" if answer is None else answer["failure"])
                if answer is None:
                    worker.stop()
                    pool.remove(worker)
                    worker = start()
                    pool.append(worker)
                idle.append(worker)
                if not on_done(db.read_run(meta["uid"], meta["project"], meta["iteration"])):
                    go_on = False
    finally:
        for worker in pool:
            worker.stop()


def _record_failure(db: Any, meta: dict, reason: str) -> None:
    from trackrun.schemas.run import ERROR, TERMINAL_STATES, now_iso

    run = db.read_run(meta["uid"], meta["project"], meta["iteration"])
    if run["status"].get("state") not in TERMINAL_STATES:
        db.update_run({"status.state": ERROR, "status.error": f"iteration failed: {reason}",
                       "status.last_update": now_iso()}, meta["uid"], meta["project"], meta["iteration"])
