"""Functions: code plus how to run it. `new_function` picks the runtime by kind; `run_local` is the seed's
shortcut for running a task on a local file or callable."""

from __future__ import annotations

import os
import shlex
from typing import Any

from trackrun.errors import InvalidArgumentError
from trackrun.runtimes import runtime_class


def new_function(name: str = "", project: str = "", tag: str = "", kind: str = "", command: str = "",
                 image: str = "", args: list[str] | None = None, runtime: Any = None, mode: str | None = None,
                 handler: Any = None, workdir: str | None = None, **kwargs: Any):
    """A function of ``kind`` (``handler``, ``local`` or ``job``). With no kind: ``local`` when a command
    is given, else ``handler``. ``command`` may carry arguments (``"train.py --epochs 3"``)."""
    if kwargs:
        raise InvalidArgumentError(f"new_function got unknown argument(s) {', '.join(sorted(kwargs))}")
    if isinstance(runtime, dict):
        kind = kind or runtime.get("kind", "")
        spec = runtime.get("spec") or {}
        command = command or spec.get("command", "")
        args = args or spec.get("args")
        meta = runtime.get("metadata") or {}
        name, project, tag = name or meta.get("name", ""), project or meta.get("project", ""), tag or meta.get("tag", "")
    if command and " " in command.strip():
        parts = shlex.split(command)
        command, args = parts[0], parts[1:] + list(args or [])
    if command.startswith(("http://", "https://")):
        raise InvalidArgumentError("remote (HTTP) functions are not available in this version; "
                                   "run a local .py file or a handler")
    if image and kind in ("", "local", "handler"):
        raise InvalidArgumentError(f"image='{image}' needs a container runtime; local functions run here")
    kind = kind or ("local" if command else "handler")
    name = name or (os.path.splitext(os.path.basename(command))[0] if command else "")
    cls = runtime_class(kind)
    return cls(name=name, project=project, tag=tag, command=command, args=args, handler=handler, image=image,
               workdir=workdir)


def run_local(task: Any = None, command: str = "", name: str = "", args: list[str] | None = None,
              workdir: str | None = None, project: str = "", tag: str = "", secrets: Any = None,
              handler: Any = None, params: dict | None = None, inputs: dict | None = None,
              artifact_path: str = "", mode: str | None = None, **run_kwargs: Any):
    """Run a task locally on a .py ``command`` (a script, or its function ``handler``) or on a callable
    ``handler``; return the run object."""
    if task is not None and secrets:
        task = task.copy()
    if secrets:
        from trackrun.task import new_task

        task = new_task(base=task) if task is not None else new_task()
        for source in secrets if isinstance(secrets, list) else [secrets]:
            if isinstance(source, dict):
                task.with_secrets(source["kind"], source["source"])
            else:
                kind, _, value = str(source).partition("=")
                task.with_secrets(kind, value)
    fn = new_function(name=name, project=project, tag=tag, command=command, args=args, workdir=workdir)
    return fn.run(task, handler=handler, name=name, project=project, params=params, inputs=inputs,
                  artifact_path=artifact_path, **run_kwargs)
