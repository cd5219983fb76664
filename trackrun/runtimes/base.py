"""The runtime base: every entry point (run_local, fn.run, the CLI) turns a task into run records here.

``run`` enriches the task into a run record (uid, name, project, labels, resolved paths), stores it, and
either launches it once or expands it into hyper-parameter iterations, launches those (one after another
or several at once), selects the best and records the parent with its iteration table. A runtime
subclass only says how to launch one run (`_launch`) and, optionally, many at once (`_launch_parallel`).
"""

from __future__ import annotations

import copy
import functools
import getpass
import os
import re
import uuid
from collections.abc import Callable
from typing import Any

from trackrun import hyper
from trackrun.config import config
from trackrun.errors import InvalidArgumentError, RunError
from trackrun.schemas.run import COMPLETED, CREATED, ERROR, new_run_dict, now_iso

_TEMPLATE = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_NAME_OK = re.compile(r"^[^/\x00-\x1f]{1,255}$")
# project names appear in store:// URIs and artifact paths, so no '/', '*' or spaces
_PROJECT_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
OnDone = Callable[[dict], bool]  # called with each finished iteration's record; False stops the sweep


def default_output_path() -> str:
    """TRACKRUN_ARTIFACT_PATH, else ``<embedded store>/artifacts/{{run.project}}``."""
    if config.artifact_path:
        return config.artifact_path
    from trackrun.datastore.paths import join_url
    from trackrun.db.factory import default_artifact_root, resolve_url

    return join_url(default_artifact_root(resolve_url()), "{{run.project}}")


def fill_templates(path: str, meta: dict) -> str:
    """Fill ``{{run.uid}}``, ``{{run.project}}`` (or ``{{project}}``), ``{{run.name}}``, ``{{run.user}}``."""
    values = {"run.uid": meta.get("uid", ""), "run.project": meta.get("project", ""),
              "project": meta.get("project", ""), "run.name": meta.get("name", ""),
              "run.user": (meta.get("labels") or {}).get("owner", "")}

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise InvalidArgumentError(f"cannot fill '{{{{{name}}}}}' in the artifact path '{path}'; "
                                       f"known: {', '.join('{{' + k + '}}' for k in values)}")
        return str(values[name])

    filled = _TEMPLATE.sub(fill, path)
    if "{{" in filled or "}}" in filled:
        raise InvalidArgumentError(f"the artifact path '{path}' has an unclosed template; write it like "
                                   "'/data/{{run.uid}}'")
    return filled


@functools.cache
def owner() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry in some containers
        return "unknown"


def _to_template(runspec: Any):
    from trackrun.task import RunTemplate

    if runspec is None:
        return RunTemplate()
    if isinstance(runspec, RunTemplate):
        return runspec.copy()
    if hasattr(runspec, "to_dict"):
        runspec = runspec.to_dict()
    if isinstance(runspec, dict):
        return RunTemplate(runspec.get("spec"), runspec.get("metadata"))
    raise InvalidArgumentError(f"a task must be made with new_task(...) or be a dict, got {type(runspec).__name__}")


class BaseRuntime:
    """A function: code plus how to run it. Subclasses implement `_launch` for their kind."""

    kind = "base"

    def __init__(self, name: str = "", project: str = "", tag: str = "", command: str = "",
                 args: list[str] | None = None, handler: Any = None, image: str = "", workdir: str | None = None):
        self.metadata = {"name": name, "project": project, "tag": tag}
        self.spec = {"command": command, "args": list(args or []), "image": image,
                     "default_handler": handler if isinstance(handler, str) else "", "workdir": workdir}
        self._handler_fn = handler if callable(handler) else None

    @property
    def name(self) -> str:
        return self.metadata["name"]

    # -- the one path -----------------------------------------------------------------------------
    def run(self, runspec: Any = None, handler: Any = None, name: str = "", project: str = "",
            params: dict | None = None, inputs: dict | None = None, out_path: str = "", workdir: str = "",
            artifact_path: str = "", watch: bool = True, hyperparams: dict | None = None,
            hyper_param_options: dict | None = None, selector: str | None = None, strategy: str | None = None,
            param_file: str | None = None, parallel_runs: int | None = None, labels: dict | None = None,
            local: bool = False, verbose: bool | None = None, schedule: Any = None):
        """Run the task on this function and return the run object; raises `RunError` if the run fails
        (a hyper-parameter run fails only when no iteration succeeds or max_errors is exceeded)."""
        from trackrun.db import get_run_db
        from trackrun.run_object import RunObject

        if schedule:
            raise InvalidArgumentError("scheduled runs need the tracking service; run without schedule=")
        task = _to_template(runspec)
        if hyperparams:
            task.with_hyper_params(hyperparams, selector, strategy, **(hyper_param_options or {}))
        elif param_file:
            task.with_param_file(param_file, selector, strategy, **(hyper_param_options or {}))
        elif hyper_param_options or selector or strategy:
            opts = dict(task.spec.get("hyper_param_options") or {})
            opts.update(hyper_param_options or {})
            task._set_hyper_options(selector or opts.pop("selector", None), strategy or opts.pop("strategy", None),
                                    {k: v for k, v in opts.items() if k not in ("selector", "strategy")})
        if parallel_runs:
            task.spec.setdefault("hyper_param_options", {})["parallel_runs"] = int(parallel_runs)
        handler_fn, handler_name = self._resolve_handler(handler, task)
        run = self._enrich(task, handler_name, name, project, params, inputs, out_path or artifact_path,
                           workdir, labels)
        db = get_run_db()
        self._db = db
        if run["spec"].get("hyperparams") or run["spec"].get("param_file"):
            final = self._run_hyper(run, db, handler_fn, task.inline_secrets)
        else:
            final = self._launch(self._prepare(run, db, handler_fn), db, handler_fn, task.inline_secrets, echo=True)
        result = RunObject(final, db)
        if final["status"].get("state") == ERROR:
            raise RunError(final["status"].get("error") or "the run failed", run=result)
        return result

    def _resolve_handler(self, handler: Any, task: Any) -> tuple[Callable | None, str]:
        if callable(handler):
            return handler, getattr(handler, "__name__", "handler")
        if handler:
            return None, str(handler)
        if task.handler_fn is not None:
            return task.handler_fn, task.spec.get("handler") or getattr(task.handler_fn, "__name__", "")
        if task.spec.get("handler"):
            return None, task.spec["handler"]
        if self._handler_fn is not None:
            return self._handler_fn, getattr(self._handler_fn, "__name__", "handler")
        return None, self.spec.get("default_handler") or ""

    def _enrich(self, task: Any, handler_name: str, name: str, project: str, params: dict | None,
                inputs: dict | None, output_path: str, workdir: str, labels: dict | None) -> dict:
        from trackrun.datastore.paths import normalize_url

        run = new_run_dict()
        run["metadata"].update(task.metadata)  # the task is already run()'s own copy (see _to_template)
        run["spec"].update(task.spec)
        meta, spec = run["metadata"], run["spec"]
        meta["name"] = name or meta.get("name") or handler_name or self.name or "run"
        if not _NAME_OK.match(meta["name"]):
            raise InvalidArgumentError(f"run name '{meta['name']}' is invalid: use 1-255 characters without '/'")
        meta["project"] = project or meta.get("project") or self.metadata["project"] or config.default_project
        if not _PROJECT_OK.match(meta["project"]):
            raise InvalidArgumentError(f"project name '{meta['project']}' is invalid: use up to 63 letters, digits, "
                                       "'-', '_' or '.', starting with a letter or digit")
        meta["uid"] = uuid.uuid4().hex
        meta["iteration"] = 0
        meta["labels"] = {"kind": self.kind, "owner": owner(), **(meta.get("labels") or {}),
                          **{k: str(v) for k, v in (labels or {}).items()}}
        spec["handler"] = handler_name
        if params:
            spec["parameters"] = {**(spec.get("parameters") or {}), **params}
        if inputs:
            spec["inputs"] = {**(spec.get("inputs") or {}), **inputs}
        base_dir = workdir or self.spec.get("workdir") or None
        if base_dir and not os.path.isdir(base_dir):
            raise InvalidArgumentError(f"working directory '{base_dir}' does not exist")
        if base_dir:
            spec["input_path"] = os.path.abspath(base_dir)
        spec["inputs"] = {k: normalize_url(v, base_dir=spec.get("input_path") or None)
                          for k, v in (spec.get("inputs") or {}).items()}
        if spec.get("param_file"):
            spec["param_file"] = normalize_url(spec["param_file"], base_dir=spec.get("input_path") or None)
        path = output_path or spec.get("output_path") or default_output_path()
        spec["output_path"] = normalize_url(fill_templates(path, meta))
        spec["function"] = self._function_uri(meta["project"])
        run["status"] = {"state": CREATED, "results": {}, "artifacts": [], "start_time": now_iso()}
        return run

    def _function_uri(self, project: str) -> str:
        return ""

    # -- launching (per kind) ---------------------------------------------------------------------
    def _prepare(self, run: dict, db: Any, handler_fn: Callable | None) -> dict:
        """Store the record before launching, for launches that hand the run over through the store (a
        child process loads it); an in-process launch stores it itself when the context starts."""
        meta = run["metadata"]
        db.store_run(run, meta["uid"], meta["project"], meta.get("iteration", 0))
        return run

    def _launch(self, run: dict, db: Any, handler_fn: Callable | None, inline: dict, echo: bool) -> dict:
        """Execute one stored run record to its end and return the final record."""
        raise NotImplementedError

    def _launch_parallel(self, children: list[dict], db: Any, handler_fn: Callable | None, inline: dict,
                         workers: int, on_done: OnDone, prepare: Callable[[dict], dict]) -> None:
        """Run iterations at most ``workers`` at a time (``prepare`` stores each one just before it starts);
        the default runs them from threads, which suits launches that wait on child processes."""
        from trackrun.runtimes.parallel import run_in_threads

        run_in_threads(children, lambda child: self._launch(prepare(child), db, handler_fn, inline, echo=False),
                       workers, on_done)

    # -- hyper-parameter runs ---------------------------------------------------------------------
    def _run_hyper(self, run: dict, db: Any, handler_fn: Callable | None, inline: dict) -> dict:
        from trackrun.context import RunContext
        from trackrun.datastore.dataitem import get_dataitem
        from trackrun.runtimes.progress import SweepProgress

        spec = run["spec"]
        opts = dict(spec.get("hyper_param_options") or {})
        combos = hyper.generate(spec.get("hyperparams") or None, opts.get("strategy") or spec.get("strategy"),
                                spec.get("param_file") or None, opts.get("max_iterations"),
                                read=lambda url: get_dataitem(url).get())
        selector = opts.get("selector") or spec.get("selector") or ""
        stop = hyper.StopCondition(opts["stop_condition"]) if opts.get("stop_condition") else None
        max_errors = opts.get("max_errors")
        workers = max(1, int(opts.get("parallel_runs") or 1))

        parent = RunContext(run, db)  # stores the parent as running
        children = []
        for iteration, combo in enumerate(combos, start=1):
            child = copy.deepcopy(run)
            child["metadata"]["iteration"] = iteration
            child["spec"]["parameters"] = {**(run["spec"].get("parameters") or {}), **combo}
            for key in ("hyperparams", "param_file", "hyper_param_options", "selector", "strategy"):
                child["spec"].pop(key, None)
            child["status"] = {"state": CREATED, "results": {}, "artifacts": [], "start_time": now_iso()}
            children.append(child)

        finished: list[dict] = []
        errors = 0
        stopped = ""
        progress = SweepProgress(run["metadata"]["name"], len(children))

        def on_done(final: dict) -> bool:
            nonlocal errors, stopped
            finished.append(final)
            status = final["status"]
            failed = status.get("state") != COMPLETED
            errors += failed
            progress.advance(failed)
            if max_errors is not None and errors > int(max_errors):
                stopped = f"stopped after {errors} failed iterations (max_errors={max_errors})"
                return False
            if stop and not failed and stop(status.get("results") or {}):
                stopped = f"stopped early: '{opts['stop_condition']}' held at iteration " \
                          f"{final['metadata']['iteration']}"
                return False
            return True

        def prepare(child: dict) -> dict:
            return self._prepare(child, db, handler_fn)

        def store_then(child: dict) -> dict:
            # a parallel iteration always runs in another process, which loads it from the store
            return BaseRuntime._prepare(self, child, db, handler_fn)

        with progress:
            try:
                if workers > 1 and len(children) > 1:
                    self._launch_parallel(children, db, handler_fn, inline, workers, on_done, store_then)
                else:
                    for child in children:
                        final = self._launch(prepare(child), db, handler_fn, inline, echo=True)
                        if not on_done(final):
                            break
            except KeyboardInterrupt:
                parent.abort("interrupted (Ctrl-C)")
                raise
        return self._finish_hyper(parent, db, finished, len(children), selector, errors, stopped)

    def _finish_hyper(self, parent: Any, db: Any, finished: list[dict], total: int, selector: str,
                      errors: int, stopped: str) -> dict:
        from trackrun.artifacts import TableArtifact

        rows = sorted(({"iteration": f["metadata"]["iteration"], "state": f["status"].get("state"),
                        "parameters": f["spec"].get("parameters") or {},
                        "results": f["status"].get("results") or {}} for f in finished),
                      key=lambda r: r["iteration"])
        table = hyper.iteration_table(rows)
        status = parent._run["status"]
        status["iterations"] = table
        best = hyper.select_best(rows, selector) if selector else 0
        if best:
            best_run = next(f for f in finished if f["metadata"]["iteration"] == best)
            status["results"] = {**(best_run["status"].get("results") or {}), "best_iteration": best}
            status["artifacts"] = list(best_run["status"].get("artifacts") or [])
            db.mark_best_iteration(parent.project, parent._uid, best)
            for art in status["artifacts"]:  # `latest` names the best model, not the last one to finish
                if art.get("uid") and art.get("db_key"):
                    db.tag_artifact(art["db_key"], "latest", parent.project, art["uid"])
        parent.log_artifact(TableArtifact("iteration_results", header=table[0], rows=table[1:]),
                            local_path="iteration_results.csv")
        completed = sum(1 for r in rows if r["state"] == COMPLETED)
        summary = [f"{len(rows)} of {total} iterations ran, {completed} completed, {errors} failed"]
        if stopped:
            summary.append(stopped)
        if selector and not best:
            summary.append(f"no iteration has a numeric result for selector '{selector}'")
        status["status_text"] = "; ".join(summary)
        if completed == 0:
            parent.set_state(error=f"all iterations failed ({status['status_text']})", commit=False)
        elif "max_errors" in stopped:
            parent.set_state(error=status["status_text"], commit=False)
        db.store_log(parent._uid, parent.project, (status["status_text"] + "\n").encode(), append=True)
        parent.finish()
        return parent.to_dict()
