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
import brine_reader  # noqa: E402  (the reader written from spec/FORMAT.md alone)
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


def same_tree(got, want, where="model"):
    """Whether two decoded models are equal, node for node: the same Python types, numpy
    arrays of the same dtype and bytes (so NaNs and -0.0 compare by their bits)."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{where}: {type(got).__name__}, not an ndarray"
        assert got.dtype == want.dtype and got.shape == want.shape, f"{where}: {got!r} != {want!r}"
        assert got.tobytes() == want.tobytes(), f"{where}: {got!r} != {want!r}"
        return
    assert type(got) is type(want), f"{where}: {type(got).__name__}, not {type(want).__name__}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        for k in want:
            same_tree(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{where}: {len(got)} items, not {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            same_tree(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert np.float64(got).tobytes() == np.float64(want).tobytes(), f"{where}: {got} != {want}"
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def check_model_views(tree, lo, hi, where="model"):
    """Every numpy array of a decoded model is a read-only view inside ``[lo, hi)``; returns
    how many there are."""
    if isinstance(tree, np.ndarray):
        assert not tree.flags.writeable, f"{where} is writeable"
        if tree.size:
            address = tree.__array_interface__["data"][0]
            assert lo <= address < hi, f"{where} is not a view of the mapping"
        return 1
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, (list, tuple)) else ()
    return sum(check_model_views(v, lo, hi, f"{where}[{k!r}]") for k, v in items)


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
    spec = brine_reader.File(str(VECTORS / f"{vector}.brine"))
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
                # Read without its Rust type, through the stored schema text: the same tree
                # as the spec reader's, its numeric vectors views of the (raw) mapping.
                # (A model saved from Python reads as its fields; its Value tree is compared.)
                python = "brine.python.schema" in info["metadata"]
                got = f._file.decode_model(name, brine._to_numpy) if python else f[name]
                same_tree(got, spec.model(name), f"{vector}: {name}")
                same_tree(f._file.decode_model(name, brine._to_numpy), got, f"{vector}: {name} again")
                if info["codec"] == "raw":
                    check_model_views(got, lo, hi, f"{vector}: {name}")
                with pytest.raises(brine.WrongKindError, match="is model, not array"):
                    f.array(name)
        f.verify()
    assert not c.failures, "\n".join(c.failures)


def invalid(vector):
    return json.loads((VECTORS / "invalid" / f"{vector}.json").read_text(encoding="utf-8"))


def limits(want):
    given = want.get("reader_options", {})
    names = {"max_manifest_length": "max_manifest_len"}
    return {names.get(k, k): v for k, v in given.items()}


# D8 and D9 are found by reading a model: without its Rust type, through its schema text.
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
def test_model_vectors_read_without_their_type(vector):
    """A model's damage is found reading it through its stored schema text, as a reader
    without the Rust type must (FORMAT.md D8, D9): the JSON's ``error_without_type`` (or its
    ``error``), or, where the text is another valid type's, the spec reader's tree."""
    want = invalid(vector)
    path = VECTORS / "invalid" / f"{vector}.brine"
    expected = want.get("error_without_type", want["error"])
    with brine.open(path) as f:
        models = [name for name in f if f.kind(name) == "model"]
        assert want["entry"] in models
        if expected is None:
            same_tree(f.model(want["entry"]), brine_reader.File(str(path)).model(want["entry"]))
            return
        with pytest.raises(class_for(expected)) as e:
            f[want["entry"]]
        assert e.value.kind == expected, str(e.value)
        assert e.value.file == str(path) and e.value.entry == want["entry"]
        # The failure is not cached as a success.
        with pytest.raises(class_for(expected)):
            f.model(want["entry"])
