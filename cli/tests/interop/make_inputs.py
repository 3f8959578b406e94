"""Writes the inputs of the CLI interop test with the real tools (numpy, safetensors).

Usage: python3 make_inputs.py OUTDIR

Writes OUTDIR/inputs/* (files to import), OUTDIR/refs/* (what each entry must read back as:
a little-endian, C-order .npy of the original values, or raw bytes for bf16), OUTDIR/bad/*
(inputs that must be refused) and OUTDIR/cases.json, which cli/tests/cli.rs and check_outputs.py
both read:

{"cases": [{"input": "inputs/f4.npy",
            "entries": [{"name": "f4", "ref": "refs/f4.npy", "output": "f4.npy"}]}],
 "bad": [{"input": "bad/object.npy", "message": "pickled"}]}

An entry's "output" is the file `brine export` writes it to (its extension chooses the format);
"dtype" is set for references that numpy cannot hold (bf16: the reference is raw bytes).
"""

import json
import os
import struct
import sys
import zipfile

import numpy as np
import safetensors.numpy

out = sys.argv[1]
for sub in ("inputs", "refs", "bad"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)

rng = np.random.default_rng(5)
cases = []
bad = []


def ref_npy(name, a):
    """Saves the values of `a` as little-endian C order; returns the path relative to out."""
    # (not np.ascontiguousarray: it turns a 0-d array into a 1-d one)
    le = a.astype(a.dtype.newbyteorder("<"), order="C", copy=True)
    path = f"refs/{name}.npy"
    np.save(os.path.join(out, path), le)
    return path


def sample(dtype, shape):
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype.kind == "b":
        return (rng.integers(0, 2, n) == 1).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        native = dtype.newbyteorder("=")
        values = rng.integers(info.min, info.max, n, dtype=native, endpoint=True)
        return values.astype(dtype).reshape(shape)
    values = rng.standard_normal(n).astype(dtype)
    if n >= 8:
        values[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return values.reshape(shape)


# --- .npy: every dtype, both byte orders, C and Fortran order, 0-d, zero-length ---
numeric = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"]
arrays = {}
for code in numeric:
    tag = {"?": "bool"}.get(code, code)
    arrays[f"le_{tag}"] = sample("<" + code if code != "?" else code, (3, 5))
    if np.dtype(code).itemsize > 1:
        arrays[f"be_{tag}"] = sample(">" + code, (4, 3))
arrays["f_order_2d"] = np.asfortranarray(sample("<f4", (6, 7)))
arrays["f_order_3d_be"] = np.asfortranarray(sample(">i4", (3, 4, 5)))
arrays["f_order_bool"] = np.asfortranarray(sample("?", (5, 2)))
arrays["scalar"] = np.array(3.5, dtype="<f8")
arrays["scalar_i2_be"] = np.array(-7, dtype=">i2")
arrays["empty"] = np.zeros((0,), dtype="<f4")
arrays["empty_2d"] = np.zeros((3, 0), dtype="<i8")
arrays["special_f8"] = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308])
arrays["special_f2"] = np.array([np.nan, np.inf, -np.inf, -0.0, 6e-8, 65504], dtype="<f2")
# A NaN with a payload: must come back bit for bit.
arrays["nan_payload"] = np.array([0x7FF8DEADBEEF0001], dtype="<u8").view("<f8")
arrays["big_f4"] = sample("<f4", (1 << 20,))  # 4 MiB: more than one piece and one chunk
for name, a in arrays.items():
    np.save(os.path.join(out, "inputs", f"{name}.npy"), a)
    assert np.load(os.path.join(out, "inputs", f"{name}.npy")).flags.f_contiguous == a.flags.f_contiguous
    cases.append({
        "input": f"inputs/{name}.npy",
        "entries": [{"name": name, "ref": ref_npy(name, a), "output": f"{name}.npy"}],
    })

# --- .npz: stored (np.savez) and deflated (np.savez_compressed) members ---
members = {
    "weights": sample("<f4", (16, 8)),
    "ids": sample(">i8", (10,)),
    "mask": sample("?", (4, 4)),
    "fortran": np.asfortranarray(sample("<f8", (5, 3))),
    "scalar": np.array(1, dtype="u1"),
    "half": sample("<f2", (33,)),
}
for kind, save in (("stored", np.savez), ("deflated", np.savez_compressed)):
    path = os.path.join(out, "inputs", f"{kind}.npz")
    save(path, **members)
    with zipfile.ZipFile(path) as z:
        methods = {i.compress_type for i in z.infolist()}
        want = zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED
        assert methods == {want}, (kind, methods)
    cases.append({
        "input": f"inputs/{kind}.npz",
        "entries": [
            {"name": m, "ref": ref_npy(f"{kind}_{m}", a), "output": f"{kind}_{m}.npy"}
            for m, a in members.items()
        ],
    })

# --- .safetensors: every numeric dtype through the safetensors package ---
tensors = {f"t.{code}": sample("<" + code if code != "?" else code, (2, 3)) for code in numeric}
tensors["t.empty"] = np.zeros((0, 4), dtype="<f4")
tensors["t.scalar"] = np.array(2.25, dtype="<f4")
safetensors.numpy.save_file(tensors, os.path.join(out, "inputs", "model.safetensors"),
                            metadata={"format": "np", "author": "make_inputs.py"})
cases.append({
    "input": "inputs/model.safetensors",
    "entries": [
        {"name": n, "ref": ref_npy("st_" + n.replace(".", "_"), a),
         "output": "st_" + n.replace(".", "_") + ".safetensors"}
        for n, a in tensors.items()
    ],
})


def write_safetensors_by_hand(path, header, data):
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(body)))
        f.write(body)
        f.write(data)


# bf16 has no numpy dtype: build the file's bytes by hand. bf16 is the top half of an f32.
f32 = np.array([1.0, -2.5, np.nan, np.inf, -np.inf, 3.140625, -0.0, 1e-38], dtype="<f4")
bits = (f32.view("<u4") >> 16).astype("<u2")
write_safetensors_by_hand(
    os.path.join(out, "inputs", "bf16.safetensors"),
    {"w": {"dtype": "BF16", "shape": [2, 4], "data_offsets": [0, bits.nbytes]}},
    bits.tobytes(),
)
with open(os.path.join(out, "refs", "bf16.bin"), "wb") as f:
    f.write(bits.tobytes())
cases.append({
    "input": "inputs/bf16.safetensors",
    "entries": [{"name": "w", "ref": "refs/bf16.bin", "dtype": "BF16", "shape": [2, 4],
                 "output": "bf16_w.safetensors"}],
})

# --- inputs that must be refused, each with a phrase the one-line error must contain ---
np.save(os.path.join(out, "bad", "object.npy"), np.array([{"a": 1}, None], dtype=object),
        allow_pickle=True)
bad.append({"input": "bad/object.npy", "message": "pickled"})

np.save(os.path.join(out, "bad", "complex.npy"), np.zeros(3, dtype="c8"))
bad.append({"input": "bad/complex.npy", "message": "not supported"})

np.save(os.path.join(out, "bad", "strings.npy"), np.array(["a", "bc"]))
bad.append({"input": "bad/strings.npy", "message": "not supported"})

np.save(os.path.join(out, "bad", "structured.npy"), np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))
bad.append({"input": "bad/structured.npy", "message": "structured"})

full = os.path.join(out, "bad", "full.npy")
np.save(full, sample("<f8", (100,)))
with open(full, "rb") as f:
    raw = f.read()
with open(os.path.join(out, "bad", "truncated.npy"), "wb") as f:
    f.write(raw[: len(raw) - 100])
os.remove(full)
bad.append({"input": "bad/truncated.npy", "message": "truncated"})

with open(os.path.join(out, "bad", "header_cut.npy"), "wb") as f:
    f.write(raw[:40])
bad.append({"input": "bad/header_cut.npy", "message": "truncated"})

path = os.path.join(out, "bad", "not_array.npz")
np.savez(path, ok=np.arange(3))
with zipfile.ZipFile(path, "a") as z:
    z.writestr("readme.txt", "not an array")
bad.append({"input": "bad/not_array.npz", "message": "not an array"})

np.savez(os.path.join(out, "bad", "pickled_member.npz"), ok=np.arange(3),
         obj=np.array([None, 1], dtype=object))
bad.append({"input": "bad/pickled_member.npz", "message": "pickled"})

with open(os.path.join(out, "bad", "not_zip.npz"), "wb") as f:
    f.write(b"PK\x03\x04 but not really a zip file")
bad.append({"input": "bad/not_zip.npz", "message": "npz"})

write_safetensors_by_hand(
    os.path.join(out, "bad", "overlap.safetensors"),
    {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
     "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}},
    bytes(24),
)
bad.append({"input": "bad/overlap.safetensors", "message": "overlap"})

write_safetensors_by_hand(
    os.path.join(out, "bad", "fp8.safetensors"),
    {"a": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}},
    bytes(4),
)
bad.append({"input": "bad/fp8.safetensors", "message": "F8_E4M3"})

write_safetensors_by_hand(
    os.path.join(out, "bad", "out_of_bounds.safetensors"),
    {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
    bytes(8),
)
bad.append({"input": "bad/out_of_bounds.safetensors", "message": "outside"})

write_safetensors_by_hand(
    os.path.join(out, "bad", "wrong_len.safetensors"),
    {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}},
    bytes(16),
)
bad.append({"input": "bad/wrong_len.safetensors", "message": "needs 12"})

with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump({"cases": cases, "bad": bad}, f, indent=1)
print(f"{len(cases)} cases, {len(bad)} bad inputs in {out}")
