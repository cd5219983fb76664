"""List containers returned by the stores: plain lists of dicts with show() and to_df()."""

from __future__ import annotations

import json
from typing import Any


def _short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


class _RecordList(list):
    columns: tuple[str, ...] = ()

    def to_rows(self) -> list[list[Any]]:
        return [self._row(item) for item in self]

    def _row(self, item: dict) -> list[Any]:
        raise NotImplementedError

    def to_df(self, flat: bool = False):
        """A pandas DataFrame, one row per record (needs pandas: `pip install trackrun[data]`)."""
        import pandas as pd

        return pd.DataFrame(self.to_rows(), columns=list(self.columns))

    def show(self, display: bool = True):
        """Print a table on the terminal, or an HTML table in a notebook."""
        if _in_notebook():
            import html

            from IPython.display import HTML  # type: ignore[import-not-found]
            from IPython.display import display as show_html

            head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(_short(v, 80))}</td>" for v in row) + "</tr>"
                for row in self.to_rows())
            show_html(HTML(f"<table><tr>{head}</tr>{body}</table>"))
            return None
        from rich.console import Console
        from rich.table import Table

        table = Table(*self.columns, show_lines=False)
        for row in self.to_rows():
            table.add_row(*[_short(v) for v in row])
        Console().print(table)
        return None


class RunList(_RecordList):
    """Runs as dicts (``run["metadata"]["uid"]`` ...)."""

    columns = ("project", "uid", "iter", "start", "state", "name", "labels", "inputs", "parameters",
               "results", "artifacts", "error")

    def _row(self, run: dict) -> list[Any]:
        meta, spec, status = run.get("metadata", {}), run.get("spec", {}), run.get("status", {})
        return [meta.get("project", ""), meta.get("uid", ""), meta.get("iteration", 0),
                status.get("start_time", ""), status.get("state", ""), meta.get("name", ""),
                meta.get("labels", {}), spec.get("inputs", {}), spec.get("parameters", {}),
                status.get("results", {}), [a.get("key") for a in status.get("artifacts", [])],
                status.get("error", "")]


class ArtifactList(_RecordList):
    """Artifact versions as dicts."""

    columns = ("project", "key", "kind", "iter", "tree", "tags", "hash", "size", "path", "updated", "uri")

    def _row(self, art: dict) -> list[Any]:
        return [art.get("project", ""), art.get("key", ""), art.get("kind", ""), art.get("iter", 0),
                art.get("tree", ""), art.get("tags", []), art.get("hash", ""), art.get("size"),
                art.get("target_path", ""), art.get("updated", ""), art.get("uri", "")]
