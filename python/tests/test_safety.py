"""Hostile files, threads, and the GIL."""

import random
import threading
import time

import numpy as np
import pandas as pd
import pytest

import brine


def small_file(path):
    with brine.Writer(path, metadata={"k": "v"}) as w:
        w.put_array("raw", np.arange(64, dtype=np.float32).reshape(8, 8))
        w.put_array("z", np.arange(5000, dtype=np.int64), compress="zstd", chunk_len=4096)
        w.put_array("b", np.array([True, False] * 8))
        w.put_frame("t", pd.DataFrame({"s": ["a", None, "ccc"], "n": pd.array([1, None, 3], dtype="Int64"), "c": pd.Categorical(["x", "y", "x"])}))
        w.put_frame("tz", pd.DataFrame({"f": np.linspace(0, 1, 3000)}), compress="zstd", chunk_len=2048)


def read_everything(path):
    with brine.open(path) as f:
        for name in f:
            value = f[name]
            if isinstance(value, np.ndarray):
                value.sum()
                if value.ndim:
                    f.lazy(name)[: len(value) // 2 + 1]
            f.info(name)
        f.metadata
        f.verify()


def test_damaged_files_raise_brine_errors_only(tmp_path):
    good = tmp_path / "good.brine"
    small_file(good)
    read_everything(good)
    data = good.read_bytes()
    rng = random.Random(1234)
    kinds = {}
    bad = tmp_path / "bad.brine"
    for trial in range(400):
        mutated = bytearray(data)
        if trial % 5 == 0:
            mutated = mutated[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 4)):
                # Mostly the header and manifest, where the structure is.
                at = rng.randrange(len(data)) if rng.random() < 0.5 else rng.randrange(len(data) - 4096, len(data))
                mutated[at] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(mutated))
        try:
            read_everything(bad)
        except brine.Error as e:
            assert str(bad) in str(e), e
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
    # Damage was found, of several kinds (the rest hit padding or unchecked-until-verify data).
    assert sum(kinds.values()) > 300 and len(kinds) >= 4, kinds


def test_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.brine"
    with pytest.raises(brine.IoError) as e:
        brine.open(missing)
    assert isinstance(e.value, OSError) and e.value.file == str(missing)
    text = tmp_path / "text.brine"
    text.write_text("not a brine file, but long enough to have a header " * 10)
    with pytest.raises(brine.CorruptFileError, match="not a brine file") as e:
        brine.open(text)
    assert e.value.kind == "NotBrine" and isinstance(e.value, ValueError)
    good = tmp_path / "good.brine"
    small_file(good)
    (tmp_path / "short.brine").write_bytes(good.read_bytes()[:200])
    with pytest.raises(brine.CorruptFileError, match="truncated"):
        brine.open(tmp_path / "short.brine")
    with pytest.raises(brine.CopyRequiredError):
        brine.open(good, require_zero_copy=True)["z"]
    with pytest.raises(brine.LimitExceededError):
        brine.open(good, max_decompressed_bytes=1000)["z"]


def test_threads_read_one_file_at_once(tmp_path):
    path = tmp_path / "shared.brine"
    arrays = {f"a{i}": np.random.default_rng(i).standard_normal(20_000) for i in range(8)}
    table = pd.DataFrame({"x": np.arange(10_000), "s": [f"s{i}" for i in range(10_000)]})
    with brine.Writer(path) as w:
        for i, (name, a) in enumerate(arrays.items()):
            w.put_array(name, a, compress="zstd" if i % 2 else None, chunk_len=16384)
        w.put_frame("t", table, compress="zstd")
    f = brine.open(path)
    errors = []
    start = threading.Barrier(8)

    def work(k):
        try:
            start.wait()
            for round in range(20):
                for name, a in arrays.items():
                    got = f[name] if (round + k) % 2 else f.lazy(name)[100:200]
                    want = a if (round + k) % 2 else a[100:200]
                    assert np.array_equal(got, want)
                assert f["t"]["s"].iloc[-1] == "s9999"
        except Exception as e:  # reported below, with the thread's number
            errors.append((k, e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    f.close()


def ran_during(call):
    """Whether another Python thread ran while ``call`` was in the middle of its work."""
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.0005)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.01)
    t0 = time.perf_counter()
    call()
    t1 = time.perf_counter()
    done.set()
    t.join()
    middle = (t0 + 0.25 * (t1 - t0), t0 + 0.75 * (t1 - t0))
    return t1 - t0, any(middle[0] <= x <= middle[1] for x in ticks)


def test_the_gil_is_released_while_compressing_verifying_and_decompressing(tmp_path):
    data = np.random.default_rng(0).standard_normal(8_000_000)  # 64 MB
    path = tmp_path / "big.brine"
    w = brine.Writer(path)
    took, ran = ran_during(lambda: w.put_array("x", data, compress="zstd", level=6))
    assert ran, f"no other thread ran during {took:.3f} s of compression"
    w.finish()
    f = brine.open(path)
    took, ran = ran_during(f.verify)
    assert ran, f"no other thread ran during {took:.3f} s of verify"
    took, ran = ran_during(lambda: f["x"])
    assert ran, f"no other thread ran during {took:.3f} s of decompression"
    assert np.array_equal(f["x"], data)
