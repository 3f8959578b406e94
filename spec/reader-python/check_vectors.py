#!/usr/bin/env python3
"""Checks brine_reader against the golden files of spec/vectors/.

Every valid vector ``X.brine`` is read (open, every entry, verify) and compared with ``X.json``
beside it; every invalid vector ``invalid/X.brine`` must raise exactly the error its
``invalid/X.json`` names, at the tier it names. Prints one line per failure and exits non-zero
if there is any.

    python3 spec/reader-python/check_vectors.py [VECTORS_DIR]
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

FLOAT_WIDTH = {"f16": 2, "bf16": 2, "f32": 4, "f64": 8}


# ---------------------------------------------------------------------------------------------
# The JSON encoding of spec/vectors/README.md, "Value encoding"


def float_bits(value: float, width: int) -> int:
    """The bit pattern of ``value`` rounded to a float of ``width`` bytes."""
    if width == 8:
        return struct.unpack("<Q", struct.pack("<d", value))[0]
    if width == 4:
        return struct.unpack("<I", struct.pack("<f", value))[0]
    return int(np.array(value, dtype="<f2").view("<u2"))


def parse_float(text: str) -> float:
    special = {"NaN": math.nan, "inf": math.inf, "-inf": -math.inf}
    return special[text] if text in special else float(text)


def check_float(text: str, bits: int, dtype: str) -> bool:
    """The JSON float string ``text`` denotes the value of ``bits`` (shortest round-trip
    decimal; for f16/bf16, the shortest decimal that round-trips through f32)."""
    value = parse_float(text)
    width = FLOAT_WIDTH[dtype]
    if dtype == "bf16":
        f32 = bits << 16
        if math.isnan(value):
            return (f32 >> 23) & 0xFF == 0xFF and f32 & 0x7FFFFF != 0
        return float_bits(value, 4) == f32
    if math.isnan(value):
        return math.isnan(bits_to_float(bits, width))
    return float_bits(value, width) == bits


def bits_to_float(bits: int, width: int) -> float:
    if width == 8:
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    if width == 4:
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    return float(np.array(bits, dtype="<u2").view("<f2"))


def hex_bits(bits: int, width: int) -> str:
    return f"0x{bits:0{2 * width}x}"


def element_json(dtype: str, x):
    """An element as the golden files write it (floats are compared through ``bits``)."""
    if dtype == "bool":
        return bool(x)
    if dtype in ("i64", "u64"):
        return str(int(x))
    return int(x)


def meta_json(items):
    out = []
    for key, typ, value in items:
        d = {"key": key, "type": typ}
        if typ == "int":
            d["value"] = str(value)
        elif typ == "float":
            d["bits"] = hex_bits(float_bits(value, 8), 8)
            d["value"] = value
        elif typ == "bytes":
            d["value"] = value.hex()
        else:
            d["value"] = value
        out.append(d)
    return out


def _short(x, limit=200):
    text = repr(x)
    return text if len(text) <= limit else text[:limit] + "..."


class Checker:
    def __init__(self, vector):
        self.vector = vector
        self.failures = []

    def fail(self, message):
        self.failures.append(f"{self.vector}: {message}")

    def eq(self, what, got, want):
        if got != want:
            if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
                i = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
                self.fail(f"{what}[{i}]: got {got[i]!r}, expected {want[i]!r}")
            else:
                self.fail(f"{what}: got {_short(got)}, expected {_short(want)}")
            return False
        return True

    def metadata(self, what, items, want):
        got = meta_json(items)
        if len(got) != len(want):
            self.fail(f"{what}: {len(got)} items, expected {len(want)}")
            return
        for g, w in zip(got, want):
            if w["type"] == "float":
                self.eq(f"{what} {w['key']!r} bits", g["bits"], w["bits"])
                if not check_float(w["value"], int(w["bits"], 16), "f64"):
                    self.fail(f"{what} {w['key']!r}: {w['value']} is not {w['bits']}")
                self.eq(f"{what} key", g["key"], w["key"])
            else:
                self.eq(f"{what} {w['key']!r}", g, w)

    def floats(self, what, dtype, arr, values, bits, mask=None):
        """Float elements against the JSON's ``values`` (strings) and ``bits``."""
        width = FLOAT_WIDTH[dtype]
        raw = np.ma.getdata(arr).reshape(-1).view(f"<u{width}").tolist()
        m = [False] * len(raw) if mask is None else list(mask)
        if not self.eq(f"{what} length", len(raw), len(values)):
            return
        for i, (b, null, v, wb) in enumerate(zip(raw, m, values, bits)):
            if v is None or null:
                self.eq(f"{what}[{i}] null", bool(null), v is None)
                self.eq(f"{what}[{i}] null bits", wb is None, v is None)
                continue
            self.eq(f"{what}[{i}] bits", hex_bits(b, width), wb)
            if not check_float(v, int(wb, 16), dtype):
                self.fail(f"{what}[{i}]: {v} is not the value of {wb}")


def check_valid(path_brine, path_json) -> list:
    want = json.load(open(path_json, encoding="utf-8"))
    c = Checker(os.path.basename(path_brine))
    try:
        f = br.File(path_brine)
    except br.BrineError as e:
        c.fail(f"open failed: {type(e).__name__}: {e}")
        return c.failures
    c.eq("format_version", f"{f.version[0]}.{f.version[1]}", want["format_version"])
    h = want["header"]
    for key in ("alignment", "manifest_offset", "manifest_length", "file_length"):
        c.eq(f"header {key}", f.header[key], h[key])
    c.eq("header manifest_checksum", f"0x{f.header['manifest_checksum']:016x}",
         h["manifest_checksum"])
    c.metadata("file metadata", f.metadata_types(), want["metadata"])

    # sections
    got_sections = [dict(codec=s.codec, offset=s.offset, length=s.length,
                         checksum=f"0x{s.checksum:016x}", raw_length=s.raw_length,
                         chunk_length=s.chunk_length, shuffle=s.shuffle,
                         chunks=[dict(offset=o, length=n, checksum=f"0x{k:016x}")
                                 for o, n, k in s.chunks]) for s in f.sections]
    c.eq("sections", got_sections, want["sections"])

    entries = f.entries()
    c.eq("entry names", [e.name for e in entries], [e["name"] for e in want["entries"]])
    for e, w in zip(entries, want["entries"]):
        what = f"entry {e.name!r}"
        c.eq(f"{what} kind", e.kind, w["kind"])
        c.metadata(f"{what} metadata", f.metadata_types(e.name), w["metadata"])
        try:
            if e.kind == "array":
                check_array(c, f, e, w)
            elif e.kind == "frame":
                check_frame(c, f, e, w)
            else:
                check_model(c, f, e, w)
        except br.BrineError as ex:
            c.fail(f"{what}: {type(ex).__name__}: {ex}")
    try:
        f.verify()
    except br.BrineError as ex:
        c.fail(f"verify: {type(ex).__name__}: {ex}")
    return c.failures


def check_array(c, f, e, w):
    what = f"array {e.name!r}"
    c.eq(f"{what} dtype", e.dtype, w["dtype"])
    c.eq(f"{what} shape", list(e.shape), w["shape"])
    c.eq(f"{what} codec", e.codec, w["codec"])
    c.eq(f"{what} section", e.section, w["section"])
    arr = f.array(e.name)
    c.eq(f"{what} numpy shape", list(arr.shape), w["shape"])
    if e.codec == "raw" and arr.size:
        # zero-copy: the array is a view whose base chain reaches the mmap
        if not br.is_view_of(arr, f):
            c.fail(f"{what}: a raw array is not a view of the mapping")
    if e.dtype in FLOAT_WIDTH:
        c.floats(what, e.dtype, arr, w["values"], w["bits"])
    else:
        c.eq(f"{what} values", [element_json(e.dtype, x) for x in arr.reshape(-1).tolist()],
             w["values"])


def check_frame(c, f, e, w):
    what = f"frame {e.name!r}"
    c.eq(f"{what} rows", e.rows, w["rows"])
    frame = f.frame(e.name)
    c.eq(f"{what} column names", list(frame.keys()), [col["name"] for col in w["columns"]])
    for col, wc in zip(e.columns, w["columns"]):
        cw = f"{what} column {col.name!r}"
        c.eq(f"{cw} type", col.type, wc["type"])
        c.eq(f"{cw} codec", col.codec, wc["codec"])
        c.eq(f"{cw} null_count", col.null_count, wc["null_count"])
        c.eq(f"{cw} buffers", col.buffers, wc["buffers"])
        if "metadata" in wc:    # files of version 1.1 (§8.7)
            c.metadata(f"{cw} metadata", col.metadata, wc["metadata"])
        elif col.metadata:
            c.fail(f"{cw}: metadata {col.metadata} in a file whose JSON lists none")
        # statistics
        if wc["stats"] is None or col.stats is None:
            c.eq(f"{cw} stats", col.stats, wc["stats"])
        elif col.dtype in FLOAT_WIDTH:
            c.eq(f"{cw} min_bits", hex_bits(col.stats_bits[0], 8), wc["stats"]["min_bits"])
            c.eq(f"{cw} max_bits", hex_bits(col.stats_bits[1], 8), wc["stats"]["max_bits"])
            for k, v in zip(("min", "max"), col.stats):
                if not check_float(wc["stats"][k], float_bits(v, 8), "f64"):
                    c.fail(f"{cw} stats {k}: {wc['stats'][k]} != {v!r}")
        else:
            c.eq(f"{cw} stats", {"min": str(col.stats[0]), "max": str(col.stats[1])},
                 wc["stats"])
        values = frame[col.name]
        n = len(wc["values"])
        if col.kind == "categorical":
            codes = values.codes
            mask = np.ma.getmaskarray(codes)
            c.eq(f"{cw} codes", [None if m else int(x) for x, m in
                                 zip(np.ma.getdata(codes).tolist(), mask)], wc["codes"])
            c.eq(f"{cw} dictionary", values.dictionary, wc["dictionary"])
            c.eq(f"{cw} values", values.values(), wc["values"])
            continue
        if col.kind in ("utf8", "binary"):
            got = [v.hex() if isinstance(v, bytes) else v for v in values]
            c.eq(f"{cw} values", got, wc["values"])
            continue
        mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) \
            else np.zeros(len(values), bool)
        if col.null_count == 0 and isinstance(values, np.ma.MaskedArray) and \
                "validity" not in col.buffers:
            c.fail(f"{cw}: a masked array without a validity bitmap")
        data = np.ma.getdata(values)
        if col.dtype in FLOAT_WIDTH:
            c.floats(cw, col.dtype, data, wc["values"], wc["bits"], mask)
            continue
        if col.kind in ("timestamp", "duration"):
            ints = data.view("<i8").tolist()
            got = [None if m else str(x) for x, m in zip(ints, mask)]
        elif col.kind == "date":
            ints = data.astype("<i8").tolist()
            got = [None if m else int(x) for x, m in zip(ints, mask)]
        else:
            got = [None if m else element_json(col.dtype, x)
                   for x, m in zip(data.tolist(), mask)]
        c.eq(f"{cw} values", got, wc["values"])
        c.eq(f"{cw} length", len(got), n)


def model_matches(got, want, c, what):
    """Compares a decoded model value with the JSON's ``value``: floats are strings with a
    sibling ``<field>_bits``; enums are ``{variant: payload}`` with ``{}`` for a unit variant."""
    if isinstance(want, dict):
        if got is None and want == {}:
            return
        if isinstance(got, tuple):
            got = {str(i): v for i, v in enumerate(got)}
        if not isinstance(got, dict):
            c.fail(f"{what}: got {got!r}, expected an object {want!r}")
            return
        keys = [k for k in want if not (k.endswith("_bits") and k[:-5] in want)]
        c.eq(f"{what} keys", sorted(got), sorted(keys))
        for k in keys:
            bits = want.get(f"{k}_bits")
            if bits is not None:
                vals = want[k] if isinstance(want[k], list) else [want[k]]
                bl = bits if isinstance(bits, list) else [bits]
                g = np.atleast_1d(np.asarray(got.get(k), dtype=None))
                width = (len(bl[0]) - 2) // 2 if bl else 4
                dt = {2: "f16", 4: "f32", 8: "f64"}[width]
                if g.dtype.kind != "f":
                    g = g.astype(f"<f{width}")
                c.floats(f"{what}.{k}", dt, g.astype(f"<f{width}"), vals, bl)
            else:
                model_matches(got.get(k), want[k], c, f"{what}.{k}")
    elif isinstance(want, list):
        g = list(got) if got is not None else None
        if not c.eq(f"{what} length", len(g) if g is not None else None, len(want)):
            return
        for i, (x, y) in enumerate(zip(g, want)):
            model_matches(x, y, c, f"{what}[{i}]")
    else:
        if isinstance(got, np.generic):
            got = got.item()
        if isinstance(want, str) and isinstance(got, int) and not isinstance(got, bool):
            got = str(got)          # 64- and 128-bit integers are decimal strings in the JSON
        c.eq(what, got, want)


def check_model(c, f, e, w):
    what = f"model {e.name!r}"
    c.eq(f"{what} type_name", e.type_name, w["type_name"])
    c.eq(f"{what} version", None if e.version is None else str(e.version), w["version"])
    c.eq(f"{what} fingerprint", f"0x{e.fingerprint:016x}", w["fingerprint"])
    c.eq(f"{what} codec", e.codec, w["codec"])
    c.eq(f"{what} section", e.section, w["section"])
    c.eq(f"{what} archive_length", f.sections[e.section].raw_length, w["archive_length"])
    c.eq(f"{what} schema", e.schema, w["schema"])
    c.eq(f"{what} recomputed fingerprint", f.schema(e.name).fingerprint, e.fingerprint)
    model_matches(f.model(e.name), w["value"], c, f"{what} value")


# ---------------------------------------------------------------------------------------------
# Invalid vectors


READER_OPTIONS = {"max_manifest_length": "max_manifest_len",
                  "max_decompressed_bytes": "max_decompressed_bytes",
                  "max_model_depth": "max_model_depth"}


def _read_entry(f: br.File, spec, name):
    """Reads entry ``name`` as an invalid vector says: one column of a frame, a model as the
    type whose fingerprint it gives."""
    e = f.entry(name)
    if e.kind == "array":
        f.array(name)
    elif e.kind == "frame":
        column = spec.get("column") if name == spec.get("entry") else None
        f.frame(name, columns=[column] if column is not None else None)
    else:
        fp = spec.get("expected_fingerprint") if name == spec.get("entry") else None
        f.model(name, expected_fingerprint=int(fp, 16) if fp else None)


def check_invalid(path_brine, path_json) -> list:
    """An invalid vector: ``error`` raised at ``tier`` (1 open, 2 reading ``entry`` (and
    ``column``), 3 verify, after every entry read fine when ``readable``), with the
    ``field``, ``location`` and ``entry`` the JSON names."""
    spec = json.load(open(path_json, encoding="utf-8"))
    name = os.path.basename(path_brine)
    expected, tier, rule = spec["error"], spec["tier"], spec["rule"]
    where = f"invalid/{name} (rule {rule}, tier {tier})"
    data = open(path_brine, "rb").read()
    if len(data) != spec["file_length"] or f"{br.xxh3(data):#018x}" != spec["file_xxh3"]:
        return [f"{where}: the file is not the one its JSON describes (length or xxh3)"]
    if not hasattr(br, expected):
        return [f"{where}: the JSON names an unknown error {expected!r}"]
    options = {READER_OPTIONS[k]: v for k, v in spec.get("reader_options", {}).items()}
    stage = "open"
    try:
        f = br.File(path_brine, **options)
        if tier == 2:
            stage = "access"
            targets = [spec["entry"]] if "entry" in spec else [e.name for e in f.entries()]
            for n in targets:
                _read_entry(f, spec, n)
            if rule == "D11":
                # Verify checks D11 too (FORMAT.md §14.8): a fresh reader must fail the same.
                try:
                    br.File(path_brine, **options).verify()
                    return [f"{where}: verify passes, but it must check D11"]
                except br.BrineError as e:
                    if type(e).__name__ != expected or e.field != spec.get("field"):
                        return [f"{where}: verify raised {type(e).__name__} ({e})"]
        elif tier == 3:
            stage = "reading entries"
            if spec.get("readable"):
                for e in f.entries():
                    _read_entry(f, spec, e.name)
            stage = "verify"
            f.verify()
    except br.BrineError as e:
        got = type(e).__name__
        wanted_stage = {1: "open", 2: "access", 3: "verify"}[tier]
        if got != expected or stage != wanted_stage:
            return [f"{where}: {got} at {stage} ({e}), expected {expected} at {wanted_stage}"]
        problems = []
        for key, attr in (("field", "field"), ("location", "location"), ("entry", "entry")):
            if key in spec and spec[key] != getattr(e, attr):
                problems.append(f"{key} {getattr(e, attr)!r}, expected {spec[key]!r}")
        if problems:
            return [f"{where}: {got} ({e}): " + "; ".join(problems)]
        return []
    except Exception as e:                                  # a crash: never acceptable
        return [f"{where}: crashed at {stage} with {type(e).__name__}: {e}"]
    return [f"{where}: no error, expected {expected}"]


def _fmt(v):
    """A value as the dataset JSON writes it: strings for numbers (floats as Rust's ``{:?}``)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else repr(v)
    return str(v)


def check_datasets(root) -> tuple:
    """spec/vectors/datasets: each ``X/`` read with ``brine_dataset`` and compared with
    ``X.json``; each ``invalid/X/`` must raise ``InvalidDataset`` with the JSON's field, at
    its stage (``open``, ``shard`` or ``verify``)."""
    import brine_dataset as bd
    failures, valid, invalid = [], 0, 0
    if not os.path.isdir(root):
        return failures, valid, invalid
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if name == "invalid" or not os.path.isdir(folder):
            continue
        valid += 1
        where = f"datasets/{name}"
        try:
            exp = json.load(open(folder + ".json", encoding="utf-8"))
            ds = bd.Dataset(folder)
            got = {"version": ds.version, "kind": ds.kind, "rows": ds.rows,
                   "schema": [{"name": n, "type": t} for n, t in ds.schema],
                   "partition_by": ds.partition_by}
            for k, v in got.items():
                if exp[k] != v:
                    failures.append(f"{where}: {k} {v!r}, expected {exp[k]!r}")
            shards = [{"path": s.path, "rows": s.rows, "bytes": s.bytes,
                       "partition": [list(p) for p in s.partition],
                       "stats": {c: {"null_count": n, "range": None if r is None
                                     else [_fmt(r[0]), _fmt(r[1])]}
                                 for c, (n, r) in s.stats.items()}} for s in ds.shards]
            if shards != exp["shards"]:
                failures.append(f"{where}: shards {shards}, expected {exp['shards']}")
            for c, values in exp["columns"].items():
                col = [_fmt(v) for v in ds.column(c)]
                if col != values:
                    failures.append(f"{where}: column {c} {col}, expected {values}")
            ds.verify()
        except br.BrineError as e:
            failures.append(f"{where}: {type(e).__name__}: {e}")
    inv = os.path.join(root, "invalid")
    for name in sorted(os.listdir(inv)) if os.path.isdir(inv) else []:
        if not name.endswith(".json"):
            continue
        invalid += 1
        spec = json.load(open(os.path.join(inv, name), encoding="utf-8"))
        where = f"datasets/invalid/{spec['vector']} (rule {spec['rule']})"
        stage = "open"
        try:
            ds = bd.Dataset(os.path.join(inv, spec["vector"]))
            stage = "shard"
            for i in range(len(ds.shards)):
                ds.open_shard(i)
            stage = "verify"
            ds.verify()
            failures.append(f"{where}: no error")
        except br.BrineError as e:
            if type(e).__name__ != spec["error"] or stage != spec["stage"] or \
                    e.field != spec["field"]:
                failures.append(f"{where}: {type(e).__name__} at {stage} (field {e.field}: "
                                f"{e}), expected {spec['error']} at {spec['stage']} "
                                f"(field {spec['field']})")
        except Exception as e:                              # a crash: never acceptable
            failures.append(f"{where}: crashed at {stage} with {type(e).__name__}: {e}")
    return failures, valid, invalid


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(HERE, "..", "vectors")
    failures, valid, invalid = [], 0, 0
    for name in sorted(os.listdir(root)):
        if name.endswith(".brine"):
            j = os.path.join(root, name[:-6] + ".json")
            if not os.path.exists(j):
                failures.append(f"{name}: no JSON beside it")
                continue
            failures += check_valid(os.path.join(root, name), j)
            valid += 1
    inv = os.path.join(root, "invalid")
    if os.path.isdir(inv):
        for name in sorted(os.listdir(inv)):
            if name.endswith(".brine"):
                j = os.path.join(inv, name[:-6] + ".json")
                if not os.path.exists(j):
                    failures.append(f"invalid/{name}: no JSON beside it")
                    continue
                failures += check_invalid(os.path.join(inv, name), j)
                invalid += 1
    ds_failures, ds_valid, ds_invalid = check_datasets(os.path.join(root, "datasets"))
    failures += ds_failures
    for line in failures:
        print(line)
    print(f"check_vectors: {ds_valid} valid and {ds_invalid} invalid datasets")
    print(f"check_vectors: {valid} valid and {invalid} invalid vectors, "
          f"{len(failures)} failure(s)")
    if valid == 0:
        print("check_vectors: no vector found in", root)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
