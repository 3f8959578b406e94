"""brine's Python package against the tools it replaces, measured side by side in one run.

    python3 python/bench.py [--quick] [--dir DIR]

Writes its data (about 1.5 GB in all, or a tenth with --quick) to DIR (a temporary directory by
default), times each task and its peer on the same data in the same process, and prints a
table of medians and ratios (peer time / brine time: above 1 means brine is faster), with the
target of each row. Each pair is run alternately, brine then its peer, so that both see the
same machine. Files are read from the page cache: these are the costs of opening and
converting, not of the disk. Needs numpy, pandas, pyarrow and safetensors.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os

# numpy's OpenBLAS threads spin after use and take a core from whatever runs next; nothing
# here uses BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import pickle
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import safetensors
import safetensors.numpy

# Run as a script, this directory would come first on sys.path and `import brine` would find
# the package's sources (without its compiled core) rather than the installed package.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
import brine  # noqa: E402


def paired(brine_fn, peer_fn, repeat, collect=False):
    """Median wall times of ``brine_fn()`` and ``peer_fn()`` over ``repeat`` runs each,
    alternated (ABAB...) so that drift in the machine's state (page cache, frequency, memory)
    falls on both alike, after one warm-up run of each; and brine's last result.

    Each run's result is released before the next run, outside the timing. The garbage
    collector is paused while timing (a collection in the middle of a 20 us call would be
    measured as the call); ``collect`` runs one before each run, outside the timing, for
    tasks whose results hold large cycles (a DataFrame), at the price of cold caches, which
    only matters to microsecond tasks."""
    results = [brine_fn(), peer_fn()]
    times = ([], [])
    gc.disable()
    try:
        for _ in range(repeat):
            for k, fn in enumerate((brine_fn, peer_fn)):
                results[k] = None
                if collect:
                    gc.collect()
                t0 = time.perf_counter()
                results[k] = fn()
                times[k].append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(times[0]), statistics.median(times[1]), results[0]


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


ROWS = []


def row(task, brine_s, peer, peer_s, target=None, note=""):
    ratio = peer_s / brine_s
    met = "" if target is None else ("yes" if ratio >= target else "NO")
    ROWS.append((task, fmt(brine_s), peer, fmt(peer_s), f"{ratio:.1f}x", "" if target is None else f">= {target:g}x", met, note))


def bench_open_array(d, n, repeat):
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    npy = os.path.join(d, "x.npy")
    np.save(npy, x)
    st = os.path.join(d, "x.safetensors")
    safetensors.numpy.save_file({"x": x}, st)
    path = os.path.join(d, "x.brine")
    brine.save(path, x=x)

    def with_brine():
        with brine.open(path) as f:
            return f["x"]

    def with_np():
        return np.load(npy, mmap_mode="r")

    def with_safetensors():
        with safetensors.safe_open(st, framework="numpy") as f:
            return f.get_tensor("x")

    tb, tn, a = paired(with_brine, with_np, repeat)
    assert a[n - 1] == x[n - 1]
    tb2, ts, _ = paired(with_brine, with_safetensors, max(3, repeat // 20))
    size = f"{x.nbytes / 2**20:.0f} MiB f32"
    row(f"open + one array ({size})", tb, "np.load(mmap_mode='r')", tn, 3)
    row(f"open + one array ({size})", tb2, "safetensors get_tensor", ts, 1, "safetensors copies")


def frame(n):
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype=np.int64),
            "price": rng.standard_normal(n) * 10 + 100,
            "qty": pd.array(rng.integers(0, 100, n), dtype="Int64"),
            "ok": rng.integers(0, 2, n).astype(bool),
            "store": pd.Categorical.from_codes(rng.integers(0, 50, n), [f"store-{i}" for i in range(50)]),
            "at": pd.to_datetime(1_700_000_000 + np.arange(n) * 7, unit="s", utc=True).tz_convert("Europe/Paris"),
        }
    )


def bench_frame(d, n, repeat):
    df = frame(n)
    pkl = os.path.join(d, "df.pkl")
    df.to_pickle(pkl)
    fea = os.path.join(d, "df.feather")
    feather.write_feather(df, fea, compression="uncompressed")
    path = os.path.join(d, "df.brine")
    brine.save(path, df=df)

    def to_arrow():
        with brine.open(path) as f:
            return f.frame("df", to="arrow")

    def to_pandas():
        with brine.open(path) as f:
            return f["df"]

    def read_pickle():
        return pd.read_pickle(pkl)

    def read_feather():
        return feather.read_table(fea, memory_map=True).to_pandas()

    runs = max(5, repeat // 2)
    ta, tk, t = paired(to_arrow, read_pickle, runs, collect=True)
    assert t.num_rows == n
    tp, tk2, got = paired(to_pandas, read_pickle, runs, collect=True)
    pd.testing.assert_frame_equal(got, df)
    tp2, tf, _ = paired(to_pandas, read_feather, runs, collect=True)
    rows = f"{n / 1e6:g}M rows"
    row(f"frame -> pyarrow Table ({rows})", ta, "pd.read_pickle", tk, 50)
    row(f"frame -> pandas ({rows})", tp, "pd.read_pickle", tk2)
    row(f"frame -> pandas ({rows})", tp2, "feather (mmap) .to_pandas()", tf, 1, "uncompressed Feather")


def bench_compressed_save(d, n, repeat, level):
    rng = np.random.default_rng(2)
    cases = {
        # A sensor's random walk, read at a fixed precision: smooth data, as logged.
        "walk f64": np.round(np.cumsum(rng.standard_normal(n // 2)), 3),
        # Weights of a trained layer: noise around zero, the hard case.
        "weights f32": (rng.standard_normal(n) * 0.02).astype(np.float32),
    }
    for label, x in cases.items():
        path = os.path.join(d, "c.brine")
        npz = os.path.join(d, "c.npz")
        tb, tz, _ = paired(
            lambda: brine.save(path, x=x, compress="zstd", level=level),
            lambda: np.savez_compressed(npz, x=x),
            repeat,
            collect=True,
        )
        rb = x.nbytes / os.path.getsize(path)
        rz = x.nbytes / os.path.getsize(npz)
        assert np.array_equal(brine.load(path)["x"], x)
        size = f"{x.nbytes / 2**20:.0f} MiB {label}"
        row(f"zstd level {level} save ({size})", tb, "np.savez_compressed", tz, 20,
            f"ratio {rb:.3f} vs {rz:.3f}{'' if rb >= rz else ' (WORSE)'}")


@dataclasses.dataclass
class Big:
    """The model of bench_model (at module level: pickle finds classes by name)."""

    layers: "list[np.ndarray]"
    params: "dict[str, float]"
    names: "list[str]"


def bench_model(d, weights_bytes, fields, repeat):
    """A model of ``weights_bytes`` of numpy weights and ``fields`` small fields, saved and
    loaded with brine.save_model / load_model against pickle (and skops.io if installed)."""
    rng = np.random.default_rng(3)
    per = weights_bytes // 10 // 4
    model = Big(
        [rng.standard_normal(per).astype(np.float32) for _ in range(10)],
        {f"p{i}": float(i) / 7 for i in range(fields // 2)},
        [f"name-{i}" for i in range(fields // 2)],
    )
    path = os.path.join(d, "model.brine")
    pkl = os.path.join(d, "model.pkl")

    def save_brine():
        brine.save_model(path, "m", model)

    def save_pickle():
        with open(pkl, "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)

    def load_brine():
        return brine.load_model(path, "m", Big)

    def load_pickle():
        with open(pkl, "rb") as f:
            return pickle.load(f)

    ts, tp, _ = paired(save_brine, save_pickle, repeat, collect=True)
    tl, tq, got = paired(load_brine, load_pickle, repeat * 3, collect=True)
    assert np.array_equal(got.layers[9], model.layers[9]) and got.params == model.params
    label = f"{weights_bytes / 1e6:.0f} MB weights + {fields} fields"
    row(f"save_model ({label})", ts, "pickle.dump", tp)
    row(f"load_model ({label})", tl, "pickle.load", tq, 10, "weights are views")
    try:
        import skops.io as sio
    except ImportError:
        return
    sk = os.path.join(d, "model.skops")
    tl2, tk, _ = paired(load_brine, lambda: sio.load(sk, trusted=sio.get_untrusted_types(file=sk)),
                        repeat, collect=True) if sio.dump(model, sk) is None else (0, 0, None)
    row(f"load_model ({label})", tl2, "skops.io.load", tk)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a tenth of the data")
    p.add_argument("--dir", help="where to write the data (default: a temporary directory)")
    args = p.parse_args()
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        bench_open_array(d, 100_000_000 // 4 // scale, 200)
        bench_frame(d, 10_000_000 // scale, 20)
        for level in (3, 1):  # brine's default, and zstd's fastest standard level
            bench_compressed_save(d, 64 * 2**20 // 4 // scale, 3, level)
        bench_model(d, 100_000_000 // scale, 10_000, 5)
    head = ("task", "brine", "peer", "peer time", "ratio", "target", "met", "note")
    widths = [max(len(str(r[i])) for r in [head, *ROWS]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *ROWS]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    print(f"\nbrine {brine.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"pyarrow {pa.__version__}, safetensors {safetensors.__version__}; "
          f"ratio = peer time / brine time; median of repeated runs, page cache warm")


if __name__ == "__main__":
    main()
