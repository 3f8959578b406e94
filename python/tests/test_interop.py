"""Files crossing between the package, the `brine` command (the Rust API), the spec's own
Python reader and the real tools: numpy, safetensors, pyarrow and pandas."""

import json
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest
import safetensors.numpy

import brine
from conftest import REPO

sys.path.insert(0, str(REPO / "spec" / "reader-python"))
import brine_reader  # noqa: E402  (the reader written from spec/FORMAT.md alone)


def python_written(path, compress):
    arrays = {
        "f32": np.linspace(-1, 1, 600, dtype=np.float32).reshape(20, 30),
        "i64": np.arange(-50, 50, dtype=np.int64),
        "u8": np.arange(256, dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "f16": np.array([0.5, -2.0, np.inf], dtype=np.float16),
    }
    df = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "s": ["a", None, "ü"],
            "t": pd.date_range("2024-01-01", periods=3, freq="D", tz="Europe/Paris"),
            "c": pd.Categorical(["x", "y", "x"], ordered=True),
        },
        index=pd.Index([7, 8, 9], name="id"),
    )
    brine.save(path, arrays, sales=df, compress=compress, metadata={"by": "python"})
    return arrays, df


@pytest.mark.parametrize("compress", [None, "zstd"])
def test_python_files_read_by_the_cli_and_the_spec_reader(tmp_path, cli, compress):
    path = tmp_path / "py.brine"
    arrays, df = python_written(path, compress)
    cli("verify", path)
    doc = json.loads(cli("inspect", "--json", path).stdout)
    assert sorted(e["name"] for e in doc["entries"]) == sorted([*arrays, "sales"])
    for name, a in arrays.items():
        out = tmp_path / f"{name}.npy"
        cli("export", path, name, "-o", out)
        got = np.load(out)
        assert got.dtype == a.dtype and np.array_equal(got, a)
    cli("export", path, "sales", "-o", tmp_path / "sales.feather")
    pd.testing.assert_frame_equal(pd.read_feather(tmp_path / "sales.feather"), df, check_exact=True)
    # The independent reader of the spec finds the same values.
    f = brine_reader.File(str(path))
    f.verify()
    assert f.metadata == {"by": "python"}
    for name, a in arrays.items():
        assert np.array_equal(f.array(name), a)
    frame = f.frame("sales")
    assert list(frame) == ["n", "s", "t", "c", "id"]
    f.close()


def test_files_of_the_real_tools_imported_by_the_cli_read_by_python(tmp_path, cli):
    x = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    ints = np.arange(1000, dtype=np.int32).reshape(10, 100)
    np.savez(tmp_path / "z.npz", ints=ints, flags=ints % 3 == 0)
    tensors = {"w": np.arange(12, dtype=np.float64).reshape(3, 4), "h": np.ones(5, np.float16)}
    safetensors.numpy.save_file(tensors, tmp_path / "t.safetensors")
    table = pa.table({"k": pa.array([1, None, 3]), "v": pa.array(["a", "b", None])})
    feather.write_feather(table, tmp_path / "f.feather")
    out = tmp_path / "all.brine"
    cli("import", "-o", out, "--compress", "zstd", "--shuffle", tmp_path / "x.npy", tmp_path / "z.npz",
        tmp_path / "t.safetensors", tmp_path / "f.feather",
        REPO / "examples" / "data" / "seattle-weather.csv")
    with brine.open(out, verify=True) as f:
        # Entries are named after the files (and the arrays inside an .npz or .safetensors).
        assert list(f) == ["f", "flags", "h", "ints", "seattle-weather", "w", "x"]
        for name, want in [("x", x), ("ints", ints), ("flags", ints % 3 == 0), *tensors.items()]:
            got = f[name]
            assert got.dtype == want.dtype and np.array_equal(got, want), name
        assert f.frame("f", to="arrow").cast(table.schema).equals(table)
        weather = f["seattle-weather"]
        csv = pd.read_csv(REPO / "examples" / "data" / "seattle-weather.csv")
        assert list(weather.columns) == list(csv.columns) and len(weather) == 1461
        for column in ["precipitation", "temp_max", "temp_min", "wind", "weather"]:
            np.testing.assert_array_equal(weather[column].to_numpy(), csv[column].to_numpy())
        # The CLI parsed the dates once, at import: they are dates, not strings.
        assert f.info("seattle-weather")["columns"][0]["type"] == "date"
        assert str(weather["date"].iloc[0]) == "2012-01-01"
