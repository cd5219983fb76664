"""Local runtimes: ``handler`` (a callable, in this process), ``local`` (a .py file: in this process when a
handler is named, else as a script in a child process) and ``job`` (always its own process)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from trackrun.errors import InvalidArgumentError
from trackrun.runtimes.base import BaseRuntime, OnDone


class HandlerRuntime(BaseRuntime):
    """Runs a Python callable in this process; iterations in parallel run in forked worker processes."""

    kind = "handler"

    def _prepare(self, run: dict, db: Any, handler_fn: Callable | None) -> dict:
        return run if handler_fn is not None else super()._prepare(run, db, handler_fn)

    def _launch(self, run: dict, db: Any, handler_fn: Callable | None, inline: dict, echo: bool) -> dict:
        from trackrun.runtimes.inprocess import execute_handler

        if handler_fn is None:
            raise InvalidArgumentError("no handler to run: pass handler=<function> (or a .py command)")
        return execute_handler(run, handler_fn, db, inline, echo=echo)

    def _launch_parallel(self, children: list[dict], db: Any, handler_fn: Callable | None, inline: dict,
                         workers: int, on_done: OnDone, prepare: Callable[[dict], dict]) -> None:
        from trackrun.runtimes.parallel import run_in_processes

        if handler_fn is None:
            raise InvalidArgumentError("no handler to run: pass handler=<function> (or a .py command)")
        run_in_processes(children, handler_fn, db, inline, workers, on_done, prepare)


class LocalRuntime(HandlerRuntime):
    """A .py file: with a handler name, the file is imported here and the handler called in process;
    without one, the file runs as a script in a child process (``python -u file args``)."""

    kind = "local"

    def _command(self) -> str:
        command = self.spec.get("command") or ""
        if not command:
            raise InvalidArgumentError("this function has no command: give a .py file, e.g. command='train.py'")
        path = os.path.abspath(os.path.join(self.spec.get("workdir") or "", command))
        if os.path.isdir(path):
            raise InvalidArgumentError(f"source '{command}' is a directory; give a .py file")
        if not os.path.isfile(path):
            raise InvalidArgumentError(f"source file '{command}' does not exist")
        return path

    def _resolve_handler(self, handler: Any, task: Any) -> tuple[Callable | None, str]:
        fn, name = super()._resolve_handler(handler, task)
        if fn is None and name and self.spec.get("command"):
            from trackrun.runtimes.loader import load_handler

            fn = load_handler(self._command(), name)
        if fn is None:
            self._command()  # a script run: fail now if the file is missing
        return fn, name

    def _launch(self, run: dict, db: Any, handler_fn: Callable | None, inline: dict, echo: bool) -> dict:
        if handler_fn is not None:
            return super()._launch(run, db, handler_fn, inline, echo)
        from trackrun.runtimes.script import run_script

        return run_script(run, self._command(), self.spec.get("args") or [], db, inline,
                          workdir=self.spec.get("workdir"), echo=echo)

    def _launch_parallel(self, children: list[dict], db: Any, handler_fn: Callable | None, inline: dict,
                         workers: int, on_done: OnDone, prepare: Callable[[dict], dict]) -> None:
        if handler_fn is not None:
            return super()._launch_parallel(children, db, handler_fn, inline, workers, on_done, prepare)
        return BaseRuntime._launch_parallel(self, children, db, handler_fn, inline, workers, on_done, prepare)


class JobRuntime(LocalRuntime):
    """Every run in its own Python process, the handler (if any) called there."""

    kind = "job"

    _prepare = BaseRuntime._prepare

    def _resolve_handler(self, handler: Any, task: Any) -> tuple[Callable | None, str]:
        fn, name = BaseRuntime._resolve_handler(self, handler, task)
        if fn is not None and not self.spec.get("command"):
            raise InvalidArgumentError("a job runs a file: give command='file.py' and the handler's name")
        self._command()
        return None, name

    def _launch(self, run: dict, db: Any, handler_fn: Callable | None, inline: dict, echo: bool) -> dict:
        from trackrun.runtimes.script import run_script

        return run_script(run, self._command(), self.spec.get("args") or [], db, inline,
                          workdir=self.spec.get("workdir"), echo=echo, handler=run["spec"].get("handler") or "")

    _launch_parallel = BaseRuntime._launch_parallel
