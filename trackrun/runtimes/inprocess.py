"""Run a handler in this process: bind its arguments, capture its output, record how it ended."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from typing import Any

from trackrun.context import RunContext
from trackrun.runtimes.binding import bind
from trackrun.runtimes.capture import LogSink, capture_output, iteration_header
from trackrun.secrets import SecretStore


def record_return(context: RunContext, value: Any) -> None:
    """A handler's return value becomes results: a dict's items, or anything else as ``return``."""
    if value is None:
        return
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        context.log_results(value)
    else:
        context.log_result("return", value)


def execute_handler(run: dict, handler: Callable, db: Any, inline_secrets: dict | None = None,
                    echo: bool = True, capture: bool = True) -> dict:
    """Run ``handler`` for the run record ``run`` and return the final record. With capture False the
    output is left alone (a launcher that reads this process's output stores the log)."""
    secrets = SecretStore(run["spec"].get("secret_sources"), inline_secrets)
    context = RunContext(run, db, secrets)
    meta = run["metadata"]
    sink = LogSink(db, meta["uid"], meta["project"], secrets.mask, iteration_header(context.iteration))
    from trackrun.runtimes.entry import set_current_context

    previous = set_current_context(context)
    try:
        with capture_output(sink, echo=echo) if capture else contextlib.nullcontext():
            try:
                args, kwargs = bind(handler, context)
                record_return(context, handler(*args, **kwargs))
            except Exception as exc:
                context.mark_error(exc)
                print(traceback.format_exc(), end="")
            except SystemExit as exc:  # sys.exit() in a handler ends the handler, not the launcher
                if exc.code not in (None, 0):
                    context.set_state(error=f"the handler called sys.exit({exc.code!r})", commit=False)
            except KeyboardInterrupt:
                context.abort("interrupted (Ctrl-C)")
                raise
    finally:
        set_current_context(previous)
    context.finish()
    return context._run  # the context ends here: its record needs no defensive copy
