"""Every golden vector of spec/vectors read through the package, compared with its JSON;
every invalid vector refused with the exception class of the error its JSON names."""

import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import brine
from brine.errors import class_for
from conftest import REPO, VECTORS

sys.path.insert(0, str(REPO / "spec" / "reader-python"))
from check_vectors import FLOAT_WIDTH, Checker, element_json  # noqa: E402

VALID = sorted(p.stem for p in VECTORS.glob("*.brine"))
INVALID = sorted(p.stem for p in (VECTORS / "invalid").glob("*.brine"))


def column_json(dtype_name, column):
    """A pyarrow column as the golden JSON writes values (floats are checked by bits)."""
    t = column.type
    if pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        return column.to_pylist()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return [None if v is None else v.hex() for v in column.to_pylist()]
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        return [None if v is None else str(v) for v in column.cast(pa.int64()).to_pylist()]
    if pa.types.is_date32(t):
        return column.cast(pa.int32()).to_pylist()
    return [None if v is None else element_json(dtype_name, v) for v in column.to_pylist()]


def check_frame(c, f, w):
    name = w["name"]
    info = f.info(name)
    c.eq(f"{name} rows", info["rows"], w["rows"])
    c.eq(f"{name} columns", [col["name"] for col in info["columns"]], [col["name"] for col in w["columns"]])
    table = f.frame(name, to="arrow")
    for col, wc in zip(info["columns"], w["columns"]):
        what = f"frame {name!r} column {col['name']!r}"
        c.eq(f"{what} type", col["type"], wc["type"])
        c.eq(f"{what} nulls", col["nulls"], wc["null_count"])
        column = table.column(col["name"]).combine_chunks()
        if col["type"] in FLOAT_WIDTH:
            data = column.fill_null(0).to_numpy(zero_copy_only=False)
            mask = column.is_null().to_numpy(zero_copy_only=False)
            c.floats(what, col["type"], data, wc["values"], wc["bits"], mask)
        else:
            c.eq(f"{what} values", column_json(col["type"], column), wc["values"])


@pytest.mark.parametrize("vector", VALID)
def test_valid_vector(vector):
    want = json.loads((VECTORS / f"{vector}.json").read_text(encoding="utf-8"))
    c = Checker(vector)
    with brine.open(VECTORS / f"{vector}.brine", verify=True) as f:
        c.eq("version", f.version, want["format_version"])
        c.eq("names", list(f), [e["name"] for e in want["entries"]])
        lo, hi = f.mapped_range()
        for w in want["entries"]:
            name = w["name"]
            c.eq(f"{name} kind", f.kind(name), w["kind"])
            if w["kind"] == "array":
                a = f[name]
                c.eq(f"{name} shape", list(a.shape), w["shape"])
                c.eq(f"{name} codec", f.info(name)["codec"], w["codec"])
                if w["codec"] == "raw" and a.size:
                    address = a.__array_interface__["data"][0]
                    c.eq(f"{name} zero-copy", lo <= address < hi, True)
                if w["dtype"] in FLOAT_WIDTH:
                    c.floats(name, w["dtype"], a, w["values"], w["bits"])
                else:
                    c.eq(f"{name} values", [element_json(w["dtype"], x) for x in a.reshape(-1).tolist()], w["values"])
            elif w["kind"] == "frame":
                check_frame(c, f, w)
            else:
                info = f.info(name)
                c.eq(f"{name} type", info["type_name"], w["type_name"])
                with pytest.raises(brine.WrongKindError, match="is a model"):
                    f[name]
        f.verify()
    assert not c.failures, "\n".join(c.failures)


def invalid(vector):
    return json.loads((VECTORS / "invalid" / f"{vector}.json").read_text(encoding="utf-8"))


def limits(want):
    given = want.get("reader_options", {})
    names = {"max_manifest_length": "max_manifest_len"}
    return {names.get(k, k): v for k, v in given.items()}


# D8 and D9 are found by reading a model with its Rust type, which Python cannot do yet.
MODEL_TYPED = [v for v in INVALID if invalid(v)["rule"] in ("D8", "D9")]


@pytest.mark.parametrize("vector", [v for v in INVALID if v not in MODEL_TYPED])
def test_invalid_vector_is_refused(vector):
    want = invalid(vector)
    cls = class_for(want["error"])
    path = VECTORS / "invalid" / f"{vector}.brine"
    with pytest.raises(cls) as e:
        with brine.open(path, **limits(want)) as f:
            # Tier 2 errors show on the entry's first access, tier 3 ones in verify.
            for name in f:
                if f.kind(name) == "model":
                    continue
                f[name]
            f.verify()
    assert e.value.kind == want["error"], str(e.value)
    assert e.value.file == str(path)
    assert str(path) in str(e.value)
    if "entry" in want:
        # Checksum errors name the entry in their message only.
        assert e.value.entry == want["entry"] or f'entry "{want["entry"]}"' in str(e.value)
    if "column" in want:
        assert e.value.column == want["column"]
    if want["tier"] == 1:
        with pytest.raises(cls):
            brine.open(path, **limits(want))


@pytest.mark.parametrize("vector", MODEL_TYPED)
def test_model_vectors_need_their_type(vector):
    """The package opens these files (their damage is in a model's archive, checked against
    its Rust type) and refuses to read the model as an array or a frame."""
    want = invalid(vector)
    with brine.open(VECTORS / "invalid" / f"{vector}.brine") as f:
        models = [name for name in f if f.kind(name) == "model"]
        assert models
        for name in models:
            with pytest.raises(brine.WrongKindError):
                f.array(name)
            assert f.info(name)["type_name"]
        assert want["error"] in ("SchemaMismatch", "InvalidModel")
