"""Frames: pandas round trips exactly, pyarrow zero copy and streaming, polars."""

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import brine
from conftest import REPO
from pandas_frames import frames as pandas_cases

CASES = list(pandas_cases())


@pytest.mark.parametrize("compress", [None, "zstd"])
@pytest.mark.parametrize("name, df", CASES, ids=[c[0] for c in CASES])
def test_pandas_round_trip_is_exact(tmp_path, name, df, compress):
    path = tmp_path / "f.brine"
    brine.save(path, {name: df}, compress=compress)
    with brine.open(path) as f:
        got = f[name]
        pd.testing.assert_frame_equal(got, df, check_exact=True)
        # The schema pyarrow gave the DataFrame comes back with it, `pandas` key included.
        table = f.frame(name, to="arrow")
        want = pa.Table.from_pandas(df)
        assert table.schema.metadata == want.schema.metadata
        for a, b in zip(table.schema, want.schema):
            if pa.types.is_dictionary(b.type):
                assert a.type.ordered == b.type.ordered


def test_more_pandas_dtypes(tmp_path):
    n = 5
    df = pd.DataFrame(
        {
            "empty_cat": pd.Categorical([None] * n, categories=["never", "used"], ordered=True),
            "f32": np.arange(n, dtype=np.float32) / 3,
            "u64": np.array([0, 1, 2**64 - 1, 7, 8], dtype=np.uint64),
            "bool": [True, False, True, True, False],
            "obj_str": ["a", "bb", None, "dddd", "é"],
            "bytes": [b"\x00", b"", None, b"\xff\xfe", b"x"],
            "tz_s": pd.date_range("2030-01-01", periods=n, freq="h", tz="Asia/Tokyo").as_unit("s"),
            "offset": pd.date_range("2030-01-01", periods=n, freq="h", tz="+05:30"),
            "delta_ns": pd.to_timedelta([1, -1, 0, None, 10**15], unit="ns"),
            "dates": pd.array([pd.Timestamp("1900-01-01").date(), None, pd.Timestamp("2262-04-11").date(), pd.Timestamp("1970-01-01").date(), pd.Timestamp("2024-02-29").date()], dtype=pd.ArrowDtype(pa.date32())),
        },
        index=pd.Index([f"r{i}" for i in range(n)], name=None),
    )
    # Column names of one non-string type come back typed (mixed types become strings in
    # pyarrow's own conversion, which warns).
    floats = pd.DataFrame({1.5: np.arange(n), -2.0: np.arange(n) * 2.5})
    path = tmp_path / "f.brine"
    brine.save(path, df=df, empty=df.iloc[:0], floats=floats)
    pd.testing.assert_frame_equal(brine.load(path)["floats"], floats, check_exact=True)
    with brine.open(path) as f:
        pd.testing.assert_frame_equal(f["df"], df, check_exact=True)
        pd.testing.assert_frame_equal(f["empty"], df.iloc[:0], check_exact=True)
        types = {c["name"]: c["type"] for c in f.info("df")["columns"]}
        assert types["empty_cat"] == "categorical[ordered]"
        assert types["tz_s"] == "timestamp[s, Asia/Tokyo]"
        assert types["dates"] == "date"


def test_seattle_weather_round_trips(tmp_path):
    csv = REPO / "examples" / "data" / "seattle-weather.csv"
    df = pd.read_csv(csv, parse_dates=["date"])
    df["weather"] = df["weather"].astype("category")
    path = tmp_path / "w.brine"
    brine.save(path, weather=df, compress="zstd")
    got = brine.load(path)["weather"]
    pd.testing.assert_frame_equal(got, df, check_exact=True)
    assert len(got) == 1461


def test_arrow_tables_are_zero_copy(tmp_path):
    n = 10_000
    table = pa.table(
        {
            "x": pa.array(np.arange(n, dtype=np.float64)),
            "s": pa.array([f"s{i}" for i in range(n)]),
            "k": pa.array([None if i % 7 == 0 else i for i in range(n)], pa.int32()),
        },
        metadata={"source": "test"},
    )
    path = tmp_path / "t.brine"
    brine.save(path, t=table)
    with brine.open(path) as f:
        got = f.frame("t", to="arrow")
        # brine's Arrow types are its storage types: 64-bit string offsets.
        assert got.schema.field("s").type == pa.large_string()
        assert got.cast(table.schema).equals(table) and got.schema.metadata == {b"source": b"test"}
        lo, hi = f.mapped_range()
        for column in got.columns:
            for chunk in column.chunks:
                for buf in chunk.buffers():
                    if buf is not None and buf.size:
                        assert lo <= buf.address and buf.address + buf.size <= hi
    # The table keeps the mapping alive after the file is closed and replaced.
    brine.save(path, t=table.slice(0, 1))
    assert got.column("x")[n - 1].as_py() == n - 1


def test_streaming_record_batch_reader(tmp_path):
    schema = pa.schema([("i", pa.int64()), ("s", pa.string()), ("c", pa.dictionary(pa.int8(), pa.string()))])
    made = []

    def batches():
        for b in range(20):
            batch = pa.record_batch(
                [
                    pa.array(range(b * 1000, b * 1000 + 1000), pa.int64()),
                    pa.array([None if i % 10 == 0 else f"v{b}-{i}" for i in range(1000)]),
                    pa.array([["x", "y", f"z{b % 3}"][i % 3] for i in range(1000)]).dictionary_encode().cast(schema.field("c").type),
                ],
                schema=schema,
            )
            made.append(batch)
            yield batch

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    path = tmp_path / "s.brine"
    with brine.Writer(path) as w:
        w.put_frame("s", reader, compress="zstd")
    with brine.open(path) as f:
        got = f.frame("s", to="arrow")
        want = pa.Table.from_batches(made)
        assert got.num_rows == 20_000
        assert got.column("i").combine_chunks().equals(want.column("i").combine_chunks())
        assert got.column("s").to_pylist() == want.column("s").to_pylist()
        assert got.column("c").to_pylist() == want.column("c").to_pylist()
        assert f.info("s")["columns"][1]["nulls"] == 2000


def test_a_failing_stream_aborts_the_file(tmp_path):
    schema = pa.schema([("i", pa.int64())])

    def batches():
        yield pa.record_batch([pa.array([1, 2])], schema=schema)
        raise RuntimeError("the source broke")

    path = tmp_path / "s.brine"
    brine.save(path, old=np.zeros(1))
    with pytest.raises(RuntimeError, match="the source broke"):
        with brine.Writer(path) as w:
            w.put_frame("s", pa.RecordBatchReader.from_batches(schema, batches()))
    assert list(brine.open(path)) == ["old"]


def test_a_table_without_chunks_keeps_its_columns(tmp_path):
    schema = pa.schema([("a", pa.int32()), ("b", pa.string())], metadata={"k": "v"})
    table = pa.Table.from_batches([], schema=schema)
    brine.save(tmp_path / "e.brine", e=table)
    got = brine.open(tmp_path / "e.brine").frame("e", to="arrow")
    assert got.schema.names == ["a", "b"] and got.num_rows == 0
    assert got.schema.field("a").type == pa.int32() and got.schema.metadata == {b"k": b"v"}


def test_polars_round_trip(tmp_path):
    df = pl.DataFrame(
        {
            "i": pl.Series([1, None, 3], dtype=pl.Int64),
            "u8": pl.Series([1, 2, 255], dtype=pl.UInt8),
            "f": [0.5, None, float("nan")],
            "s": ["a", None, "ü"],
            "b": [True, None, False],
            "cat": pl.Series(["x", "y", "x"], dtype=pl.Categorical),
            "t": pl.Series([0, 10**12, None]).cast(pl.Datetime("us", "Europe/Paris")),
            "d": pl.Series([0, -1, 19000]).cast(pl.Date),
            "dur": pl.Series([1, None, -5]).cast(pl.Duration("ms")),
        }
    )
    path = tmp_path / "p.brine"
    brine.save(path, p=df, compress="zstd")
    with brine.open(path) as f:
        got = f.frame("p", to="polars")
        assert got.equals(df, null_equal=True)
        assert got.schema == df.schema


def test_frame_conversions_and_kinds(tmp_path):
    table = pa.table({"a": [1, 2, 3]})
    path = tmp_path / "k.brine"
    brine.save(path, t=table, x=np.arange(3))
    with brine.open(path) as f:
        assert f.kind("t") == "frame"
        assert isinstance(f["t"], pd.DataFrame)
        assert pa.table(f.frame("t", to="stream")).equals(table)
        assert pa.RecordBatchReader.from_stream(f.frame("t", to="stream")).read_all().equals(table)
        assert f.frame("t", to="arrow").schema.field("a").nullable
        with pytest.raises(ValueError, match="to must be"):
            f.frame("t", to="excel")
        with pytest.raises(brine.WrongKindError) as e:
            f.frame("x")
        assert e.value.kind == "WrongKind" and e.value.entry == "x"
        with pytest.raises(brine.WrongKindError):
            f.array("t")
        with pytest.raises(brine.WrongKindError):
            f.lazy("t")


def test_unsupported_frames_are_refused(tmp_path):
    path = tmp_path / "u.brine"
    with pytest.raises(brine.InvalidInputError, match="has no brine column type"):
        brine.save(path, t=pa.table({"l": pa.array([[1], [2]])}))
    with pytest.raises(brine.InvalidInputError, match="is not a frame"):
        with brine.Writer(path) as w:
            w.put_frame("x", {"a": [1]})
    assert not path.exists()
