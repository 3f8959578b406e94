#!/usr/bin/env python3
"""Reads the random files that ``tests/python_reader.rs`` writes and compares them with the
content it gave the writer (``DIR/expected.json``). Prints one line per failure and exits
non-zero if there is any.

    python3 spec/reader-python/check_random.py DIR

``expected.json`` is ``{"seed", "files": [{"path", "alignment", "metadata", "entries"}]}``,
entries in the order they were written, each ``{"name", "kind", "metadata", ...}``:

- array: ``dtype``, ``shape``, ``codec`` (``raw``, ``zstd``, ``zstd+shuffle``) and ``hex``, the
  elements' little-endian bytes in C order;
- frame: ``rows``, ``batched`` and ``columns``: ``{"name", "type", "codec", "null_count",
  "values"}``, one value per row, ``null`` for a null row;
- model: ``type_name``, ``fingerprint``, ``version`` (a decimal string or ``null``), ``codec``
  and ``value``.

Metadata is ``[[key, type, value]]`` in key order. Values: integers as JSON numbers (or
decimal strings above 64 bits), floats as the hex bits of their type's width in frames and
of their f64 widening in models and metadata, bytes as hex, strings as strings, model
structs as objects, tuples and tuple structs as lists, unit structs as ``null``, enums as
``{variant: payload}``.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import brine_reader as br  # noqa: E402

WIDTH = {"f16": 2, "f32": 4, "f64": 8}


def f64_bits(x: float) -> str:
    return f"{struct.unpack('<Q', struct.pack('<d', x))[0]:#018x}"


def canonical(v):
    """A decoded model value in the JSON encoding of expected.json."""
    if isinstance(v, np.ndarray):
        return [canonical(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return f64_bits(v)
    if isinstance(v, (list, tuple)):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    raise TypeError(f"unexpected value {v!r}")


def same(got, want) -> bool:
    """Equality of canonical values; a 128-bit integer is a decimal string."""
    if isinstance(want, str) and isinstance(got, int) and not isinstance(got, bool):
        return str(got) == want
    if isinstance(want, dict):
        # Object keys compare as sets (serde_json sorts them); "<key>_order" lists the keys of
        # map "<key>" in the order the archive must hold them (a B-tree's key order).
        keys = [k for k in want if not (k.endswith("_order") and k[:-6] in want)]
        return isinstance(got, dict) and sorted(got) == sorted(keys) and \
            all(same(got[k], want[k]) for k in keys) and \
            all(list(got[k[:-6]]) == want[k] for k in want if k not in keys)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and \
            all(same(g, w) for g, w in zip(got, want))
    return type(got) is type(want) and got == want


def meta(items):
    out = []
    for key, typ, value in items:
        if typ == "float":
            value = f64_bits(value)
        elif typ == "bytes":
            value = value.hex()
        out.append([key, typ, value])
    return out


class Check:
    def __init__(self, where):
        self.where = where
        self.failures = []

    def eq(self, what, got, want):
        if got != want:
            if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
                i = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
                self.fail(f"{what}[{i}]: got {got[i]!r}, expected {want[i]!r}")
            else:
                g, w = repr(got), repr(want)
                self.fail(f"{what}: got {g[:300]}, expected {w[:300]}")
            return False
        return True

    def fail(self, message):
        self.failures.append(f"{self.where}: {message}")


def column_values(col: br.Column, values):
    """A frame column's values in the JSON encoding, ``None`` for null rows."""
    if col.kind == "categorical":
        return values.values()
    if col.kind in ("utf8", "binary"):
        return [v.hex() if isinstance(v, bytes) else v for v in values]
    mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else None
    data = np.ma.getdata(values)
    if col.dtype in WIDTH and col.kind == "primitive":
        w = WIDTH[col.dtype]
        out = [f"{b:#0{2 * w + 2}x}" for b in data.view(f"<u{w}").tolist()]
    elif col.kind in ("timestamp", "duration", "date"):
        out = data.astype("<i8").tolist() if col.kind == "date" else data.view("<i8").tolist()
    else:
        out = data.tolist()
    if mask is not None:
        out = [None if m else v for v, m in zip(out, mask.tolist())]
    return out


def expected_stats(col: br.Column, values):
    """The statistics FORMAT.md §8.5 requires: (min, max) of the non-null values, NaN
    ignored, or None."""
    if col.kind in ("utf8", "binary", "categorical"):
        return None
    data = np.ma.getdata(values)
    valid = ~np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) \
        else np.ones(len(data), bool)
    if col.kind in ("timestamp", "duration"):
        xs = data.view("<i8")[valid].tolist()
    elif col.kind == "date":
        xs = data.astype("<i8")[valid].tolist()
    elif col.kind == "bool":
        xs = data[valid].astype(int).tolist()
    elif col.dtype in WIDTH:
        xs = [float(x) for x in data[valid].tolist() if not math.isnan(x)]
    else:
        xs = data[valid].tolist()
    return (min(xs), max(xs)) if xs else None


def check_file(root, spec) -> list:
    path = os.path.join(root, spec["path"])
    c = Check(spec["path"])
    try:
        f = br.File(path)
    except br.BrineError as e:
        return [f"{spec['path']}: open failed: {type(e).__name__}: {e}"]
    c.eq("alignment", f.alignment, spec["alignment"])
    c.eq("file metadata", meta(f.metadata_types()), spec["metadata"])
    want_names = sorted((e["name"] for e in spec["entries"]), key=lambda n: n.encode("utf-8"))
    c.eq("entry names (sorted by bytes)", [e.name for e in f.entries()], want_names)
    for w in spec["entries"]:
        name = w["name"]
        c.where = f"{spec['path']}: entry {name!r}"
        try:
            e = f.entry(name)
            c.eq("kind", e.kind, w["kind"])
            c.eq("metadata", meta(f.metadata_types(name)), w["metadata"])
            if e.kind == "array":
                check_array(c, f, e, w)
            elif e.kind == "frame":
                check_frame(c, f, e, w)
            elif e.kind == "model":
                check_model(c, f, e, w)
        except br.BrineError as ex:
            c.fail(f"{type(ex).__name__}: {ex}")
    c.where = spec["path"]
    try:
        f.verify()
    except br.BrineError as ex:
        c.fail(f"verify: {type(ex).__name__}: {ex}")
    return c.failures


def check_array(c, f, e, w):
    c.eq("dtype", e.dtype, w["dtype"])
    c.eq("shape", list(e.shape), w["shape"])
    c.eq("codec", e.codec, w["codec"])
    arr = f.array(e.name)
    c.eq("numpy shape", list(arr.shape), w["shape"])
    c.eq("bytes", arr.tobytes().hex(), w["hex"])
    if e.codec == "raw" and arr.size:
        if not br.is_view_of(arr, f):
            c.fail("a raw array is not a view of the mapping")
        if arr.ctypes.data % 64:
            c.fail("a raw array does not start on a multiple of 64")


def check_frame(c, f, e, w):
    c.eq("rows", e.rows, w["rows"])
    frame = f.frame(e.name)
    c.eq("column names", list(frame), [col["name"] for col in w["columns"]])
    for col, wc in zip(e.columns, w["columns"]):
        what = f"column {col.name!r}"
        c.eq(f"{what} type", col.type, wc["type"])
        c.eq(f"{what} codec", col.codec, wc["codec"])
        c.eq(f"{what} null_count", col.null_count, wc["null_count"])
        values = frame[col.name]
        got = column_values(col, values)
        c.eq(f"{what} values", got, wc["values"])
        # FORMAT.md §8.3: a validity bitmap exactly when there are nulls
        c.eq(f"{what} has a validity bitmap", "validity" in col.buffers, col.null_count > 0)
        stats = expected_stats(col, values)
        if col.stats is None or stats is None:
            c.eq(f"{what} stats", col.stats, stats)
        elif stats[0] != col.stats[0] or stats[1] != col.stats[1]:       # -0.0 == 0.0
            c.fail(f"{what} stats: got {col.stats}, the values range over {stats}")
    if w["columns"]:
        # one column alone: only it is read and checked
        first = w["columns"][-1]["name"]
        part = f.frame(e.name, columns=[first])
        c.eq("partial read", list(part), [first])


def check_model(c, f, e, w):
    c.eq("type_name", e.type_name, w["type_name"])
    c.eq("fingerprint", f"{e.fingerprint:#018x}", w["fingerprint"])
    c.eq("version", None if e.version is None else str(e.version), w["version"])
    c.eq("codec", e.codec, w["codec"])
    schema = f.schema(e.name)
    c.eq("root line of the schema", schema.root.text, e.type_name)
    c.eq("recomputed fingerprint", f"{schema.fingerprint:#018x}", w["fingerprint"])
    value = canonical(f.model(e.name, expected_fingerprint=int(w["fingerprint"], 16)))
    if not same(value, w["value"]):
        c.fail(f"value: got {json.dumps(value)[:400]}, expected {json.dumps(w['value'])[:400]}")


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    root = argv[1]
    expected = json.load(open(os.path.join(root, "expected.json"), encoding="utf-8"))
    failures = []
    kinds = {}
    for spec in expected["files"]:
        for e in spec["entries"]:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        failures += check_file(root, spec)
    for line in failures:
        print(line)
    print(f"check_random: seed {expected.get('seed')}, {len(expected['files'])} files, "
          f"{sum(kinds.values())} entries ({', '.join(f'{v} {k}s' for k, v in sorted(kinds.items()))})"
          f", {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
