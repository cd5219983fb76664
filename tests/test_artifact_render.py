"""Rendering of artifact kinds: dataset summaries/bodies, chart pages, table CSV and figure PNGs."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trackrun.artifacts import render
from trackrun.errors import InvalidArgumentError

STATIC = Path(render.__file__).resolve().parent / "static"
XSS = "</script><script>alert(1)</script>"


def chart_payload(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="trackrun-chart-data">(.*?)</script>', page, re.S)
    assert match, "data block missing"
    return json.loads(match.group(1))


def assert_natives(obj: object) -> None:
    """Every leaf is a plain Python JSON type (numpy scalars subclass float/int, so check exact types)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert type(k) is str
            assert_natives(v)
    elif isinstance(obj, list):
        for v in obj:
            assert_natives(v)
    else:
        assert obj is None or type(obj) in (bool, int, float, str), (obj, type(obj))


# ----------------------------------------------------------------------------------------- dataset_summary


def test_summary_numeric_stats_match_hand_computed_values():
    values = [4.0, 1.0, 3.0, 2.0, 10.0]
    df = pd.DataFrame({"x": values})
    s = render.dataset_summary(df)["stats"]["x"]
    assert s["count"] == 5 and s["nulls"] == 0
    assert s["mean"] == pytest.approx(4.0)
    assert s["std"] == pytest.approx(statistics.stdev(values))  # sample std, like pandas
    assert s["min"] == 1.0 and s["max"] == 10.0
    # sorted [1, 2, 3, 4, 10]: linear quantile positions 1, 2, 3
    assert (s["25%"], s["50%"], s["75%"]) == (2.0, 3.0, 4.0)
    counts, edges = s["hist"]
    assert len(counts) == 20 and len(edges) == 21
    assert sum(counts) == 5
    assert edges[0] == 1.0 and edges[-1] == 10.0
    # bin width 0.45: 1 in bin 0, 2 in bin 2, 3 in bin 4, 4 in bin 6, 10 closes the last bin
    assert [i for i, c in enumerate(counts) if c] == [0, 2, 4, 6, 19]


def test_summary_integer_column_keeps_int_min_max_and_counts_nulls():
    df = pd.DataFrame({"n": pd.array([1, None, 3, 4], dtype="Int64")})
    s = render.dataset_summary(df)["stats"]["n"]
    assert s["count"] == 3 and s["nulls"] == 1
    assert s["min"] == 1 and type(s["min"]) is int
    assert s["max"] == 4 and type(s["max"]) is int
    assert s["mean"] == pytest.approx(8 / 3)
    assert s["50%"] == 3.0 and type(s["50%"]) is float


def test_summary_nan_and_inf_columns():
    df = pd.DataFrame({"f": [1.0, np.inf, np.nan, -2.5, 3.0], "all_nan": [np.nan] * 5})
    stats = render.dataset_summary(df)["stats"]
    f = stats["f"]
    assert f["count"] == 4 and f["nulls"] == 1  # inf is a value, NaN is missing
    assert f["max"] == math.inf and f["min"] == -2.5
    assert f["mean"] == math.inf
    assert f["50%"] == 2.0  # sorted [-2.5, 1, 3, inf]: between 1 and 3, inf does not poison it
    counts, edges = f["hist"]
    assert sum(counts) == 3  # only the finite values are binned
    assert edges[0] == -2.5 and edges[-1] == 3.0
    assert all(math.isfinite(e) for e in edges)

    a = stats["all_nan"]
    assert a["count"] == 0 and a["nulls"] == 5
    assert "hist" not in a
    assert math.isnan(a["mean"]) and math.isnan(a["50%"])


def test_summary_object_column_top_values():
    colours = ["red"] * 5 + ["blue"] * 3 + ["green"] * 2 + [None]
    df = pd.DataFrame({"c": colours, "o": pd.Series(colours, dtype=object)})
    stats = render.dataset_summary(df)["stats"]
    for name in ("c", "o"):
        s = stats[name]
        assert s["count"] == 10 and s["nulls"] == 1
        assert s["unique"] == 3
        assert s["top"] == "red" and s["freq"] == 5
        assert s["top_values"] == [["red", 5], ["blue", 3], ["green", 2]]
        assert "mean" not in s and "hist" not in s


def test_summary_top_values_capped_at_ten():
    df = pd.DataFrame({"k": [f"v{i}" for i in range(15) for _ in range(i + 1)]})
    s = render.dataset_summary(df)["stats"]["k"]
    assert s["unique"] == 15
    assert len(s["top_values"]) == 10
    assert s["top_values"][0] == ["v14", 15]
    assert [c for _, c in s["top_values"]] == list(range(15, 5, -1))


def test_summary_bool_column_is_categorical():
    df = pd.DataFrame({"b": [True, False, True, True]})
    s = render.dataset_summary(df)["stats"]["b"]
    assert "mean" not in s
    assert s["top"] is True and s["freq"] == 3 and s["unique"] == 2
    assert s["top_values"] == [[True, 3], [False, 1]]


def test_summary_unhashable_cells_fall_back_to_text():
    df = pd.DataFrame({"l": [[1, 2], [1, 2], [3]]})
    s = render.dataset_summary(df)["stats"]["l"]
    assert s["top"] == "[1, 2]" and s["freq"] == 2


def test_summary_schema_header_length_and_preview():
    df = pd.DataFrame(
        {
            "i": np.arange(30, dtype="int64"),
            "f": np.linspace(0, 1, 30),
            "s": [f"r{i}" for i in range(30)],
            "t": pd.date_range("2024-01-01", periods=30, freq="D"),
            "z": pd.date_range("2024-01-01", periods=30, freq="h", tz="UTC"),
            "b": [i % 2 == 0 for i in range(30)],
            "d": pd.to_timedelta(range(30), unit="s"),
        }
    ).rename_axis("row")
    out = render.dataset_summary(df, preview_rows=5)
    assert out["header"] == ["i", "f", "s", "t", "z", "b", "d"]
    assert out["length"] == 30
    fields = {f["name"]: f["type"] for f in out["schema"]["fields"]}
    assert fields["i"] == "int64" and fields["f"] == "float64" and fields["b"] == "bool"
    assert fields["t"].startswith("datetime64[") and "UTC" in fields["z"]
    assert out["schema"]["index"] == ["row"]

    assert len(out["preview"]) == 5
    first = out["preview"][0]
    assert first[:3] == [0, 0.0, "r0"]
    assert type(first[0]) is int and type(first[1]) is float
    assert first[3] == "2024-01-01T00:00:00"
    assert first[4] == "2024-01-01T00:00:00+00:00"
    assert first[5] is True
    assert isinstance(first[6], str)
    assert_natives(out)
    json.dumps(out, allow_nan=True)


def test_summary_preview_missing_values_and_specials():
    df = pd.DataFrame(
        {
            "f": [np.nan, np.inf, -np.inf],
            "t": pd.to_datetime(["2024-01-01", None, "2024-01-03"]),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "o": pd.Series([{"a": 1}, None, 2.5], dtype=object),
        }
    )
    out = render.dataset_summary(df)
    col_f = [row[0] for row in out["preview"]]
    assert math.isnan(col_f[0]) and col_f[1] == math.inf and col_f[2] == -math.inf
    assert [row[1] for row in out["preview"]] == ["2024-01-01T00:00:00", None, "2024-01-03T00:00:00"]
    assert [row[2] for row in out["preview"]] == [1, None, 3]
    assert [row[3] for row in out["preview"]] == ["{'a': 1}", None, 2.5]
    assert_natives(out)
    text = json.dumps(out, allow_nan=True)
    assert "NaN" in text and "Infinity" in text


def test_summary_preview_rows_bounds_and_stats_flag():
    df = pd.DataFrame({"a": range(50)})
    assert len(render.dataset_summary(df)["preview"]) == 20
    assert len(render.dataset_summary(df, preview_rows=100)["preview"]) == 50
    assert render.dataset_summary(df, preview_rows=0)["preview"] == []
    assert "stats" not in render.dataset_summary(df, stats=False)
    with pytest.raises(InvalidArgumentError):
        render.dataset_summary(df, preview_rows=-1)


def test_summary_empty_dataframes():
    out = render.dataset_summary(pd.DataFrame())
    assert out["length"] == 0 and out["header"] == [] and out["preview"] == [] and out["stats"] == {}

    df = pd.DataFrame({"x": pd.Series([], dtype="float64"), "s": pd.Series([], dtype=object)})
    out = render.dataset_summary(df)
    assert out["length"] == 0 and out["header"] == ["x", "s"] and out["preview"] == []
    assert out["stats"]["x"]["count"] == 0 and out["stats"]["x"]["nulls"] == 0
    assert "hist" not in out["stats"]["x"]
    assert out["stats"]["s"] == {
        "count": 0,
        "nulls": 0,
        "unique": 0,
        "top": None,
        "freq": 0,
        "top_values": [],
    }
    json.dumps(out, allow_nan=True)


def test_summary_rejects_non_dataframe():
    with pytest.raises(InvalidArgumentError, match="log_dataset needs a pandas DataFrame, got list"):
        render.dataset_summary([[1, 2]])
    with pytest.raises(InvalidArgumentError, match="got Series"):
        render.dataset_summary(pd.Series([1]))


# ------------------------------------------------------------------------------------------ dataset_body


def sample_df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "score": [0.5, 1.25, -3.0],
            "name": ["a", "b,c", 'say "hi"'],
        }
    )


def test_dataset_body_csv_round_trip():
    df = sample_df()
    data, fmt = render.dataset_body(df, "CSV")
    assert fmt == "csv" and isinstance(data, bytes)
    assert data.splitlines()[0] == b"id,score,name"  # no index column
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(data)), df)


@pytest.mark.parametrize("alias", ["parquet", "pq", " Parquet "])
def test_dataset_body_parquet_round_trip(alias):
    df = sample_df()
    df["when"] = pd.date_range("2024-01-01", periods=3, freq="D")
    data, fmt = render.dataset_body(df, alias)
    assert fmt == "parquet" and data[:4] == b"PAR1"
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(data)), df)


def test_dataset_body_rejects_unknown_format_and_non_dataframe():
    with pytest.raises(InvalidArgumentError, match="csv, parquet"):
        render.dataset_body(sample_df(), "xlsx")
    with pytest.raises(InvalidArgumentError, match="pandas DataFrame"):
        render.dataset_body({"a": [1]}, "csv")


# -------------------------------------------------------------------------------------------- chart_html


def test_chart_html_inlines_uplot_and_embeds_data():
    rows = [[0, 1.0, 10], [1, 0.5, 20], [2, 0.25, 30]]
    page = render.chart_html("Training", ["epoch", "loss", "n"], rows)
    js = (STATIC / "uPlot.iife.min.js").read_text(encoding="utf-8")
    css = (STATIC / "uPlot.min.css").read_text(encoding="utf-8")
    assert js in page and css in page
    assert "<script src=" not in page and "<link" not in page  # nothing fetched: works offline
    data = chart_payload(page)
    assert data["x"] == [0, 1, 2]
    assert data["series"] == ["loss", "n"]
    assert data["y"] == [[1.0, 0.5, 0.25], [10, 20, 30]]
    assert data["x_labels"] is None
    assert "<h1>Training</h1>" in page
    assert "not drawn" not in page


def test_chart_html_escapes_script_breakouts():
    rows = [[XSS, 1.0], ["b\u2028c", 2.0]]
    page = render.chart_html(XSS, ["x & <y>", XSS], rows)
    # The only closing script tags are the three the page itself writes.
    assert page.count("</script>") == 3
    assert "<script>alert(1)" not in page
    assert html.escape(XSS) in page  # visible title, escaped
    assert "\u2028" not in page
    data = chart_payload(page)
    assert data["title"] == XSS
    assert data["series"] == [XSS]
    assert data["x_label"] == "x & <y>"
    assert data["x_labels"] == [XSS, "b\u2028c"]


def test_chart_html_nan_and_inf_become_null_with_note():
    rows = [[0, 1.0, math.nan], [1, math.inf, 2.0], [2, 3.0, -math.inf], [3, None, 4.0], [4, "oops", 5.0]]
    page = render.chart_html("t", ["step", "a", "b"], rows)
    data = chart_payload(page)
    assert data["y"] == [[1.0, None, 3.0, None, None], [None, 2.0, None, 4.0, 5.0]]
    assert "3 values are NaN or infinite and are not drawn." in page
    assert "1 value is not numeric and is not drawn." in page
    assert "NaN" not in json.dumps(data)  # the embedded JSON is strict


def test_chart_html_numeric_x_is_sorted_and_numpy_values_accepted():
    rows = [[np.int64(2), np.float32(0.5)], [np.int64(0), np.float64(1.5)], [np.int64(1), 1]]
    data = chart_payload(render.chart_html("t", ["x", "y"], rows))
    assert data["x"] == [0, 1, 2]
    assert data["y"] == [[1.5, 1, 0.5]]


def test_chart_html_non_numeric_x_uses_index_and_labels():
    rows = [["2024-01-01", 1], ["2024-01-02", 2], [math.nan, 3]]
    data = chart_payload(render.chart_html("t", ["day", "v"], rows))
    assert data["x"] == [0, 1, 2]
    assert data["x_labels"] == ["2024-01-01", "2024-01-02", "nan"]
    assert data["y"] == [[1, 2, 3]]


def test_chart_html_accepts_numpy_rows():
    arr = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0]])
    data = chart_payload(render.chart_html("t", ["x", "y"], arr))
    assert data["x"] == [0.0, 1.0, 2.0] and data["y"] == [[1.0, None, 3.0]]


def test_chart_html_validates_shape():
    with pytest.raises(InvalidArgumentError, match="row 1 has 3 values"):
        render.chart_html("t", ["x", "y"], [[1, 2], [1, 2, 3]])
    with pytest.raises(InvalidArgumentError, match="at least two columns"):
        render.chart_html("t", ["x"], [[1]])


def test_chart_html_empty_rows_and_cached_static_read():
    render._static_text.cache_clear()
    page = render.chart_html("empty", ["x", "y"], [])
    assert "There are no rows to draw." in page
    render.chart_html("again", ["x", "y"], [[1, 2]])
    info = render._static_text.cache_info()
    assert info.misses == 2 and info.hits >= 2


def test_vendored_uplot_files_present():
    for name in ("uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"):
        assert (STATIC / name).is_file(), name
    assert "MIT License" in (STATIC / "uPlot.LICENSE").read_text(encoding="utf-8")
    assert (
        (STATIC / "uPlot.iife.min.js")
        .read_text(encoding="utf-8")
        .startswith("/*! https://github.com/leeoniya/uPlot")
    )


# --------------------------------------------------------------------------------------- table_csv, figures


def test_table_csv_round_trip():
    rows = [[1, "a,b", 2.5], [2, 'q"uote', None], [3, "multi\nline", True]]
    data = render.table_csv(["id", "text", "val"], rows)
    back = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert back == [
        ["id", "text", "val"],
        ["1", "a,b", "2.5"],
        ["2", 'q"uote', ""],
        ["3", "multi\nline", "True"],
    ]


def test_table_csv_without_header_and_ragged_rows():
    assert render.table_csv(None, [[1, 2], [3]]) == b"1,2\n3\n"
    with pytest.raises(InvalidArgumentError, match="row 0 has 1 values"):
        render.table_csv(["a", "b"], [[1]])


def test_figure_png_from_real_figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2), dpi=50)
    fig.add_subplot().plot([0, 1, 2], [2, 0, 1])
    data = render.figure_png(fig)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and render.is_png(data)
    assert len(data) > 200
    assert render.figure_png(data) == data
    assert render.figure_png(bytearray(data)) == data


def test_figure_png_pyplot_figure_keeps_backend():
    import matplotlib
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    fig, ax = plt.subplots()
    try:
        ax.plot([1, 2, 3])
        assert render.is_png(render.figure_png(fig))
        with pytest.raises(InvalidArgumentError, match="ax.figure"):
            render.figure_png(ax)
    finally:
        plt.close(fig)
    assert matplotlib.get_backend() == before


def test_figure_png_rejects_other_inputs():
    with pytest.raises(InvalidArgumentError, match="not a PNG"):
        render.figure_png(b"GIF89a...")
    with pytest.raises(InvalidArgumentError, match="got str"):
        render.figure_png("plot.png")


def test_is_png():
    assert render.is_png(b"\x89PNG\r\n\x1a\nrest")
    assert not render.is_png(b"\x89PNG")
    assert not render.is_png("\x89PNG\r\n\x1a\n")
    assert not render.is_png(None)
