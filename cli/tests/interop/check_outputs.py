"""Checks what `brine export` wrote against the references make_inputs.py wrote.

Usage: python3 check_outputs.py OUTDIR EXPORTDIR...

For every entry of OUTDIR/cases.json, EXPORTDIR/<output> must hold the reference's values bit
for bit: same dtype (little-endian), same shape, same bytes (NaN payloads included), and equal
under np.array_equal(equal_nan=True). A .npy export must also be byte-identical to what np.save
writes for the reference. A .safetensors export must load with the safetensors package (dtypes
numpy has) and, parsed by hand, hold exactly the reference's bytes.
Prints 'N passed, N failed' and exits 1 on any failure.
"""

import io
import json
import os
import struct
import sys

import numpy as np
import safetensors.numpy

out = sys.argv[1]
with open(os.path.join(out, "cases.json")) as f:
    cases = json.load(f)["cases"]

passed = failed = 0
ST_DTYPES = {"BOOL": "?", "U8": "u1", "I8": "i1", "U16": "<u2", "I16": "<i2", "U32": "<u4",
             "I32": "<i4", "U64": "<u8", "I64": "<i8", "F16": "<f2", "F32": "<f4", "F64": "<f8"}


def parse_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    assert n % 8 == 0, "header not padded to 8 bytes"
    header.pop("__metadata__", None)
    assert len(header) == 1, header
    ((name, info),) = header.items()
    begin, end = info["data_offsets"]
    data = raw[8 + n :]
    assert begin == 0 and end == len(data), (begin, end, len(data))
    return name, info["dtype"], info["shape"], data


def check(entry, path):
    ref_path = os.path.join(out, entry["ref"])
    if "dtype" in entry:  # raw reference bytes (bf16)
        with open(ref_path, "rb") as f:
            ref_bytes = f.read()
        name, dtype, shape, data = parse_safetensors(path)
        assert (name, dtype, shape) == (entry["name"], entry["dtype"], entry["shape"]), (name, dtype, shape)
        assert data == ref_bytes, "bytes differ"
        return
    ref = np.load(ref_path)
    if path.endswith(".npy"):
        got = np.load(path)
        with open(path, "rb") as f:
            exported = f.read()
        buf = io.BytesIO()
        np.save(buf, ref)
        assert exported == buf.getvalue(), "file differs from np.save of the reference"
    else:
        name, dtype, shape, data = parse_safetensors(path)
        assert name == entry["name"], name
        assert list(shape) == list(ref.shape), (shape, ref.shape)
        assert np.dtype(ST_DTYPES[dtype]) == ref.dtype, (dtype, ref.dtype)
        assert data == ref.tobytes(), "bytes differ"
        got = safetensors.numpy.load_file(path)[entry["name"]]
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert got.tobytes() == ref.tobytes(), "bytes differ"
    assert np.array_equal(got, ref, equal_nan=got.dtype.kind == "f"), "values differ"


for export_dir in sys.argv[2:]:
    for case in cases:
        for entry in case["entries"]:
            path = os.path.join(export_dir, entry["output"])
            try:
                check(entry, path)
                passed += 1
            except Exception as e:  # noqa: BLE001 - report every failure, then fail
                failed += 1
                print(f"FAIL {path} ({case['input']} entry {entry['name']!r}): {type(e).__name__}: {e}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
