"""The worker side: how user code gets its context.

Inside a managed run the launcher either passes the context to the handler (in process) or starts the
script with ``TRACKRUN_EXEC_CONFIG`` naming the run record to load (child process). Run standalone
(``python training.py``), `get_or_create_ctx` creates and records a new run that ends when the script does.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import uuid
from typing import Any

from trackrun.context import RunContext
from trackrun.errors import InvalidArgumentError
from trackrun.schemas.run import new_run_dict, now_iso

EXEC_ENV = "TRACKRUN_EXEC_CONFIG"
_current: RunContext | None = None


def set_current_context(context: RunContext | None) -> RunContext | None:
    """Make ``context`` the one `get_or_create_ctx` returns; return the previous one."""
    global _current
    previous, _current = _current, context
    return previous


def get_or_create_ctx(name: str, event: Any = None, spec: Any = None, with_env: bool = True,
                      rundb: str = "", project: str = "", labels: dict | None = None) -> RunContext:
    """The context of the current run: the managed one when a runtime started this code, else a new run
    named ``name`` recorded in the configured run database (``TRACKRUN_DBPATH``)."""
    global _current
    if _current is not None and spec is None and event is None:
        return _current
    from trackrun.db import get_run_db

    config_text = os.environ.get(EXEC_ENV) if with_env and spec is None else None
    if config_text:
        ref = json.loads(config_text)
        db = get_run_db(ref.get("dbpath") or rundb)
        run = db.read_run(ref["uid"], ref["project"], ref.get("iteration", 0))
        context = RunContext(run, db)
        _install_exit_hooks(context, standalone=False)
    else:
        db = get_run_db(rundb)
        run = _standalone_run(name, spec, project, labels)
        context = RunContext(run, db)
        _install_exit_hooks(context, standalone=True)
    _current = context
    return context


def _standalone_run(name: str, spec: Any, project: str, labels: dict | None) -> dict:
    from trackrun.config import config
    from trackrun.runtimes.base import default_output_path, fill_templates, owner

    run = new_run_dict()
    if spec is not None:
        given = spec.to_dict() if hasattr(spec, "to_dict") else json.loads(spec) if isinstance(spec, str) else spec
        if not isinstance(given, dict):
            raise InvalidArgumentError("get_or_create_ctx(spec=...) takes a dict, a JSON string or a task")
        for part in ("metadata", "spec"):
            run[part].update(given.get(part) or {})
    meta = run["metadata"]
    meta["name"] = meta.get("name") or name
    meta["uid"] = meta.get("uid") or uuid.uuid4().hex
    meta["project"] = project or meta.get("project") or config.default_project
    meta["labels"] = {"kind": "local", "owner": owner(), **(meta.get("labels") or {}), **(labels or {})}
    spec_ = run["spec"]
    spec_["output_path"] = fill_templates(spec_.get("output_path") or default_output_path(), meta)
    spec_["handler"] = spec_.get("handler") or os.path.basename(sys.argv[0] or "")
    run["status"]["start_time"] = now_iso()
    return run


def _install_exit_hooks(context: RunContext, standalone: bool) -> None:
    """Record an uncaught exception with its traceback, and end the run when the interpreter exits."""
    previous_hook = sys.excepthook

    def on_exception(exc_type: Any, exc: BaseException, tb: Any) -> None:
        if isinstance(exc, BaseException) and not isinstance(exc, KeyboardInterrupt):
            context.mark_error(exc.with_traceback(tb))
        elif isinstance(exc, KeyboardInterrupt):
            context.abort("interrupted (Ctrl-C)")
        previous_hook(exc_type, exc, tb)

    sys.excepthook = on_exception
    sink = None
    if standalone:
        from trackrun.runtimes.capture import LogSink, _Tee

        sink = LogSink(context._db, context._uid, context.project, context._secrets.mask)
        sys.stdout = _Tee(sys.stdout, sink, echo=True)
        sys.stderr = _Tee(sys.stderr, sink, echo=True)

    def at_exit() -> None:
        context.finish()
        if sink is not None:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            sink.flush()

    atexit.register(at_exit)
