"""A reader of brine datasets written from spec/DATASET.md alone, on top of ``brine_reader``.

    ds = brine_dataset.Dataset("flights")       # reads and checks the index (X1-X9)
    ds.shards                                   # [Shard(path, rows, bytes, partition, stats)]
    ds.column("distance")                       # one column across every shard, in order
    ds.verify()                                 # every shard: Y1-Y7, and its file's verify

Errors are ``InvalidDataset`` (with ``field`` and ``shard``) or the ``brine_reader`` error of
the file at fault.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

import brine_reader as br

INDEX_FILE = "_brine_index.brine"
MAX_SHARDS = 1 << 24
MAX_PATH_LEN = 1024
SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
PATH_BYTES = SAFE | set(b"=%")
PARTITIONABLE = {"utf8", "categorical", "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32",
                 "u64"}


class InvalidDataset(br.BrineError):
    """The index, or a shard measured against it, breaks a rule of DATASET.md."""

    def __init__(self, message, *, file=None, field=None, rule=None, shard=None):
        super().__init__((f"shard {shard!r}: " if shard else "") + message, file=file,
                         field=field, rule=rule)
        self.shard = shard


@dataclasses.dataclass
class Shard:
    path: str
    rows: int
    bytes: int
    partition: list      # [(column, value)]
    stats: dict          # column -> (null_count, (min, max) or None)


def escape(value: str) -> str:
    """§5: percent-encoding of every byte outside [A-Za-z0-9._-], uppercase hex."""
    return "".join(chr(b) if b in SAFE else f"%{b:02X}" for b in value.encode("utf-8"))


def _domain(ctype: str):
    """The type of a column's min:/max: columns (§3), None for columns without a range."""
    if ctype in ("utf8", "binary") or ctype.startswith("categorical"):
        return None
    if ctype in ("u8", "u16", "u32", "u64"):
        return "u64"
    if ctype in ("f16", "f32", "f64"):
        return "f64"
    return "i64"


def check_path(path: str):
    """X4, or the reason it fails."""
    raw = path.encode("utf-8")
    if not raw or len(raw) > MAX_PATH_LEN:
        return f"{len(raw)} bytes"
    parts = path.split("/")
    for c in parts:
        if c in ("", ".", ".."):
            return "an empty, . or .. component"
        if any(b not in PATH_BYTES for b in c.encode("utf-8")):
            return f"component {c!r} has a byte outside [A-Za-z0-9._=%-]"
    name = parts[-1]
    if not name.endswith(".brine") or name[0] in "_.":
        return f"file name {name!r}"
    return None


class Dataset:
    def __init__(self, root):
        self.root = root
        self._opened = {}
        f = self._open_file(INDEX_FILE)

        def bad(message, field, rule, shard=None):
            return InvalidDataset(message, file=root, field=field, rule=rule, shard=shard)

        meta = f.metadata
        if meta.get("brine.dataset") != 1 or isinstance(meta.get("brine.dataset"), bool):
            raise bad(f"brine.dataset is {meta.get('brine.dataset')!r}, not 1",
                      "brine.dataset", "X2")
        self.kind = meta.get("brine.dataset.kind")
        if self.kind not in ("frame", "arrays"):
            raise bad(f"kind {self.kind!r}", "brine.dataset.kind", "X2")
        self.version = meta.get("brine.dataset.version")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or \
                self.version < 1:
            raise bad(f"version {self.version!r}", "brine.dataset.version", "X2")
        expected = ["schema", "shards"] if self.kind == "frame" else ["arrays", "shards"]
        entries = f.entries()
        if [e.name for e in entries] != expected or any(e.kind != "frame" for e in entries):
            raise bad(f"entries {[e.name for e in entries]}", "entries", "X3")
        self.schema = []
        if self.kind == "frame":
            e = f.entry("schema")
            if e.rows != 0:
                raise bad("the schema frame has rows", "schema", "X3")
            self.schema = [(c.name, c.type) for c in e.columns]
        e = f.entry("shards")
        if e.rows > MAX_SHARDS:
            raise bad(f"{e.rows} shards", "shards", "X9")
        cols = e.columns
        values = f.frame("shards")

        def expect(at, name, ctype, nullable=False):
            if at >= len(cols) or cols[at].name != name or cols[at].type != ctype:
                got = (cols[at].name, cols[at].type) if at < len(cols) else None
                raise bad(f"column {at} is {got}, expected {(name, ctype)}", "columns", "X3")
            if not nullable and cols[at].null_count:
                raise bad(f"column {name!r} has nulls", "columns", "X3")
            return values[name]

        paths = expect(0, "path", "utf8")
        rows = [int(x) for x in expect(1, "rows", "u64")]
        sizes = [int(x) for x in expect(2, "bytes", "u64")]
        at, self.partition_by, parts = 3, [], []
        types = dict(self.schema)
        while at < len(cols) and cols[at].name.startswith("part:"):
            name = cols[at].name[5:]
            if name not in types or types[name].split("[")[0] not in PARTITIONABLE or \
                    name in self.partition_by:
                raise bad(f"partition column {name!r}", "columns", "X6")
            parts.append(expect(at, cols[at].name, "utf8"))
            self.partition_by.append(name)
            at += 1
        stat_cols = []
        for name, ctype in self.schema:
            nulls = [int(x) for x in expect(at, f"nulls:{name}", "u64")]
            at += 1
            d = _domain(ctype)
            if d is None:
                stat_cols.append((name, nulls, None))
                continue
            lo = expect(at, f"min:{name}", d, nullable=True)
            hi = expect(at + 1, f"max:{name}", d, nullable=True)
            at += 2
            stat_cols.append((name, nulls, (lo, hi)))
        if at != len(cols):
            raise bad(f"{len(cols)} columns, {at} expected", "columns", "X3")

        def cell(arr, i):
            if isinstance(arr, np.ma.MaskedArray) and np.ma.getmaskarray(arr)[i]:
                return None
            v = np.ma.getdata(arr)[i]
            return float(v) if isinstance(v, (float, np.floating)) else int(v)

        self.shards, seen, total = [], set(), 0
        for i, path in enumerate(paths):
            reason = check_path(path)
            if reason:
                raise bad(reason, "path", "X4", path)
            if path in seen:
                raise bad("listed twice", "path", "X5", path)
            seen.add(path)
            partition = [(k, p[i]) for k, p in zip(self.partition_by, parts)]
            folders = path.split("/")[:-1]
            if folders != [f"{escape(k)}={escape(v)}" for k, v in partition]:
                raise bad(f"folders {folders} are not the partition values {partition}",
                          "path", "X6", path)
            total += rows[i]
            if total >= 1 << 63:
                raise bad("rows overflow 2^63", "rows", "X7", path)
            stats = {}
            for name, nulls, rng in stat_cols:
                if nulls[i] > rows[i]:
                    raise bad(f"column {name!r}: {nulls[i]} nulls", "stats", "X7", path)
                r = None
                if rng is not None:
                    a, b = cell(rng[0], i), cell(rng[1], i)
                    if (a is None) != (b is None) or (a is not None and (
                            (isinstance(a, float) and (math.isnan(a) or math.isnan(b)))
                            or not a <= b)):
                        raise bad(f"column {name!r}: min {a}, max {b}", "stats", "X7", path)
                    r = None if a is None else (a, b)
                stats[name] = (nulls[i], r)
            self.shards.append(Shard(path, rows[i], sizes[i], partition, stats))
        self.arrays = []
        if self.kind == "arrays":
            self._read_arrays(f, bad)

    def _read_arrays(self, f, bad):
        a = f.frame("arrays")
        cols = [(c.name, c.type) for c in f.entry("arrays").columns]
        if cols != [("name", "utf8"), ("shard", "u64"), ("dtype", "utf8"), ("shape", "utf8")]:
            raise bad(f"arrays columns {cols}", "arrays", "X8")
        counts = [0] * len(self.shards)
        names = [n.encode("utf-8") for n in a["name"]]
        if any(not n for n in names) or any(x >= y for x, y in zip(names, names[1:])):
            raise bad("array names are not sorted, unique and non-empty", "arrays", "X8")
        dtype_names = {n for n, _, _ in br.DTYPES.values()}
        for name, s, dt, shape in zip(a["name"], a["shard"], a["dtype"], a["shape"]):
            s = int(s)
            if s >= len(self.shards) or dt not in dtype_names:
                raise bad(f"array {name!r}: shard {s}, dtype {dt!r}", "arrays", "X8")
            dims = [] if shape == "" else shape.split(",")
            if any(not d.isdigit() for d in dims) or len(dims) > 64:
                raise bad(f"array {name!r}: shape {shape!r}", "arrays", "X8")
            counts[s] += 1
            self.arrays.append((name, s, dt, [int(d) for d in dims]))
        for sh, n in zip(self.shards, counts):
            if sh.rows != n:
                raise bad(f"{n} arrays, rows say {sh.rows}", "rows", "X8", sh.path)

    def _open_file(self, rel):
        path = os.path.join(self.root, *rel.split("/"))
        return br.File(path)

    @property
    def rows(self):
        return sum(s.rows for s in self.shards)

    def open_shard(self, i) -> "br.File":
        """Shard ``i``, opened and checked against the index (Y1-Y6) once."""
        if i in self._opened:
            return self._opened[i]
        s = self.shards[i]

        def bad(message, field, rule):
            return InvalidDataset(message, file=self.root, field=field, rule=rule,
                                  shard=s.path)

        f = self._open_file(s.path)                                          # Y1
        entries = f.entries()
        if self.kind == "frame":
            if [(e.name, e.kind) for e in entries] != [("data", "frame")]:  # Y2
                raise bad(f"entries {[e.name for e in entries]}", "entries", "Y2")
            e = entries[0]
            if [(c.name, c.type) for c in e.columns] != self.schema:       # Y3
                raise bad("its columns are not the schema", "schema", "Y3")
            if e.rows != s.rows:                                           # Y4
                raise bad(f"{e.rows} rows, the index says {s.rows}", "rows", "Y4")
            for c in e.columns:                                            # Y5
                null_count, rng = s.stats[c.name]
                own = None if c.stats is None else tuple(c.stats)
                if c.null_count != null_count or own != rng:
                    raise bad(f"column {c.name!r}: ({c.null_count}, {own}) in the shard, "
                              f"({null_count}, {rng}) in the index", "stats", "Y5")
        else:
            mine = sorted((n, dt, shape) for n, sh, dt, shape in self.arrays if sh == i)
            have = sorted((e.name, e.dtype, list(e.shape)) for e in entries if e.kind == "array")
            if len(entries) != len(mine) or have != mine:
                raise bad("its arrays are not the index's", "arrays", "Y2")
        if os.path.getsize(os.path.join(self.root, *s.path.split("/"))) != s.bytes:  # Y6
            raise bad("its length is not the index's bytes", "bytes", "Y6")
        self._opened[i] = f
        return f

    def column(self, name) -> list:
        """Column ``name`` over every shard, in index order, as a list (None for nulls)."""
        out = []
        for i in range(len(self.shards)):
            values = self.open_shard(i).frame("data", columns=[name])[name]
            if isinstance(values, br.Categorical):
                values = values.values()
            elif isinstance(values, np.ndarray) and values.dtype.kind in "mM":
                values = values.view("<i8")     # temporal values as their integers
            if isinstance(values, np.ma.MaskedArray):
                out.extend(None if m else v for v, m in zip(values.data.tolist(),
                                                            np.ma.getmaskarray(values)))
            elif isinstance(values, np.ndarray):
                out.extend(values.tolist())
            else:
                out.extend(values)
        return out

    def verify(self):
        """§9: every shard opened (Y1-Y6), its file verified (V1-V3, D11), and Y7."""
        for i, s in enumerate(self.shards):
            f = self.open_shard(i)
            f.verify()
            if self.kind != "frame":
                continue
            for k, v in s.partition:
                values = self.column_of(f, k)
                if any(x != v for x in values):
                    raise InvalidDataset(f"a row of {k!r} is not {v!r}", file=self.root,
                                         field="partition", rule="Y7", shard=s.path)

    @staticmethod
    def column_of(f, name):
        values = f.frame("data", columns=[name])[name]
        if isinstance(values, br.Categorical):
            return values.values()
        if isinstance(values, np.ma.MaskedArray) and np.ma.getmaskarray(values).any():
            return [None]
        if isinstance(values, np.ndarray):
            if values.dtype == bool:
                return ["true" if x else "false" for x in values.tolist()]
            return [str(x) for x in values.tolist()]
        return values

