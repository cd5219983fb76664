"""Tasks: what to run with which parameters, inputs, secrets and hyper-parameters (`new_task`).

A task is a run template in the seed's layout (``metadata`` / ``spec``); its builder methods chain.
"""

from __future__ import annotations

import copy
from typing import Any

from trackrun.errors import InvalidArgumentError
from trackrun.schemas.run import new_run_dict

_OPTION_KEYS = ("max_iterations", "max_errors", "stop_condition", "parallel_runs", "teardown_dask",
                "dask_cluster_uri")


class RunTemplate:
    """A task: build it with `new_task`, refine it with the chainable ``with_*`` methods, run it."""

    def __init__(self, spec: dict | None = None, metadata: dict | None = None):
        base = new_run_dict()
        del base["status"]
        self._struct = base
        if metadata:
            base["metadata"].update(copy.deepcopy(metadata))
        if spec:
            base["spec"].update(copy.deepcopy(spec))
        self.handler_fn: Any = None  # a callable handler is kept here, not in the record
        self.inline_secrets: dict[str, str] = {}

    # dict-like views used by runtimes
    @property
    def metadata(self) -> dict:
        return self._struct["metadata"]

    @property
    def spec(self) -> dict:
        return self._struct["spec"]

    def with_params(self, **params: Any) -> RunTemplate:
        """Replace the parameters."""
        self.spec["parameters"] = params
        return self

    def with_input(self, key: str, path: str) -> RunTemplate:
        """Add an input: a name and a URL (path, file://, http(s)://, s3://, memory://, store://)."""
        self.spec.setdefault("inputs", {})[key] = path
        return self

    def with_inputs(self, inputs: dict) -> RunTemplate:
        for key, path in inputs.items():
            self.with_input(key, path)
        return self

    def with_secrets(self, kind: str, source: Any) -> RunTemplate:
        """Add a secret source: ``file`` (KEY=VALUE lines), ``env`` ("A,B") or ``inline`` (a dict)."""
        from trackrun.secrets import normalize_source

        record, values = normalize_source(kind, source)
        self.spec.setdefault("secret_sources", []).append(record)
        self.inline_secrets.update(values)
        return self

    def set_label(self, key: str, value: Any) -> RunTemplate:
        self.metadata.setdefault("labels", {})[key] = str(value)
        return self

    def with_hyper_params(self, hyperparams: dict, selector: str | None = None, strategy: str | None = None,
                          **options: Any) -> RunTemplate:
        """Iterate over parameter values: strategy grid (default), list or random; options are
        max_iterations, max_errors, stop_condition, parallel_runs."""
        if not isinstance(hyperparams, dict) or not hyperparams:
            raise InvalidArgumentError("with_hyper_params takes a dict of name -> list of values")
        self.spec["hyperparams"] = hyperparams
        self.spec.pop("param_file", None)
        self._set_hyper_options(selector, strategy, options)
        return self

    def with_param_file(self, param_file: str, selector: str | None = None, strategy: str | None = None,
                        **options: Any) -> RunTemplate:
        """Iterate over the rows of a .csv file (or the lists of a .json file)."""
        self.spec["param_file"] = param_file
        self.spec["hyperparams"] = {}
        self._set_hyper_options(selector, strategy, options)
        return self

    def _set_hyper_options(self, selector: str | None, strategy: str | None, options: dict) -> None:
        unknown = set(options) - set(_OPTION_KEYS)
        if unknown:
            raise InvalidArgumentError(f"unknown hyper-parameter option(s) {', '.join(sorted(unknown))}; "
                                       f"use {', '.join(_OPTION_KEYS)}")
        if selector:
            from trackrun.hyper import parse_selector

            parse_selector(selector)
        opts = {k: v for k, v in options.items() if v is not None}
        if selector:
            opts["selector"] = selector
        if strategy:
            opts["strategy"] = strategy
        if opts.get("stop_condition"):
            from trackrun.hyper import StopCondition

            StopCondition(opts["stop_condition"])
        self.spec["hyper_param_options"] = opts
        if selector:
            self.spec["selector"] = selector
        if strategy:
            self.spec["strategy"] = strategy

    def copy(self) -> RunTemplate:
        new = RunTemplate(self.spec, self.metadata)
        new.handler_fn = self.handler_fn
        new.inline_secrets = dict(self.inline_secrets)
        return new

    def to_dict(self) -> dict:
        return copy.deepcopy(self._struct)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def to_json(self) -> str:
        from trackrun.schemas import codec

        return codec.dumps(self._struct)

    def __repr__(self) -> str:
        return f"RunTemplate(name={self.metadata.get('name')!r}, params={self.spec.get('parameters')!r})"


def new_task(name: str | None = None, project: str | None = None, handler: Any = None,
             params: dict | None = None, hyper_params: dict | None = None, param_file: str | None = None,
             selector: str | None = None, strategy: str | None = None, inputs: dict | None = None,
             outputs: list | None = None, in_path: str | None = None, out_path: str | None = None,
             artifact_path: str | None = None, secrets: list | None = None, base: RunTemplate | None = None,
             labels: dict | None = None, tuning_strategy: str | None = None,
             hyper_param_options: dict | None = None) -> RunTemplate:
    """Build a task. ``handler`` is a callable or a function name; ``secrets`` a list of
    ``{"kind": ..., "source": ...}``; ``artifact_path`` (alias ``out_path``) is where artifacts go."""
    task = base.copy() if base is not None else RunTemplate()
    if name:
        task.metadata["name"] = name
    if project:
        task.metadata["project"] = project
    if handler is not None:
        if callable(handler):
            task.handler_fn = handler
            task.spec["handler"] = getattr(handler, "__name__", "handler")
        else:
            task.spec["handler"] = str(handler)
    if params:
        task.spec["parameters"] = dict(params)
    if inputs:
        task.with_inputs(inputs)
    if outputs:
        task.spec["outputs"] = list(outputs)
    if in_path:
        task.spec["input_path"] = in_path
    if artifact_path or out_path:
        task.spec["output_path"] = artifact_path or out_path
    for src in secrets or []:
        task.with_secrets(src["kind"], src["source"])
    for key, value in (labels or {}).items():
        task.set_label(key, value)
    options = dict(hyper_param_options or {})
    strategy = strategy or tuning_strategy or options.pop("strategy", None)
    selector = selector or options.pop("selector", None)
    if hyper_params:
        task.with_hyper_params(hyper_params, selector, strategy, **options)
    elif param_file or options.get("param_file"):
        task.with_param_file(param_file or options.pop("param_file"), selector, strategy, **options)
    elif selector or strategy or options:
        task._set_hyper_options(selector, strategy, options)
    return task


def NewTask(name: str | None = None, project: str | None = None, handler: Any = None,  # noqa: N802
            params: dict | None = None, hyper_params: dict | None = None, param_file: str | None = None,
            selector: str | None = None, strategy: str | None = None, inputs: dict | None = None,
            outputs: list | None = None, in_path: str | None = None, out_path: str | None = None,
            artifact_path: str | None = None, secrets: list | None = None, base: RunTemplate | None = None,
            **kwargs: Any) -> RunTemplate:
    """The seed's spelling of `new_task` (same arguments, same order)."""
    return new_task(name, project, handler, params, hyper_params, param_file, selector, strategy, inputs,
                    outputs, in_path, out_path, artifact_path, secrets, base, **kwargs)
