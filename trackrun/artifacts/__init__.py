"""Artifact kinds a run can log. Each turns a user object into a body plus the metadata its kind keeps.

``from trackrun.artifacts import ChartArtifact`` works as in the seed's examples; the heavy libraries
(pandas, matplotlib) are imported only when an artifact of that kind is built.
"""

from __future__ import annotations

from typing import Any


class Artifact:
    """A plain file: bytes (``body``) or a local file (``src_path``), with labels and a viewer hint."""

    kind = "artifact"

    def __init__(self, key: str | None = None, body: Any = None, viewer: str | None = None,
                 is_inline: bool = False, format: str | None = None, size: int | None = None,
                 target_path: str | None = None, labels: dict | None = None, src_path: str | None = None):
        self.key = key or ""
        self._body = body
        self.viewer = viewer
        self.is_inline = is_inline
        self.format = format
        self.size = size
        self.target_path = target_path
        self.labels: dict = dict(labels or {})
        self.src_path = src_path
        self.description = ""

    def get_body(self) -> bytes | None:
        """The bytes to store, or None when the artifact is a local file (``src_path``)."""
        body = self._body
        if body is None:
            return None
        return body.encode() if isinstance(body, str) else bytes(body)

    def extra_fields(self) -> dict[str, Any]:
        """What the kind records besides the common fields (overridden by kinds)."""
        return {}

    def default_format(self) -> str:
        return self.format or ""


class HtmlArtifact(Artifact):
    """An HTML page; the dashboard shows it in a sandboxed frame."""

    kind = "html"

    def default_format(self) -> str:
        return "html"


class LinkArtifact(Artifact):
    """A pointer to another artifact version (e.g. the best iteration's)."""

    kind = "link"

    def __init__(self, key: str | None = None, target_path: str = "", link_iteration: int | None = None,
                 link_key: str | None = None, link_tree: str | None = None):
        super().__init__(key, target_path=target_path)
        self.link_iteration = link_iteration
        self.link_key = link_key
        self.link_tree = link_tree

    def extra_fields(self) -> dict[str, Any]:
        return {"link_iteration": self.link_iteration, "link_key": self.link_key, "link_tree": self.link_tree}


class ChartArtifact(Artifact):
    """Rows drawn as a line chart (first column on x). Build with ``header`` and ``add_row``."""

    kind = "chart"

    def __init__(self, key: str | None = None, data: list | None = None, header: list | None = None,
                 options: dict | None = None, title: str | None = None, chart: str = "LineChart",
                 target_path: str | None = None):
        super().__init__(key, target_path=target_path, format="html")
        self.header = list(header or [])
        self.rows = [list(row) for row in data or []]
        self.options = dict(options or {})
        self.title = title
        self.chart = chart

    def add_row(self, row: list) -> None:
        self.rows.append(list(row))

    def get_body(self) -> bytes:
        from trackrun.artifacts.render import chart_html

        header = self.header or [f"col{i}" for i in range(len(self.rows[0]) if self.rows else 2)]
        return chart_html(self.title or self.key, header, self.rows).encode()

    def extra_fields(self) -> dict[str, Any]:
        return {"header": self.header, "rows": self.rows, "title": self.title or self.key}

    def default_format(self) -> str:
        return "html"


class PlotArtifact(Artifact):
    """A matplotlib figure (or PNG bytes) stored as a PNG image."""

    kind = "plot"

    def __init__(self, key: str | None = None, body: Any = None, is_inline: bool = False,
                 target_path: str | None = None, title: str | None = None):
        super().__init__(key, body, is_inline=is_inline, target_path=target_path, format="png")
        self.title = title

    def get_body(self) -> bytes:
        from trackrun.artifacts.render import figure_png

        return figure_png(self._body)

    def extra_fields(self) -> dict[str, Any]:
        return {"title": self.title or self.key}

    def default_format(self) -> str:
        return "png"


class TableArtifact(Artifact):
    """A table from rows (with ``header``) or a DataFrame, stored as CSV."""

    kind = "table"

    def __init__(self, key: str | None = None, body: Any = None, df: Any = None, viewer: str | None = None,
                 visible: bool = False, inline: bool = False, format: str | None = None,
                 header: list | None = None, schema: dict | None = None, rows: list | None = None):
        super().__init__(key, body, viewer=viewer or "table", is_inline=inline, format=format or "csv")
        self.df = df
        self.header = list(header) if header else None
        self.rows = rows
        self.schema = schema

    def get_body(self) -> bytes:
        from trackrun.artifacts.render import table_csv

        if self.df is not None:
            return self.df.to_csv(index=False).encode()
        if self.rows is not None:
            return table_csv(self.header, self.rows)
        return super().get_body() or b""

    def extra_fields(self) -> dict[str, Any]:
        header = self.header
        if header is None and self.df is not None:
            header = [str(c) for c in self.df.columns]
        return {"header": header, "schema": self.schema}


class DatasetArtifact(Artifact):
    """A DataFrame stored as CSV or parquet, with schema, row count, preview and per-column stats."""

    kind = "dataset"

    def __init__(self, key: str | None = None, df: Any = None, preview: int | None = None, format: str = "",
                 stats: bool | None = None, target_path: str | None = None, extra_data: dict | None = None,
                 column_metadata: dict | None = None, **kwargs: Any):
        super().__init__(key, target_path=target_path, format=format or "csv")
        self.df = df
        self.preview = 20 if preview is None else preview
        self.stats = True if stats is None else stats
        self.extra_data = extra_data or {}
        self.column_metadata = column_metadata or {}
        self._summary: dict | None = None
        self._encoded: tuple[bytes, str] | None = None

    def _encode(self) -> tuple[bytes, str]:
        if self._encoded is None:
            from trackrun.artifacts.render import dataset_body

            self._encoded = dataset_body(self.df, self.format or "csv")
        return self._encoded

    def get_body(self) -> bytes:
        return self._encode()[0]

    def default_format(self) -> str:
        return self._encode()[1]

    def extra_fields(self) -> dict[str, Any]:
        from trackrun.artifacts.render import dataset_summary

        if self._summary is None:
            self._summary = dataset_summary(self.df, preview_rows=self.preview, stats=bool(self.stats))
        return {**self._summary, "extra_data": self.extra_data, "column_metadata": self.column_metadata}


class ModelArtifact(Artifact):
    """A trained model's file with its metrics, parameters and framework."""

    kind = "model"

    def __init__(self, key: str | None = None, body: Any = None, format: str | None = None,
                 model_file: str | None = None, metrics: dict | None = None, target_path: str | None = None,
                 parameters: dict | None = None, inputs: list | None = None, outputs: list | None = None,
                 framework: str | None = None, extra_data: dict | None = None, algorithm: str | None = None):
        super().__init__(key, body, format=format, target_path=target_path)
        self.model_file = model_file
        self.metrics = dict(metrics or {})
        self.parameters = dict(parameters or {})
        self.inputs = inputs or []
        self.outputs = outputs or []
        self.framework = framework or ""
        self.algorithm = algorithm or ""
        self.extra_data = extra_data or {}
        if self.framework:
            self.labels.setdefault("framework", self.framework)

    def extra_fields(self) -> dict[str, Any]:
        return {"model_file": self.model_file, "metrics": self.metrics, "parameters": self.parameters,
                "inputs": self.inputs, "outputs": self.outputs, "framework": self.framework,
                "algorithm": self.algorithm, "extra_data": self.extra_data}


__all__ = ["Artifact", "ChartArtifact", "DatasetArtifact", "HtmlArtifact", "LinkArtifact", "ModelArtifact",
           "PlotArtifact", "TableArtifact"]
