"""Checks what `brine export` wrote for frames against the references make_frames.py wrote.

Usage: python3 check_frames.py OUTDIR EXPORTDIR...

For every case of OUTDIR/frames.json, EXPORTDIR/<entry>.arrow (read with pyarrow) must have
the reference's schema (names, types, units, zones) and its values: nulls in the same rows,
floats bit for bit (NaN, -0.0 and infinities included). EXPORTDIR/<entry>.csv, read back with
pandas, must hold the same values as text can carry them: a null and an empty string are both
an empty field, binary is hex, categoricals are their strings, timestamps are ISO 8601 instants
(with the zone's offset), dates YYYY-MM-DD, durations integers of their unit.
Prints 'N passed, N failed' and exits 1 on any failure.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

out = sys.argv[1]
with open(os.path.join(out, "frames.json")) as f:
    cases = json.load(f)["cases"]


def read_arrow(path):
    with pa.memory_map(path) as m:
        return ipc.open_file(m).read_all()


def same(a, b):
    """Equality that tells NaN from null, -0.0 from 0.0."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    return a == b


def storage(col):
    """Values as Python objects, temporal ones as their integers (no unit conversion)."""
    ty = col.type
    if pa.types.is_timestamp(ty) or pa.types.is_duration(ty):
        return col.cast(pa.int64()).to_pylist()
    if pa.types.is_date32(ty):
        return col.cast(pa.int32()).to_pylist()
    if pa.types.is_float16(ty):
        return [None if v is None else float(v) for v in col.to_pylist()]
    if pa.types.is_dictionary(ty):
        return col.cast(ty.value_type).to_pylist()
    return col.to_pylist()


def check_arrow(ref, path):
    got = read_arrow(path)
    assert got.schema.names == ref.schema.names, (got.schema.names, ref.schema.names)
    for name in ref.schema.names:
        rt, gt = ref.schema.field(name).type, got.schema.field(name).type
        assert rt == gt, f"column {name}: type {gt}, expected {rt}"
        r, g = storage(ref[name]), storage(got[name])
        assert len(r) == len(g), (name, len(r), len(g))
        bad = [i for i, (x, y) in enumerate(zip(r, g)) if not same(x, y)]
        assert not bad, f"column {name}: row {bad[0]}: {g[bad[0]]!r}, expected {r[bad[0]]!r}"


def expected_text(col):
    """What each value of `col` must read back as from brine's CSV, or None for an empty field."""
    ty = col.type
    values = col.to_pylist()
    if pa.types.is_binary(ty) or pa.types.is_large_binary(ty):
        return [None if v is None or v == b"" else v.hex() for v in values]
    if pa.types.is_string(ty) or pa.types.is_large_string(ty) or pa.types.is_dictionary(ty):
        return [None if v is None or v == "" else str(v) for v in storage(col)]
    if pa.types.is_boolean(ty):
        return [None if v is None else ("true" if v else "false") for v in values]
    if pa.types.is_date32(ty):
        return [None if v is None else v.isoformat() for v in values]
    if pa.types.is_duration(ty):
        return [None if v is None else str(v) for v in storage(col)]
    return None


def check_csv(ref, path):
    text = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    assert list(text.columns) == ref.schema.names, (list(text.columns), ref.schema.names)
    for name in ref.schema.names:
        col, ty = ref[name], ref.schema.field(name).type
        got = [None if isinstance(v, float) else v for v in text[name].tolist()]
        assert len(got) == len(col), (name, len(got), len(col))
        want = expected_text(col)
        if want is not None:
            bad = [i for i, (x, y) in enumerate(zip(want, got)) if x != y]
            assert not bad, f"column {name}: row {bad[0]}: {got[bad[0]]!r}, expected {want[bad[0]]!r}"
        elif pa.types.is_timestamp(ty):
            # The same instant (naive values stay naive), at the column's resolution.
            parsed = pd.to_datetime(pd.Series(got), utc=ty.tz is not None, format="ISO8601")
            if ty.tz is None:
                expected = pd.to_datetime(pd.Series(col.cast(pa.int64()).to_pylist()), unit=ty.unit)
            else:
                expected = pd.to_datetime(pd.Series(col.cast(pa.int64()).to_pylist()), unit=ty.unit, utc=True)
            assert (parsed.isna() == expected.isna()).all(), f"column {name}: nulls differ"
            mask = parsed.notna()
            diff = (parsed[mask].astype("int64") != expected[mask].astype("int64"))
            assert not diff.any(), f"column {name}: row {diff.idxmax()}: {got[diff.idxmax()]!r}"
        else:
            # Numbers: the text parses back to the same value of the column's type.
            np_type = ty.to_pandas_dtype()
            r = storage(col)
            for i, (x, y) in enumerate(zip(r, got)):
                if x is None or y is None:
                    assert x is None and y is None, f"column {name}: row {i}: {y!r}, expected {x!r}"
                    continue
                if np.issubdtype(np_type, np.floating):
                    v = np.array([float(y)]).astype(np_type)[0]
                    ok = (math.isnan(x) and math.isnan(v)) or np.array([x]).astype(np_type).tobytes() == np.array([v]).tobytes()
                else:
                    ok = int(y) == x
                assert ok, f"column {name}: row {i}: {y!r}, expected {x!r}"


passed = failed = 0
for export_dir in sys.argv[2:]:
    for case in cases:
        ref = read_arrow(os.path.join(out, case["ref"]))
        for ext, check in ((".arrow", check_arrow), (".csv", check_csv)):
            path = os.path.join(export_dir, case["entry"] + ext)
            try:
                check(ref, path)
                passed += 1
            except Exception as e:  # noqa: BLE001 - report every failure, then fail
                failed += 1
                print(f"FAIL {path} ({case['input']}): {type(e).__name__}: {e}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
