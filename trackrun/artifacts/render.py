"""Pure rendering of user objects into what an artifact version stores.

Every function here turns an in-memory object (a DataFrame, rows of a chart or table, a matplotlib figure)
into JSON-ready natives or bytes; none touches the run database or writes files. pandas, numpy and
matplotlib are optional extras, so they are imported inside the functions that need them and
``import trackrun.artifacts.render`` stays cheap.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import html
import io
import json
import math
from decimal import Decimal
from numbers import Real
from pathlib import Path
from typing import Any

from trackrun.errors import InvalidArgumentError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HIST_BINS = 20
TOP_VALUES = 10
DATASET_FORMATS = ("csv", "parquet")
_FORMAT_ALIASES = {"csv": "csv", "parquet": "parquet", "pq": "parquet"}
_STATIC_DIR = Path(__file__).resolve().parent / "static"
_QUANTILES = (("25%", 0.25), ("50%", 0.5), ("75%", 0.75))

# Distinguishable on white, roughly colour-blind safe (Okabe-Ito order, black dropped).
_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#555555")


# --------------------------------------------------------------------------------------------- datasets


def _require_dataframe(df: Any) -> Any:
    """Return the pandas module once `df` is known to be a DataFrame; raise InvalidArgumentError otherwise."""
    try:
        import pandas as pd
    except ImportError:  # without pandas nothing can be a DataFrame
        pd = None
    if pd is None or not isinstance(df, pd.DataFrame):
        raise InvalidArgumentError(f"log_dataset needs a pandas DataFrame, got {type(df).__name__}")
    return pd


def _native(value: Any) -> Any:
    """Convert one cell to a JSON-ready Python native.

    NaN and +/-inf stay floats (the JSON layer keeps them); missing markers (None, pd.NA, NaT) become None;
    dates and timestamps become ISO strings; anything else unknown becomes its str().
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    import numpy as np
    import pandas as pd

    # NaT is a datetime subclass and pd.NA is truthy-ambiguous, so they are checked before anything else.
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
        if isinstance(value, np.datetime64):
            return None if np.isnat(value) else pd.Timestamp(value).isoformat()
        if isinstance(value, np.timedelta64):
            return None if np.isnat(value) else str(pd.Timedelta(value))
        if isinstance(value, np.str_):
            return str(value)
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):  # pd.Timestamp is a datetime
        return value.isoformat()
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):  # IntEnum and friends
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return str(value)


def _stat_number(value: Any) -> int | float:
    """A min/max as int (integer columns) or float; missing (NA of an empty or all-null column) is NaN."""
    import pandas as pd

    if value is None or pd.isna(value):
        return math.nan
    native = _native(value)
    return native if isinstance(native, int) and not isinstance(native, bool) else float(native)


def _is_numeric_column(series: Any) -> bool:
    """Numbers we can describe and bin: bools and complex values are summarised like categories."""
    from pandas.api import types

    dtype = series.dtype
    return (
        types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype) and not types.is_complex_dtype(dtype)
    )


def _quantile(ordered: Any, q: float) -> float:
    """Linear-interpolated quantile of sorted floats that may hold +/-inf.

    numpy's lerp turns ``inf * 0`` into NaN, so the median of [-2.5, 1, inf] would come out NaN; here an
    exact position (or equal neighbours) returns the stored value.
    """
    if not len(ordered):
        return math.nan
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    frac = pos - lo
    low, high = float(ordered[lo]), float(ordered[hi])
    if frac == 0 or low == high:
        return low
    return low + (high - low) * frac


def _numeric_stats(series: Any) -> dict[str, Any]:
    import numpy as np

    values = series.to_numpy(dtype="float64", na_value=np.nan)
    present = np.sort(values[~np.isnan(values)])
    # inf in a column makes numpy warn on std; the NaN result is the honest answer, the warning is noise.
    with np.errstate(all="ignore"):
        out: dict[str, Any] = {
            "mean": float(_stat_number(series.mean())),
            "std": float(_stat_number(series.std())),
            "min": _stat_number(series.min()),
        }
        for key, q in _QUANTILES:
            out[key] = _quantile(present, q)
        out["max"] = _stat_number(series.max())
    # Binning only makes sense on finite values: one inf would stretch the range to nothing useful.
    finite = present[np.isfinite(present)]
    if finite.size:
        counts, edges = np.histogram(finite, bins=HIST_BINS)
        out["hist"] = [[int(c) for c in counts], [float(e) for e in edges]]
    return out


def _categorical_stats(series: Any) -> dict[str, Any]:
    try:
        counts = series.value_counts(dropna=True)
    except TypeError:  # unhashable cells (lists, dicts): count their text form instead
        counts = series.dropna().map(str).value_counts()
    top_values = [[_native(v), int(c)] for v, c in counts.head(TOP_VALUES).items()]
    return {
        "unique": len(counts),
        "top": top_values[0][0] if top_values else None,
        "freq": top_values[0][1] if top_values else 0,
        "top_values": top_values,
    }


def dataset_summary(df: Any, preview_rows: int = 20, stats: bool = True) -> dict[str, Any]:
    """Describe a pandas DataFrame as JSON-ready natives: schema, header, length, preview and stats.

    ``stats`` maps each column name to ``count``/``nulls`` plus, for numeric (non-bool) columns,
    ``mean, std, min, 25%, 50%, 75%, max`` and ``hist`` ([counts, edges], 20 bins over the finite values;
    absent when there are none), and for other columns ``unique, top, freq, top_values`` (up to 10
    [value, count] pairs, most frequent first). Statistics pandas cannot compute (e.g. the mean of an empty
    column) are NaN. Columns are keyed by str(name), so duplicate names share one entry (the last wins).
    Index names are listed as given, None for an unnamed index.
    """
    _require_dataframe(df)
    if preview_rows < 0:
        raise InvalidArgumentError(f"preview_rows must be >= 0, got {preview_rows}")

    header = [str(c) for c in df.columns]
    summary: dict[str, Any] = {
        "schema": {
            "fields": [{"name": str(name), "type": str(dtype)} for name, dtype in df.dtypes.items()],
            "index": [None if n is None else str(n) for n in df.index.names],
        },
        "header": header,
        "length": len(df),
        "preview": [
            [_native(v) for v in row] for row in df.head(preview_rows).itertuples(index=False, name=None)
        ],
    }
    if stats:
        col_stats: dict[str, dict[str, Any]] = {}
        # Positional access keeps working when column names repeat.
        for pos, name in enumerate(header):
            series = df.iloc[:, pos]
            count = int(series.count())
            entry: dict[str, Any] = {"count": count, "nulls": len(series) - count}
            entry.update(_numeric_stats(series) if _is_numeric_column(series) else _categorical_stats(series))
            col_stats[name] = entry
        summary["stats"] = col_stats
    return summary


def dataset_body(df: Any, fmt: str) -> tuple[bytes, str]:
    """Serialise a DataFrame to ``csv`` (without the index) or ``parquet`` (alias ``pq``).

    Returns ``(bytes, normalised format)``. Parquet keeps pandas' default index handling, so a read back
    with ``pandas.read_parquet`` gives an equal frame.
    """
    _require_dataframe(df)
    normalised = _FORMAT_ALIASES.get(str(fmt).strip().lower())
    if normalised is None:
        raise InvalidArgumentError(
            f"unknown dataset format {fmt!r}; use one of: {', '.join(DATASET_FORMATS)}"
        )
    if normalised == "csv":
        return df.to_csv(index=False).encode("utf-8"), normalised
    buf = io.BytesIO()
    try:
        df.to_parquet(buf)
    except (ValueError, TypeError, NotImplementedError) as exc:  # pyarrow's errors subclass these
        raise InvalidArgumentError(f"cannot write this DataFrame as parquet: {exc}") from exc
    return buf.getvalue(), normalised


# ----------------------------------------------------------------------------------------------- charts


@functools.lru_cache(maxsize=8)
def _static_text(name: str) -> str:
    """Read a vendored file once per process; the chart page inlines it verbatim."""
    text = (_STATIC_DIR / name).read_text(encoding="utf-8")
    # Inlined inside <script>/<style>, so a closing tag in the library would end the block early.
    lowered = text.lower()
    if "</script" in lowered or "</style" in lowered:
        raise RuntimeError(f"vendored {name} contains a closing tag and cannot be inlined")
    return text


def _script_json(obj: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>', '&' or JS-breaking line separators."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _as_real(value: Any) -> float | None:
    """A finite-or-not float for a real number (bools count as 0/1); None for anything that is not one."""
    if isinstance(value, (Real, Decimal)):
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def _count_note(n: int, what: str) -> str:
    return f"1 value is {what} and is not drawn." if n == 1 else f"{n} values are {what} and are not drawn."


_CHART_SCRIPT = """
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("trackrun-chart-data").textContent);
  var el = document.getElementById("trackrun-chart");
  var labels = d.x_labels;
  function xText(v) {
    if (v == null) return "";
    if (labels) return Number.isInteger(v) && v >= 0 && v < labels.length ? labels[v] : "";
    return String(v);
  }
  var series = [{label: d.x_label, value: function (u, v) { return xText(v); }}];
  d.series.forEach(function (name, i) {
    series.push({label: name, stroke: d.palette[i % d.palette.length], width: 1.5});
  });
  var xAxis = {};
  if (labels) {
    // Category mode: x is the row index; only whole-number ticks carry a label.
    xAxis = {
      incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, 1000000],
      values: function (u, splits) { return splits.map(xText); },
    };
  }
  function size() {
    return {width: Math.max(320, el.clientWidth || 800), height: 400};
  }
  var opts = Object.assign({
    scales: {x: {time: false}},
    series: series,
    axes: [xAxis, {}],
  }, size());
  var plot = new uPlot(opts, [d.x].concat(d.y), el);
  window.addEventListener("resize", function () { plot.setSize(size()); });
})();
"""

_PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; font-weight: 600; margin: 0 0 12px; }
#trackrun-chart { width: 100%; }
.trackrun-note { font-size: 13px; color: #666; margin: 8px 0 0; }
"""


def chart_html(title: str, header: list[str], rows: list[list]) -> str:
    """A standalone HTML page with a uPlot line chart: x is the first column, one series per other column.

    The uPlot library and its CSS are inlined, so the page works offline from disk. Data is embedded as
    script-safe JSON. NaN, inf, missing and non-numeric y values are sent as null (a gap) and counted in a
    note under the chart. If every x value is a finite number the rows are drawn against it (sorted by x,
    since uPlot expects ascending x); otherwise the row index is the x position and the x values are shown
    as tick labels.
    """
    header = [str(h) for h in header]
    rows = list(rows)  # accepts generators and 2-D arrays alike
    if len(header) < 2:
        raise InvalidArgumentError(
            f"a chart needs at least two columns (x and one series), got header {header!r}"
        )
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__") or len(row) != len(header):
            got = len(row) if hasattr(row, "__len__") else type(row).__name__
            raise InvalidArgumentError(
                f"chart row {i} has {got} values but the header has {len(header)} columns"
            )

    xs = [_as_real(row[0]) for row in rows]
    # Bools are Real but make a poor axis; they are shown as labels like any other category.
    numeric_x = all(
        x is not None and math.isfinite(x) and not isinstance(row[0], bool)
        for x, row in zip(xs, rows, strict=True)
    )
    notes: list[str] = []
    if numeric_x:
        order = sorted(range(len(rows)), key=lambda i: xs[i])
        if order != list(range(len(rows))):
            notes.append(f"Rows are drawn in order of {header[0]}.")
        rows = [rows[i] for i in order]
        x_values: list[float] = [xs[i] for i in order]
        x_labels: list[str] | None = None
    else:
        x_values = list(range(len(rows)))
        x_labels = [_label(row[0]) for row in rows]

    y_columns: list[list[float | None]] = [[] for _ in header[1:]]
    non_finite = 0
    non_numeric = 0
    for row in rows:
        for col, cell in zip(y_columns, row[1:], strict=True):
            number = _as_real(cell)
            if number is not None and math.isfinite(number):
                col.append(number)
                continue
            col.append(None)
            if number is not None:
                non_finite += 1
            elif cell is not None:
                non_numeric += 1
            # a None cell is an ordinary gap, not worth a note

    if not rows:
        notes.append("There are no rows to draw.")
    if non_finite:
        notes.append(_count_note(non_finite, "NaN or infinite"))
    if non_numeric:
        notes.append(_count_note(non_numeric, "not numeric"))

    payload = {
        "title": title,
        "x_label": header[0],
        "series": header[1:],
        "x": x_values,
        "y": y_columns,
        "x_labels": x_labels,
        "palette": list(_PALETTE),
    }
    safe_title = html.escape(str(title))
    note_html = "".join(f'<p class="trackrun-note">{html.escape(n)}</p>\n' for n in notes)
    # Concatenation rather than str.format: the CSS and JS are full of braces.
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{safe_title}</title>\n"
        f"<style>\n{_static_text('uPlot.min.css')}\n{_PAGE_CSS}</style>\n"
        "</head>\n<body>\n"
        f"<h1>{safe_title}</h1>\n"
        '<div id="trackrun-chart"></div>\n'
        f"{note_html}"
        f'<script type="application/json" id="trackrun-chart-data">{_script_json(payload)}</script>\n'
        f"<script>\n{_static_text('uPlot.iife.min.js')}\n</script>\n"
        f"<script>{_CHART_SCRIPT}</script>\n"
        "</body>\n</html>\n"
    )


# ----------------------------------------------------------------------------------------- tables, figures


def table_csv(header: list[str] | None, rows: list[list]) -> bytes:
    """CSV bytes (UTF-8, ``\\n`` line ends) with an optional header row.

    When a header is given every row must have as many values, so a ragged table fails here rather than
    as a misaligned file later.
    """
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    if header is not None:
        header = [str(h) for h in header]
        writer.writerow(header)
    for i, row in enumerate(rows):
        if header is not None and len(row) != len(header):
            raise InvalidArgumentError(
                f"table row {i} has {len(row)} values but the header has {len(header)} columns"
            )
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def is_png(data: Any) -> bool:
    """True when `data` is bytes-like and starts with the 8-byte PNG signature."""
    return isinstance(data, (bytes, bytearray, memoryview)) and bytes(data[:8]) == PNG_SIGNATURE


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a matplotlib Figure; PNG bytes passed in are returned unchanged.

    ``savefig(format="png")`` renders through Agg whatever the figure's canvas is, so the global backend
    is never switched.
    """
    if isinstance(fig, (bytes, bytearray, memoryview)):
        if is_png(fig):
            return bytes(fig)
        raise InvalidArgumentError("figure bytes are not a PNG image (missing PNG signature)")
    try:
        from matplotlib.figure import Figure
    except ImportError:  # without matplotlib nothing can be a Figure
        is_figure = False
    else:
        is_figure = isinstance(fig, Figure)
    if not is_figure:
        hint = " (pass ax.figure rather than the Axes)" if hasattr(fig, "figure") else ""
        raise InvalidArgumentError(
            f"expected a matplotlib Figure or PNG bytes, got {type(fig).__name__}{hint}"
        )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
