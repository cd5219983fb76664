"""The runtime context handed to user code: parameters, inputs, secrets in; results, metrics, labels and
artifacts out. One context records one run (one iteration of a hyper-parameter run).

Writes are batched: results and labels are kept in memory and written when the run commits, at most a
second after the last write while the run goes on, and always at the end; artifacts and metric batches are
written as they come. A failing write is retried by the store and then reported, never raised into the
user's training loop (see `_persist`).
"""

from __future__ import annotations

import copy
import math
import sys
import time
import traceback
from typing import Any

from trackrun import _process
from trackrun.errors import InvalidArgumentError, TrackrunError
from trackrun.schemas.run import (
    ABORTED,
    COMPLETED,
    ERROR,
    RUNNING,
    STATES,
    TERMINAL_STATES,
    now_iso,
)
from trackrun.secrets import SecretStore

_FLUSH_SECONDS = 1.0
_METRIC_BATCH = 20_000


class Logger:
    """``context.logger.info("msg", key=value)``: printed to the run's output, so it lands in its log."""

    def __init__(self, name: str, level: str = "info"):
        self.name = name
        self.level = level

    def _log(self, level: str, message: Any, **kw: Any) -> None:
        extra = " ".join(f"{k}={v!r}" for k, v in kw.items())
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        print(f"> {stamp} [{level}] {message}{' ' + extra if extra else ''}", flush=True)

    def debug(self, message: Any, **kw: Any) -> None:
        if self.level == "debug":
            self._log("debug", message, **kw)

    def info(self, message: Any, **kw: Any) -> None:
        self._log("info", message, **kw)

    def warning(self, message: Any, **kw: Any) -> None:
        self._log("warning", message, **kw)

    warn = warning

    def error(self, message: Any, **kw: Any) -> None:
        self._log("error", message, **kw)


def to_native(value: Any) -> Any:
    """A result value as JSON-ready Python: numpy scalars and arrays converted, unknown objects str()'d."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_native(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_native(v) for v in value]
    if hasattr(value, "tolist"):
        return to_native(value.tolist())
    if hasattr(value, "item"):
        return to_native(value.item())
    return str(value)


class RunContext:
    """What a handler receives as ``context``. Create it with `get_or_create_ctx` or let a runtime pass it."""

    def __init__(self, run: dict, db: Any, secrets: SecretStore | None = None, autocommit: bool = True):
        meta, spec, status = run["metadata"], run["spec"], run["status"]
        self._run = run
        self._db = db
        self._secrets = secrets or SecretStore(spec.get("secret_sources"))
        self._autocommit = autocommit
        self._uid = meta["uid"]
        self.name = meta.get("name", "")
        self.project = meta.get("project", "")
        self.iteration = int(meta.get("iteration") or 0)
        self.artifact_path = spec.get("output_path", "")
        self.in_path = spec.get("input_path", "")
        self.logger = Logger(self.name, spec.get("log_level", "info"))
        self._inputs_urls: dict[str, str] = dict(spec.get("inputs") or {})
        self._data_items: dict[str, Any] = {}
        self._metrics: list[tuple] = []
        self._last_step: dict[str, int] = {}
        self._last_write = 0.0
        self._dirty = False
        self.dask_client = None  # set by the dask runtime
        host, pid, pid_start = _process.identity()
        status.update(state=RUNNING, host=host, pid=pid, pid_start=pid_start, last_update=now_iso())
        status.setdefault("start_time", now_iso())
        status.setdefault("results", {})
        status.setdefault("artifacts", [])
        meta.setdefault("labels", {})["host"] = host
        meta.setdefault("annotations", {})
        self._persist(force=True)

    # -- identity ---------------------------------------------------------------------------------
    @property
    def uid(self) -> str:
        """The run's uid; iterations of a hyper run read ``<uid>-<iteration>``."""
        return f"{self._uid}-{self.iteration}" if self.iteration else self._uid

    @property
    def tag(self) -> str:
        return self._uid

    @property
    def out_path(self) -> str:
        """Alias of `artifact_path` kept for the seed's examples."""
        return self.artifact_path

    @property
    def parameters(self) -> dict:
        return copy.deepcopy(self._run["spec"].get("parameters") or {})

    @property
    def inputs(self) -> dict:
        """Input name -> data item."""
        return {key: self.get_input(key) for key in self._inputs_urls}

    @property
    def results(self) -> dict:
        return copy.deepcopy(self._run["status"]["results"])

    @property
    def labels(self) -> dict:
        return copy.deepcopy(self._run["metadata"]["labels"])

    @property
    def annotations(self) -> dict:
        return copy.deepcopy(self._run["metadata"]["annotations"])

    @property
    def artifacts(self) -> list[dict]:
        return copy.deepcopy(self._run["status"]["artifacts"])

    @property
    def state(self) -> str:
        return self._run["status"]["state"]

    # -- inputs -----------------------------------------------------------------------------------
    def get_param(self, key: str, default: Any = None) -> Any:
        """The parameter's value; a missing one takes ``default``, which is recorded as the value used."""
        params = self._run["spec"].setdefault("parameters", {})
        if key not in params:
            params[key] = to_native(default)
            self._dirty = True
            return default
        return params[key]

    def get_secret(self, key: str) -> str | None:
        """A secret from the run's secret sources (never recorded anywhere)."""
        return self._secrets.get(key)

    def get_input(self, key: str, url: str = "") -> Any:
        """A data item for input ``key`` (registering ``url``, or the key itself, when the key is new)."""
        from trackrun.datastore.dataitem import get_dataitem
        from trackrun.datastore.paths import normalize_url

        if key not in self._inputs_urls:
            self._inputs_urls[key] = normalize_url(url or key, base_dir=self.in_path or None)
            self._run["spec"].setdefault("inputs", {})[key] = self._inputs_urls[key]
            self._dirty = True
        if key not in self._data_items:
            self._data_items[key] = get_dataitem(self._inputs_urls[key], key=key, secrets=self._secrets.values,
                                                 db=self._db)
        return self._data_items[key]

    def get_dataitem(self, url: str) -> Any:
        from trackrun.datastore.dataitem import get_dataitem

        return get_dataitem(url, secrets=self._secrets.values, db=self._db)

    def artifact_subpath(self, *subpaths: str) -> str:
        from trackrun.datastore.paths import join_url

        return join_url(self.artifact_path, *subpaths)

    # -- outputs ----------------------------------------------------------------------------------
    def log_result(self, key: str, value: Any, commit: bool = False) -> None:
        """Record one result (numbers, strings, lists, dicts; numpy values are converted)."""
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError("a result needs a non-empty string key")
        self._run["status"]["results"][key] = to_native(value)
        self._dirty = True
        self._persist(force=commit)

    def log_results(self, results: dict, commit: bool = False) -> None:
        """Record several results at once."""
        if not isinstance(results, dict):
            raise InvalidArgumentError(f"log_results takes a dict, got {type(results).__name__}")
        for key, value in results.items():
            self._run["status"]["results"][str(key)] = to_native(value)
        self._dirty = True
        self._persist(force=commit)

    def log_metric(self, key: str, value: float, step: int | None = None, timestamp: float | None = None,
                   labels: dict | None = None) -> None:
        """Append a point to the time series ``key`` (step defaults to the series' next step)."""
        if step is None:
            step = self._next_step(key)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"metric '{key}' needs a number, got {value!r}") from None
        self._metrics.append((key, int(step), number, time.time() if timestamp is None else float(timestamp)))
        self._last_step[key] = int(step)
        if len(self._metrics) >= _METRIC_BATCH:
            self._flush_metrics()

    def log_metrics(self, keyvals: dict, step: int | None = None, timestamp: float | None = None) -> None:
        for key, value in keyvals.items():
            self.log_metric(key, value, step=step, timestamp=timestamp)

    def _next_step(self, key: str) -> int:
        last = self._last_step.get(key)
        return 0 if last is None else last + 1

    def _flush_metrics(self) -> None:
        if not self._metrics:
            return
        points, self._metrics = self._metrics, []
        try:
            self._db.store_metrics(self._uid, self.project, self.iteration, points)
        except TrackrunError as exc:
            self._report_write_failure("metrics", exc)

    def set_label(self, key: str, value: Any, replace: bool = True) -> None:
        labels = self._run["metadata"]["labels"]
        if replace or key not in labels:
            labels[key] = str(value)
            self._dirty = True

    def set_annotation(self, key: str, value: Any, replace: bool = True) -> None:
        annotations = self._run["metadata"]["annotations"]
        if replace or key not in annotations:
            annotations[key] = str(value)
            self._dirty = True

    def log_artifact(self, item: Any, body: Any = None, local_path: str | None = None,
                     artifact_path: str | None = None, tag: str = "", viewer: str | None = None,
                     target_path: str = "", src_path: str | None = None, upload: bool | None = None,
                     labels: dict | None = None, format: str | None = None, db_key: str | None = None,
                     **kwargs: Any) -> dict:
        """Store an artifact version: an Artifact object, or a key with ``body=`` bytes or ``local_path=``."""
        from trackrun.artifacts.manager import log_artifact

        record = log_artifact(self, item, body=body, local_path=local_path, artifact_path=artifact_path,
                              tag=tag, viewer=viewer, target_path=target_path, src_path=src_path, upload=upload,
                              labels=labels, format=format, db_key=db_key, **kwargs)
        self._add_artifact(record)
        return record

    def _add_artifact(self, record: dict) -> None:
        short = {k: record.get(k) for k in ("key", "kind", "db_key", "iter", "tree", "uid", "hash", "size",
                                            "format", "target_path", "uri", "viewer")}
        arts = [a for a in self._run["status"]["artifacts"] if a.get("key") != record["key"]]
        arts.append(short)
        self._run["status"]["artifacts"] = arts
        self._dirty = True
        self._persist()

    def log_dataset(self, key: str, df: Any, tag: str = "", local_path: str | None = None,
                    artifact_path: str | None = None, upload: bool = True, labels: dict | None = None,
                    format: str = "", preview: int | None = None, stats: bool | None = None,
                    db_key: str | None = None, target_path: str = "", extra_data: dict | None = None,
                    **kwargs: Any) -> dict:
        """Store a DataFrame as a dataset (csv or parquet) with schema, preview and column stats."""
        from trackrun.artifacts import DatasetArtifact

        item = DatasetArtifact(key, df=df, preview=preview, format=format, stats=stats, extra_data=extra_data)
        return self.log_artifact(item, local_path=local_path, artifact_path=artifact_path, tag=tag,
                                 target_path=target_path, upload=upload, labels=labels, db_key=db_key)

    def log_model(self, key: str, body: Any = None, framework: str = "", tag: str = "",
                  model_dir: str | None = None, model_file: str | None = None, metrics: dict | None = None,
                  parameters: dict | None = None, artifact_path: str | None = None, upload: bool = True,
                  labels: dict | None = None, inputs: list | None = None, outputs: list | None = None,
                  extra_data: dict | None = None, db_key: str | None = None, algorithm: str | None = None,
                  **kwargs: Any) -> dict:
        """Store a model file with its metrics, parameters and framework."""
        from trackrun.artifacts import ModelArtifact

        item = ModelArtifact(key, body=body, model_file=model_file, metrics=to_native(metrics or {}),
                             parameters=to_native(parameters or {}), inputs=inputs, outputs=outputs,
                             framework=framework, extra_data=extra_data, algorithm=algorithm)
        local = None
        if body is None:
            if not model_file:
                raise InvalidArgumentError(f"log_model('{key}') needs body= bytes or model_file= (a file path, "
                                           "inside model_dir when given)")
            import os

            local = os.path.join(model_dir, model_file) if model_dir else model_file
        elif model_file:
            local = model_file
        return self.log_artifact(item, local_path=local, artifact_path=artifact_path, tag=tag, upload=upload,
                                 labels=labels, db_key=db_key)

    # -- state ------------------------------------------------------------------------------------
    def set_state(self, state: str | None = None, error: str | None = None, commit: bool = True,
                  execution_state: str | None = None) -> None:
        """Set the run state (``state=`` or the newer ``execution_state=``); an error puts it in ``error``."""
        status = self._run["status"]
        state = state or execution_state
        if error is not None:
            status["state"] = ERROR
            status["error"] = str(error)
        elif state:
            if state not in STATES:
                raise InvalidArgumentError(f"unknown run state '{state}'; use one of {', '.join(STATES)}")
            if status["state"] != ERROR:
                status["state"] = state
        self._dirty = True
        if commit:
            self.commit()

    def mark_error(self, exc: BaseException) -> None:
        """Record an exception raised by user code, with its traceback."""
        status = self._run["status"]
        status["state"] = ERROR
        mask = self._secrets.mask  # an exception message may quote a secret it was given
        status["error"] = mask(f"{type(exc).__name__}: {exc}")
        status["traceback"] = mask("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        self._dirty = True

    def commit(self, message: str = "", completed: bool = False) -> None:
        """Write everything logged so far (message goes to the ``message`` annotation)."""
        if message:
            self._run["metadata"]["annotations"]["message"] = message
        if completed and self.state not in TERMINAL_STATES:
            self._run["status"]["state"] = COMPLETED
        self._dirty = True
        self._persist(force=True)

    def finish(self) -> None:
        """End the run: completed unless it already ended, all pending writes flushed."""
        status = self._run["status"]
        if status["state"] not in TERMINAL_STATES:
            status["state"] = COMPLETED
        status["end_time"] = now_iso()
        self._dirty = True
        self._persist(force=True)

    def abort(self, reason: str) -> None:
        status = self._run["status"]
        status.update(state=ABORTED, error=reason)
        self._dirty = True
        self._persist(force=True)

    def _persist(self, force: bool = False) -> None:
        if not self._autocommit or not (self._dirty or force):
            return
        now = time.monotonic()
        if not force and now - self._last_write < _FLUSH_SECONDS:
            return
        self._flush_metrics()
        self._run["status"]["last_update"] = now_iso()
        try:
            self._db.store_run(self._run, self._uid, self.project, self.iteration)
        except TrackrunError as exc:
            self._report_write_failure("the run record", exc)
            return
        self._dirty = False
        self._last_write = now

    def _report_write_failure(self, what: str, exc: Exception) -> None:
        # Tracking must not kill a long training job: say so loudly, keep the data in memory, retry later.
        self._dirty = True
        print(f"trackrun: could not record {what} of run {self.uid}: {exc}; will retry", file=sys.stderr)

    # -- serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return copy.deepcopy(self._run)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(_yaml_safe(self.to_dict()), sort_keys=False)

    def to_json(self) -> str:
        from trackrun.schemas import codec

        return codec.dumps(self._run)

    def get_meta(self) -> dict:
        return {"name": self.name, "uid": self.uid, "project": self.project, "iteration": self.iteration}

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.mark_error(exc)
        self.finish()


def _yaml_safe(value: Any) -> Any:
    """YAML has .nan/.inf; keep them as floats (yaml.safe_dump writes them correctly)."""
    if isinstance(value, dict):
        return {k: _yaml_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return float("nan")
    return value


MLClientCtx = RunContext
