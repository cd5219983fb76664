"""trackrun: job submission and experiment tracking for machine-learning code.

Wrap a training function, run it once or over a grid of hyper-parameters, and find every run, result, log
and versioned artifact again, with no server. Names are imported lazily so ``import trackrun`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "get_or_create_ctx": "trackrun.runtimes.entry",
    "new_task": "trackrun.task",
    "NewTask": "trackrun.task",
    "RunTemplate": "trackrun.task",
    "new_function": "trackrun.functions",
    "run_local": "trackrun.functions",
    "get_run_db": "trackrun.db.factory",
    "get_dataitem": "trackrun.datastore.dataitem",
    "DataItem": "trackrun.datastore.dataitem",
    "RunObject": "trackrun.run_object",
    "RunContext": "trackrun.context",
    "MLClientCtx": "trackrun.context",
    "RunError": "trackrun.errors",
    "TrackrunError": "trackrun.errors",
    "mlconf": "trackrun.config",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'trackrun' has no attribute '{name}'")
    attr = "config" if name == "mlconf" else name
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
