"""Arrays: every dtype and shape, raw and compressed, zero copy, lifetime, input forms."""

import os

import ml_dtypes
import numpy as np
import pytest

import brine

DTYPES = [
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.float16, np.float32, np.float64, ml_dtypes.bfloat16,
]
SHAPES = [(), (0,), (3, 0, 2), (7,), (2, 3, 4), (2, 1, 3, 2, 2)]
CODECS = [dict(compress=None), dict(compress="zstd"), dict(compress="zstd", shuffle=False)]


def test_the_shuffle_is_chosen_on_a_sample(tmp_path):
    rng = np.random.default_rng(5)
    weights = (rng.standard_normal(1 << 18) * 0.02).astype(np.float32)
    # Decimals rounded to 3 digits, as f64: the shuffle loses here.
    decimals = np.round(np.cumsum(rng.standard_normal(1 << 18)), 3)
    path = tmp_path / "s.brine"
    brine.save(path, weights=weights, decimals=decimals, compress="zstd")
    brine.save(tmp_path / "forced.brine", weights=weights, decimals=decimals, compress="zstd", shuffle=True)
    with brine.open(path) as f, brine.open(tmp_path / "forced.brine") as g:
        assert f.info("weights")["codec"] == "zstd+shuffle"
        assert f.info("decimals")["codec"] == "zstd"
        assert g.info("decimals")["codec"] == "zstd+shuffle"
        assert f.info("decimals")["stored_bytes"] < 0.8 * g.info("decimals")["stored_bytes"]
        same(f["decimals"], decimals)


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape, dtype=np.int64))
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        flat = rng.integers(0, 2, n).astype(bool)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        flat = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    else:
        flat = (rng.standard_normal(n) * 100).astype(dtype)
        if n >= 3:
            flat[:3] = np.array([np.nan, np.inf, -0.0]).astype(dtype)
    return flat.reshape(shape)


def same(a, b):
    """Equal dtype, shape and bits (NaN payloads and -0.0 included)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("codec", CODECS, ids=["raw", "zstd+shuffle", "zstd"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_and_shape_round_trips(tmp_path, dtype, shape, codec):
    a = sample(dtype, shape)
    path = tmp_path / "a.brine"
    brine.save(path, a=a, **codec)
    with brine.open(path) as f:
        got = f["a"]
        same(got, a)
        assert not got.flags.writeable
        info = f.info("a")
        assert info["shape"] == shape and info["kind"] == "array"
        if codec["compress"] is None:
            assert info["codec"] == "raw"
        elif "shuffle" in codec or a.itemsize == 1:
            assert info["codec"] == "zstd"
        else:  # chosen on a sample
            assert info["codec"] in ("zstd", "zstd+shuffle")


def test_raw_arrays_are_views_into_the_mapping(tmp_path):
    path = tmp_path / "a.brine"
    arrays = {np.dtype(d).name: sample(d, (1000,)) for d in DTYPES}
    brine.save(path, arrays)
    with brine.open(path) as f:
        lo, hi = f.mapped_range()
        for name, a in arrays.items():
            got = f[name]
            start = got.__array_interface__["data"][0]
            assert lo <= start and start + got.nbytes <= hi, name
            assert got.base is not None  # the buffer that owns the mapping
            with pytest.raises(ValueError):
                got[0] = got[1]


def test_compressed_arrays_are_decoded_outside_the_mapping(tmp_path):
    path = tmp_path / "a.brine"
    a = np.arange(1 << 20, dtype=np.float64)
    brine.save(path, a=a, compress="zstd")
    with brine.open(path) as f:
        info = f.info("a")
        assert info["stored_bytes"] < info["nbytes"] // 4 and info["chunks"] == 8
        lo, hi = f.mapped_range()
        got = f["a"]
        assert not lo <= got.__array_interface__["data"][0] < hi
        same(got, a)
        # The reader keeps one decoded copy: a second read does not decode again.
        assert f["a"].__array_interface__["data"][0] == got.__array_interface__["data"][0]


def test_lazy_rows_of_compressed_arrays(tmp_path):
    path = tmp_path / "a.brine"
    a = sample(np.float32, (1000, 33), seed=3)
    brine.save(path, a=a, compress="zstd")
    with brine.Writer(tmp_path / "chunks.brine") as w:
        w.put_array("a", a, compress="zstd", chunk_len=4096)
    for p in [path, tmp_path / "chunks.brine"]:
        with brine.open(p) as f:
            lazy = f.lazy("a")
            assert lazy.shape == a.shape and lazy.dtype == a.dtype and len(lazy) == 1000
            same(lazy[10:20], a[10:20])
            same(lazy[-5:], a[-5:])
            same(lazy[990:2000], a[990:2000])
            same(lazy[5], a[5])
            same(lazy[-1], a[-1])
            same(lazy[3:900:7], a[3:900:7])
            same(lazy[900:3:-7], a[900:3:-7])
            same(lazy[20:10], a[20:10])
            same(lazy[4:8, 2:5], a[4:8, 2:5])
            same(lazy[[1, 5, 9]], a[[1, 5, 9]])
            same(np.asarray(lazy), a)
            with pytest.raises(IndexError):
                lazy[1000]
    with brine.open(tmp_path / "chunks.brine") as f:
        assert f.info("a")["chunks"] == -(-a.nbytes // 4096)


def test_lazy_rows_decompress_only_their_chunks(tmp_path):
    path = tmp_path / "a.brine"
    a = np.arange(1 << 20, dtype=np.float64)  # 8 MiB in 8 chunks of 1 MiB
    brine.save(path, a=a, compress="zstd")
    info = brine.open(path).info("a")
    assert info["chunks"] == 8
    # Damage the last chunk: rows of the first one still read, the whole array does not.
    data = bytearray(path.read_bytes())
    data[info["offset"] + info["stored_bytes"] - 20] ^= 0xFF
    path.write_bytes(bytes(data))
    with brine.open(path) as f:
        same(f.lazy("a")[1000:2000], a[1000:2000])
        same(f.lazy("a")[-(1 << 17) - 5 : -(1 << 17)], a[-(1 << 17) - 5 : -(1 << 17)])
        with pytest.raises(brine.CorruptFileError) as e:
            f["a"]
        assert e.value.entry == "a" or 'entry "a"' in str(e.value)


def test_lazy_zero_d_and_empty(tmp_path):
    path = tmp_path / "a.brine"
    brine.save(path, s=np.float64(2.5), e=np.zeros((0, 3), np.int16), compress="zstd")
    with brine.open(path) as f:
        assert f.lazy("s")[()] == 2.5
        assert f.lazy("e")[0:5].shape == (0, 3)


def test_arrays_outlive_close_and_replacement(tmp_path):
    path = tmp_path / "a.brine"
    old = np.arange(100_000, dtype=np.int64)
    brine.save(path, a=old, z=old * 2, compress=None)
    brine.save(path.with_suffix(".z"), a=old, compress="zstd")
    f = brine.open(path)
    a, z = f["a"], brine.open(path.with_suffix(".z"))["a"]
    f.close()
    assert f.closed
    with pytest.raises(ValueError, match="closed"):
        f["a"]
    # Replace the file on disk (brine writes a temporary file and renames it over).
    brine.save(path, a=-old)
    os.replace(path, tmp_path / "moved.brine")
    del f
    same(a, old)
    same(z, old)
    assert brine.load(tmp_path / "moved.brine")["a"][1] == -1


def test_non_contiguous_fortran_and_byte_swapped_inputs(tmp_path):
    path = tmp_path / "a.brine"
    base = sample(np.float64, (6, 8), seed=1)
    inputs = {
        "fortran": np.asfortranarray(base),
        "strided": base[::2, 1::3],
        "transposed": base.T,
        "big_endian": base.astype(">f8"),
        "big_i32": np.arange(10, dtype=">i4"),
        "list": [[1, 2], [3, 4]],
        "scalar": np.int16(-3),
        "matrix": np.matrix([[1.0, 2.0]]),
    }
    brine.save(path, inputs)
    got = brine.load(path)
    for name, value in inputs.items():
        want = np.ascontiguousarray(np.asarray(value))
        want = want.astype(want.dtype.newbyteorder("="))
        assert type(got[name]) is np.ndarray
        np.testing.assert_array_equal(got[name], want, err_msg=name)
        assert got[name].dtype == want.dtype and got[name].dtype.isnative


@pytest.mark.parametrize(
    "value, match",
    [
        (np.array(["a", None], dtype=object), "object arrays are refused"),
        (np.array(["ab", "c"]), "has no brine dtype"),
        (np.zeros(3, dtype=np.complex64), "has no brine dtype"),
        (np.zeros(3, dtype="datetime64[ns]"), "has no brine dtype"),
        (np.zeros(2, dtype=[("x", "i4")]), "structured dtype"),
        (np.ma.masked_array([1, 2], mask=[0, 1]), "mask would be lost"),
    ],
)
def test_unsupported_arrays_are_refused_and_the_target_untouched(tmp_path, value, match):
    path = tmp_path / "a.brine"
    brine.save(path, keep=np.ones(3))
    with pytest.raises((TypeError, ValueError), match=match):
        brine.save(path, good=np.zeros(2), bad=value)
    assert list(brine.open(path)) == ["keep"]


def test_bool_bytes_are_normalized(tmp_path):
    raw = np.array([0, 1, 2, 255], dtype=np.uint8)
    brine.save(tmp_path / "b.brine", b=raw.view(np.bool_))
    got = brine.open(tmp_path / "b.brine")["b"]
    assert got.view(np.uint8).tolist() == [0, 1, 1, 1]


def test_metadata_file_and_entry(tmp_path):
    path = tmp_path / "m.brine"
    meta = {"s": "é", "i": -(2**63), "f": 0.5, "t": True, "b": b"\x00\xff"}
    with brine.Writer(path, metadata=meta) as w:
        w.put_array("a", np.zeros(2), metadata={"unit": "m", "n": 3})
    with brine.open(path) as f:
        assert f.metadata == meta
        assert f.info("a")["metadata"] == {"unit": "m", "n": 3}
        # The writer writes the lowest version that holds the content.
        assert f.version == "1.0" and brine.FORMAT_VERSION == "1.1"
    with pytest.raises(ValueError, match="does not fit in 64 bits"):
        brine.Writer(tmp_path / "x.brine", metadata={"big": 2**64})
    with pytest.raises(TypeError, match="must be str, int, float, bool or bytes"):
        brine.Writer(tmp_path / "x.brine", metadata={"l": [1]})


def test_writer_aborts_on_exception_and_names_duplicates(tmp_path):
    path = tmp_path / "w.brine"
    brine.save(path, old=np.zeros(1))
    with pytest.raises(RuntimeError):
        with brine.Writer(path) as w:
            w.put_array("new", np.ones(4))
            raise RuntimeError("stop")
    assert list(brine.open(path)) == ["old"]
    with pytest.raises(brine.InvalidInputError, match="duplicate") as e:
        with brine.Writer(path) as w:
            w.put_array("x", np.ones(1))
            w.put_array("x", np.ones(1))
    assert e.value.kind == "Duplicate" and e.value.entry == "x"
    assert list(brine.open(path)) == ["old"]
    w = brine.Writer(path)
    w.finish()
    with pytest.raises(ValueError, match="finished or aborted"):
        w.put_array("late", np.ones(1))
    assert list(brine.open(path)) == []


def test_load_and_mapping_protocol(tmp_path):
    path = tmp_path / "l.brine"
    brine.save(path, {"with space": np.arange(3)}, b=np.ones(2, np.float32))
    got = brine.load(path)
    assert sorted(got) == ["b", "with space"]
    with brine.open(path) as f:
        assert "b" in f and "c" not in f and len(f) == 2
        assert f.keys() == {"b", "with space"}
        assert f.kind("b") == "array"
        with pytest.raises(KeyError):
            f["c"]
        with pytest.raises(brine.NotFoundError) as e:
            f.info("c")
        assert e.value.entry == "c" and e.value.file == str(path)
