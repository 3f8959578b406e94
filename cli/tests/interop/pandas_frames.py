"""pandas DataFrames through Feather and brine: the round trip must give back the same
DataFrame, index, dtypes and Arrow metadata included.

Usage:
  python3 pandas_frames.py make OUTDIR    writes OUTDIR/<case>.feather with pyarrow (the
                                          DataFrame's index and pandas dtypes go into the
                                          schema's `pandas` key) and OUTDIR/<case>.pkl, the
                                          DataFrame itself, and OUTDIR/cases.json
  python3 pandas_frames.py check OUTDIR   reads OUTDIR/<case>.out.feather (what `brine export`
                                          wrote) and compares it with the pickled DataFrame
                                          with pandas.testing.assert_frame_equal, and the
                                          Arrow schema's metadata, field metadata and
                                          dictionary `ordered` flags with the input's

Exits non-zero, naming the case, on the first difference.
"""

import json
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather


def frames():
    n = 7
    yield "nullable", pd.DataFrame(
        {
            "int64": pd.array([1, None, 3, -4, 5, None, 2**62], dtype="Int64"),
            "int8": pd.array([1, None, -3, 4, 5, 6, 7], dtype="Int8"),
            "uint32": pd.array([1, 2, None, 4, 5, 6, 2**32 - 1], dtype="UInt32"),
            "boolean": pd.array([True, None, False, True, None, False, True], dtype="boolean"),
            "string": pd.array(["a", None, "ć", "", "日本", "x", None], dtype="string"),
            "float_nan": [1.5, np.nan, -0.0, np.inf, 2.0, 3.0, 4.0],
            "float_na": pd.array([1.5, None, 2.5, 3.5, None, 0.0, 1.0], dtype="Float64"),
        }
    )
    yield "categories", pd.DataFrame(
        {
            "ordered": pd.Categorical(
                ["lo", "hi", None, "mid", "lo", "hi", "mid"],
                categories=["lo", "mid", "hi"],
                ordered=True,
            ),
            "unordered": pd.Categorical(["b", "a", "b", None, "c", "a", "a"]),
            # A category no row uses still belongs to the dtype.
            "unused": pd.Categorical(["x"] * n, categories=["x", "never"]),
        }
    )
    yield "temporal", pd.DataFrame(
        {
            "paris_us": pd.date_range("2024-03-30", periods=n, freq="7h", tz="Europe/Paris").as_unit("us"),
            "utc_ns": pd.date_range("1969-12-31 23:00", periods=n, freq="17min", tz="UTC").as_unit("ns"),
            "naive_s": pd.date_range("2000-01-01", periods=n, freq="D").as_unit("s"),
            "kolkata_ms": pd.date_range("2024-01-01", periods=n, freq="h", tz="Asia/Kolkata").as_unit("ms"),
            "delta": pd.to_timedelta(np.arange(n) * 1_000_003, unit="us"),
            "with_nat": pd.to_datetime(["2024-01-01", None, "2024-01-03", None, "2024-01-05", "2024-01-06", "2024-01-07"]).tz_localize("America/New_York"),
        }
    )
    df = pd.DataFrame({"v": np.arange(n, dtype="float32")}, index=pd.Index(list("abcdefg"), name="key"))
    yield "named_index", df
    idx = pd.MultiIndex.from_arrays(
        [list("aabbccd"), np.arange(n) * 10], names=["letter", "number"]
    )
    yield "multi_index", pd.DataFrame({"v": np.arange(n, dtype="int16"), "w": list("pqrstuv")}, index=idx)
    yield "range_index", pd.DataFrame({"v": np.arange(n)}, index=pd.RangeIndex(10, 10 + 3 * n, 3, name="r"))
    yield "int_column_names", pd.DataFrame({0: np.arange(n), 1: np.arange(n) * 2.5})
    # (A Feather file of no rows has no record batch, hence no dictionary: the categories of
    # an empty categorical column are lost by pyarrow itself, so none is here.)
    yield "empty", pd.DataFrame({"a": pd.array([], dtype="Int64"), "s": pd.array([], dtype="string")})


def make(out):
    cases = []
    for name, df in frames():
        table = pa.Table.from_pandas(df)
        # A field and a schema key of the user's own, beside pyarrow's `pandas` key.
        meta = dict(table.schema.metadata or {})
        meta[b"written-by"] = b"pandas_frames.py"
        field = table.schema.field(0).with_metadata({b"note": "première colonne".encode()})
        table = table.cast(table.schema.set(0, field).with_metadata(meta))
        feather.write_feather(table, os.path.join(out, f"{name}.feather"))
        df.to_pickle(os.path.join(out, f"{name}.pkl"))
        cases.append(name)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"cases": cases}, f)


def check(out):
    with open(os.path.join(out, "cases.json")) as f:
        cases = json.load(f)["cases"]
    for name in cases:
        want = pd.read_pickle(os.path.join(out, f"{name}.pkl"))
        path = os.path.join(out, f"{name}.out.feather")
        got = pd.read_feather(path)
        try:
            pd.testing.assert_frame_equal(got, want, check_exact=True)
        except AssertionError as e:
            sys.exit(f"{name}: the DataFrame read back differs: {e}")
        a = feather.read_table(os.path.join(out, f"{name}.feather"))
        b = feather.read_table(path)
        if a.schema.metadata != b.schema.metadata:
            sys.exit(f"{name}: schema metadata {b.schema.metadata} != {a.schema.metadata}")
        for fa, fb in zip(a.schema, b.schema):
            if (fa.metadata or {}) != (fb.metadata or {}):
                sys.exit(f"{name}: field {fa.name} metadata {fb.metadata} != {fa.metadata}")
            if pa.types.is_dictionary(fa.type) and fa.type.ordered != fb.type.ordered:
                sys.exit(f"{name}: field {fa.name} ordered {fb.type.ordered} != {fa.type.ordered}")
    print(f"{len(cases)} passed, 0 failed")


if __name__ == "__main__":
    if len(sys.argv) == 2:
        make(sys.argv[1])
    else:
        {"make": make, "check": check}[sys.argv[1]](sys.argv[2])
