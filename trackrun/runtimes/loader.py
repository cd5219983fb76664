"""Load a handler function from a Python file (the module's top level runs; its __main__ block does not)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable

from trackrun.errors import InvalidArgumentError


def load_module(path: str):
    """Import the file at ``path`` under a stable private name (so forked workers can find it again)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise InvalidArgumentError(f"source file '{path}' does not exist")
    name = "trackrun_user_" + hashlib.sha1(path.encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidArgumentError(f"cannot import '{path}': not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the file's own imports of its neighbours
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_handler(path: str, handler: str) -> Callable:
    """The function ``handler`` of the file at ``path``."""
    module = load_module(path)
    fn = getattr(module, handler, None)
    if not callable(fn):
        names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        raise InvalidArgumentError(f"handler '{handler}' not found in {path}; functions there: "
                                   f"{', '.join(names) or 'none'}")
    return fn
