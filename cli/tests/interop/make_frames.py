"""Writes the frame inputs of the CLI interop test with the real tools (pandas, pyarrow).

Usage: python3 make_frames.py OUTDIR

Writes OUTDIR/inputs/* (files to import), OUTDIR/refs/<case>.arrow (the values each imported
frame must hold, as an Arrow IPC file written by pyarrow), OUTDIR/bad/* (inputs that must be
refused) and OUTDIR/frames.json, which cli/tests/cli.rs and check_frames.py both read:

{"cases": [{"input": "inputs/every_type.feather", "entry": "every_type",
            "ref": "refs/every_type.arrow", "csv_ref": "refs/every_type.csv.json"}],
 "bad": [{"input": "bad/latin1.csv", "message": "UTF-8"}]}

A case's reference has brine's types for the values the input holds: strings as large_string,
dictionaries as dictionary<int32, large_string>, integers and floats of their width, timestamps
with their unit and zone; check_frames.py compares `brine export ... .arrow` against it value
for value (NaN, -0.0 and nulls included), and `brine export ... .csv` read back by pandas
against the reference read the same way.
"""

import datetime as dt
import json
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.ipc as ipc

out = sys.argv[1]
for sub in ("inputs", "refs", "bad"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)

rng = np.random.default_rng(11)
cases = []
bad = []

N = 1000
words = ["ünïcödé", "日本語", "emoji 🦀", "", "plain", "comma, inside", 'quote " inside', "new\nline"]


def with_nulls(values, every):
    return [None if i % every == 3 else v for i, v in enumerate(values)]


floats = rng.standard_normal(N)
floats[:5] = [np.nan, np.inf, -np.inf, -0.0, 5e-324]
paris = [dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=37 * i) for i in range(N)]

table = pa.table(
    {
        "i64": pa.array(rng.integers(-(2**62), 2**62, N), pa.int64()),
        "i32_nulls": pa.array(with_nulls(rng.integers(-(2**31), 2**31 - 1, N).tolist(), 7), pa.int32()),
        "i16": pa.array(rng.integers(-(2**15), 2**15 - 1, N), pa.int16()),
        "i8": pa.array(rng.integers(-128, 127, N), pa.int8()),
        "u8": pa.array(rng.integers(0, 255, N), pa.uint8()),
        "u16": pa.array(rng.integers(0, 2**16 - 1, N), pa.uint16()),
        "u32": pa.array(rng.integers(0, 2**32 - 1, N), pa.uint32()),
        "u64": pa.array(rng.integers(0, 2**63, N, dtype=np.uint64) * 2 + 1, pa.uint64()),
        "f64": pa.array(floats, pa.float64()),
        "f64_nulls": pa.array(with_nulls(floats.tolist(), 5), pa.float64()),
        "f32": pa.array(floats.astype(np.float32), pa.float32()),
        "f16": pa.array(floats.astype(np.float16), pa.float16()),
        "bool_nulls": pa.array(with_nulls((rng.integers(0, 2, N) == 1).tolist(), 4), pa.bool_()),
        "text": pa.array(with_nulls([words[i % len(words)] + str(i) for i in range(N)], 6), pa.string()),
        "large_text": pa.array([words[i % len(words)] for i in range(N)], pa.large_string()),
        "view_text": pa.array(with_nulls([words[i % len(words)] * (i % 5) for i in range(N)], 13), pa.string_view()),
        "binary": pa.array(with_nulls([bytes([i % 256, 0, 255]) * (i % 4) for i in range(N)], 9), pa.binary()),
        "category": pa.array(with_nulls([["red", "grün", "青"][i % 3] for i in range(N)], 8)).dictionary_encode(),
        "when_paris": pa.array(paris, pa.timestamp("ns", tz="Europe/Paris")),
        "when_utc_ms": pa.array(with_nulls(paris, 10), pa.timestamp("ms", tz="UTC")),
        "when_naive_us": pa.array([p.replace(tzinfo=None) for p in paris], pa.timestamp("us")),
        "when_offset_s": pa.array(paris, pa.timestamp("s", tz="+05:30")),
        "day": pa.array(with_nulls([dt.date(1969, 12, 1) + dt.timedelta(days=i) for i in range(N)], 11), pa.date32()),
        "took": pa.array(with_nulls([dt.timedelta(microseconds=int(x)) for x in rng.integers(-10**12, 10**12, N)], 12), pa.duration("us")),
    }
)


def brine_types(t):
    """The reference: `t` with the Arrow types brine's frames export."""
    cols = []
    for col in t.columns:
        ty = col.type
        if pa.types.is_string(ty) or pa.types.is_string_view(ty):
            col = col.cast(pa.large_string())
        elif pa.types.is_binary(ty):
            col = col.cast(pa.large_binary())
        elif pa.types.is_dictionary(ty):
            col = col.cast(pa.dictionary(pa.int32(), pa.large_string()))
        cols.append(col)
    return pa.table(cols, names=t.column_names)


def save_ref(name, t):
    path = f"refs/{name}.arrow"
    with ipc.new_file(os.path.join(out, path), t.schema) as w:
        w.write_table(t)
    return path


def case(input_path, entry, ref_table, csv_ok=True):
    cases.append({"input": input_path, "entry": entry, "ref": save_ref(entry, ref_table), "csv": csv_ok})


# --- Feather (Arrow IPC file), the way pandas and pyarrow write it: lz4 (the default), zstd,
# uncompressed; several record batches; a frame with no rows. ---
ref = brine_types(table)
feather.write_feather(table, os.path.join(out, "inputs/every_type.feather"))  # lz4
case("inputs/every_type.feather", "every_type", ref)
feather.write_feather(table, os.path.join(out, "inputs/zstd_batches.feather"), compression="zstd", chunksize=300)
case("inputs/zstd_batches.feather", "zstd_batches", ref)
feather.write_feather(table.slice(0, 0), os.path.join(out, "inputs/no_rows.arrow"), compression="uncompressed")
case("inputs/no_rows.arrow", "no_rows", ref.slice(0, 0))
# An Arrow IPC stream, as pyarrow.ipc.new_stream writes it.
with ipc.new_stream(os.path.join(out, "inputs/stream.arrows"), table.schema) as w:
    for b in table.to_batches(max_chunksize=400):
        w.write_batch(b)
case("inputs/stream.arrows", "stream", ref)

# --- pandas: DataFrame.to_feather and DataFrame.to_csv of a frame with pandas' own dtypes. ---
df = pd.DataFrame(
    {
        "id": np.arange(N, dtype=np.int64),
        "score": floats,
        "name": pd.array(with_nulls([words[i % 5] + "-" + str(i) for i in range(N)], 6), dtype="string"),
        "flag": (np.arange(N) % 3 == 0),
        "city": pd.Categorical([["Zürich", "東京", "Paris"][i % 3] for i in range(N)]),
        "when": pd.to_datetime(paris).tz_convert("Europe/Paris"),
        "day": pd.to_datetime([dt.date(2000, 1, 1) + dt.timedelta(days=i) for i in range(N)]).date,
        "count": pd.array(with_nulls(list(range(N)), 9), dtype="Int64"),
    }
)
df.to_feather(os.path.join(out, "inputs/pandas.feather"))
case("inputs/pandas.feather", "pandas", brine_types(pa.Table.from_pandas(df, preserve_index=False)))

# CSV as pandas writes it. brine infers: i64, f64 (NaN and inf), utf8 (nulls: empty fields),
# bool (True/False), date, timestamps with offsets (stored as UTC instants, microseconds).
csv_df = df.drop(columns=["city", "score"]).copy()
csv_df["score"] = np.where(np.isfinite(floats), floats, 0.5)  # to_csv writes "inf", "nan"
csv_df.to_csv(os.path.join(out, "inputs/pandas.csv"), index=False)
csv_ref = pa.table(
    {
        "id": pa.array(csv_df["id"], pa.int64()),
        "name": pa.array(csv_df["name"].astype(object).where(csv_df["name"].notna(), None), pa.large_string()),
        "flag": pa.array(csv_df["flag"], pa.bool_()),
        "when": pa.array(paris, pa.timestamp("us", tz="UTC")),
        "day": pa.array(list(csv_df["day"]), pa.date32()),
        "count": pa.array([None if pd.isna(v) else int(v) for v in csv_df["count"]], pa.int64()),
        "score": pa.array(csv_df["score"], pa.float64()),
    }
)
# Empty strings in `name` are written as empty fields by pandas, which read back as nulls.
csv_ref = csv_ref.set_column(1, "name", pa.array([None if v == "" else v for v in csv_ref["name"].to_pylist()], pa.large_string()))
case("inputs/pandas.csv", "pandas_csv", csv_ref)

# --- inputs that must be refused ---
with open(os.path.join(out, "bad/latin1.csv"), "wb") as f:
    f.write("name,city\nJosé,Zürich\n".encode("latin-1"))
bad.append({"input": "bad/latin1.csv", "message": "UTF-8"})
feather.write_feather(table.select(["i64"]), os.path.join(out, "bad/version1.feather"), version=1)
bad.append({"input": "bad/version1.feather", "message": "version 1"})
feather.write_feather(pa.table({"lists": pa.array([[1, 2], [3]])}), os.path.join(out, "bad/lists.feather"))
bad.append({"input": "bad/lists.feather", "message": "lists"})
with open(os.path.join(out, "bad/truncated.feather"), "wb") as f:
    with open(os.path.join(out, "inputs/every_type.feather"), "rb") as src:
        f.write(src.read()[:5000])
bad.append({"input": "bad/truncated.feather", "message": "Arrow"})

with open(os.path.join(out, "frames.json"), "w") as f:
    json.dump({"cases": cases, "bad": bad}, f, indent=1)
