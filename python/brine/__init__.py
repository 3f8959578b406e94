"""brine: numpy arrays and data frames in memory-mapped, validated files.

What ``pickle``, ``DataFrame.to_pickle`` and ``np.savez_compressed`` do, without running code
from the file, without copying to read, and without ever leaving a half-written file::

    import brine
    brine.save("data.brine", weights=w, sales=df, compress="zstd")
    with brine.open("data.brine") as f:     # O(metadata): nothing is read yet
        w = f["weights"]                     # numpy view into the mapping: no copy
        df = f["sales"]                      # the pandas DataFrame that was saved

The package is a thin layer over the ``brine`` Rust crate (``brine._brine``): every byte of a
file is validated there before it is trusted, and the GIL is released while files are opened,
verified, compressed, decompressed and written.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple, Union

import numpy as np

from . import _brine
from .errors import (
    CopyRequiredError,
    CorruptFileError,
    Error,
    InvalidInputError,
    IoError,
    LimitExceededError,
    NotFoundError,
    RangeError,
    SchemaMismatchError,
    UnsupportedVersionError,
    WrongKindError,
)

__all__ = [
    "save_model",
    "load_model",
    "schema_of",
    "open",
    "load",
    "save",
    "File",
    "Writer",
    "LazyArray",
    "FORMAT_VERSION",
    "Error",
    "CorruptFileError",
    "UnsupportedVersionError",
    "LimitExceededError",
    "SchemaMismatchError",
    "WrongKindError",
    "CopyRequiredError",
    "NotFoundError",
    "InvalidInputError",
    "RangeError",
    "IoError",
]

__version__ = "0.1.0"

from .models import load_model, plain_model, save_model, schema_of  # noqa: E402

#: The format version this build reads and writes.
FORMAT_VERSION: str = _brine.format_version()

PathLike = Union[str, "os.PathLike[str]"]
Compress = Optional[str]


# -------------------------------------------------------------------------------------------
# Arrays


def _bfloat16() -> Any:
    try:
        import ml_dtypes
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "bf16 arrays need the ml_dtypes package (pip install ml_dtypes)"
        ) from e
    return ml_dtypes.bfloat16


_NUMPY_DTYPES = {
    "bool": np.bool_,
    "i8": np.int8,
    "i16": np.int16,
    "i32": np.int32,
    "i64": np.int64,
    "u8": np.uint8,
    "u16": np.uint16,
    "u32": np.uint32,
    "u64": np.uint64,
    "f16": np.float16,
    "f32": np.float32,
    "f64": np.float64,
}


def _numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype of a brine dtype name (``"f32"``, ``"bf16"``...)."""
    return np.dtype(_bfloat16() if name == "bf16" else _NUMPY_DTYPES[name])


def _to_numpy(buffer: Any, dtype: str) -> np.ndarray:
    """The ndarray over an ``ArrayBuffer``: numpy keeps the buffer (and so the file's mapping)
    as the array's base; the array is read-only."""
    array = np.asarray(buffer)
    if dtype == "bf16":
        array = array.view(_bfloat16())
    return array


def _prepare_array(name: str, value: Any) -> np.ndarray:
    """``value`` as an ndarray the core can write from its memory: C order, aligned, native
    byte order. Fortran-ordered and strided arrays are copied to C order, other byte orders
    converted; arrays already in that form are written without a copy."""
    if isinstance(value, np.ma.MaskedArray):
        raise InvalidInputError(
            f"array {name!r}: a masked array's mask would be lost; save its .data and "
            f".mask as two arrays, or use a frame (nulls)",
            kind="InvalidInput",
            entry=name,
        )
    array = np.asarray(value)
    if array.dtype.hasobject:
        raise InvalidInputError(
            f"array {name!r}: object arrays are refused (brine never pickles); convert to a "
            f"numeric dtype, or save strings as a frame",
            kind="InvalidInput",
            entry=name,
        )
    if array.dtype.names is not None or array.dtype.subdtype is not None:
        raise InvalidInputError(
            f"array {name!r}: structured dtype {array.dtype} is not an array element type; "
            f"save its fields as a frame",
            kind="InvalidInput",
            entry=name,
        )
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    array = np.require(array, requirements=["C", "A"])
    if type(array) is not np.ndarray:  # np.matrix and other subclasses: the plain array
        array = array.view(np.ndarray)
    return array


class LazyArray:
    """An array entry not read yet: indexing its first axis reads only those rows (for a
    compressed entry, decompresses only the chunks they touch). ``np.asarray(lazy)`` reads
    the whole array."""

    def __init__(self, file: "_brine.File", name: str, info: Dict[str, Any]) -> None:
        self._file = file
        self.name = name
        self.shape: Tuple[int, ...] = tuple(info["shape"])
        self.dtype: np.dtype = _numpy_dtype(info["dtype"])
        self.codec: str = info["codec"]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"<brine.LazyArray {self.name!r} {self.dtype} {self.shape} {self.codec}>"

    def _rows(self, start: int, stop: int) -> np.ndarray:
        return _to_numpy(*self._file.array_rows(self.name, start, stop))

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        array = _to_numpy(*self._file.array(self.name))
        if dtype is not None and np.dtype(dtype) != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __getitem__(self, key: Any) -> Any:
        rest: Tuple[Any, ...] = ()
        if isinstance(key, tuple):
            if not key:
                return np.asarray(self)
            key, rest = key[0], key[1:]
        if not self.shape:
            return np.asarray(self)[(key, *rest)]
        n = self.shape[0]
        if isinstance(key, (int, np.integer)):
            i = int(key)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"index {int(key)} is out of bounds for axis 0 with size {n}")
            rows = self._rows(i, i + 1)[0]
            return rows[rest] if rest else rows
        elif isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step > 0:
                rows = self._rows(start, max(start, stop))[::step]
            else:
                lo = stop + 1
                rows = self._rows(lo, max(lo, start + 1))[::-1][:: -step]
        else:
            return np.asarray(self)[(key, *rest)]
        return rows[(slice(None), *rest)] if rest else rows


# -------------------------------------------------------------------------------------------
# Frames


def _is_instance(value: Any, module: str, name: str) -> bool:
    """``isinstance(value, module.name)`` without importing ``module`` if it is not loaded."""
    mod = sys.modules.get(module)
    cls = getattr(mod, name, None) if mod is not None else None
    return cls is not None and isinstance(value, cls)


def _keep_empty_chunks(table: Any) -> Any:
    """A table of no rows as a stream of one empty batch: pyarrow's stream of a table skips
    empty chunks, and with them the categories of its dictionary columns."""
    import pyarrow as pa

    if table.num_rows:
        return table
    arrays = [c.chunk(0) if c.num_chunks else pa.array([], c.type) for c in table.columns]
    batch = pa.RecordBatch.from_arrays(arrays, schema=table.schema)
    return pa.RecordBatchReader.from_batches(table.schema, [batch])


def _frame_source(name: str, value: Any) -> Any:
    """An object with ``__arrow_c_stream__`` holding the frame ``value``."""
    source = _arrow_source(name, value)
    if _is_instance(source, "pyarrow", "Table"):
        return _keep_empty_chunks(source)
    return source


def _arrow_source(name: str, value: Any) -> Any:
    if _is_instance(value, "pandas", "DataFrame"):
        import pyarrow as pa

        # The `pandas` schema metadata pyarrow adds (index, column names and dtypes) is
        # stored with the frame, so that reading gives the same DataFrame back.
        table = pa.Table.from_pandas(value)
        # pyarrow types an object column of only None (or of no rows) as `null`, which has
        # no brine column; stored as binary, it comes back as the object column its `pandas`
        # metadata describes.
        for i, field in enumerate(table.schema):
            if pa.types.is_null(field.type):
                column = table.column(i).cast(pa.binary())
                table = table.set_column(i, field.with_type(pa.binary()), column)
        return table
    if _is_instance(value, "pyarrow", "RecordBatch"):
        import pyarrow as pa

        return pa.Table.from_batches([value])
    if _is_instance(value, "polars", "DataFrame"):
        return value.to_arrow()
    if hasattr(value, "__arrow_c_stream__"):
        return value
    raise InvalidInputError(
        f"frame {name!r}: {type(value).__name__} is not a frame (a pandas or polars "
        f"DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, or any object with "
        f"__arrow_c_stream__)",
        kind="InvalidInput",
        entry=name,
    )


def _is_frame(value: Any) -> bool:
    return (
        _is_instance(value, "pandas", "DataFrame")
        or _is_instance(value, "pyarrow", "RecordBatch")
        or _is_instance(value, "polars", "DataFrame")
        or hasattr(value, "__arrow_c_stream__")
    )


def _convert_frame(stream: Any, to: str) -> Any:
    if to == "stream":
        return stream
    import pyarrow as pa

    table = pa.table(stream)
    if to == "arrow":
        return table
    if to == "pandas":
        return table.to_pandas()
    if to == "polars":
        import polars as pl

        return pl.from_arrow(table)
    raise ValueError(f'to must be "pandas", "arrow", "polars" or "stream", not {to!r}')


# -------------------------------------------------------------------------------------------
# Reading


class File(Mapping[str, Any]):
    """An open brine file: a read-only mapping from entry names to arrays and frames.

    Opening reads and validates only the header and the manifest. ``f[name]`` gives a numpy
    array (a read-only view into the mapping for raw entries: nothing is copied) or a pandas
    DataFrame. Arrays and frames read from the file stay valid after :meth:`close`, and after
    the file is replaced on disk, for as long as they are referenced.
    """

    def __init__(self, path: PathLike, *, verify: bool = False, **limits: Any) -> None:
        self._file = _brine.open(os.fspath(path), verify, **limits)
        self._names = [name for name, _ in self._file.entries()]
        self._kinds = dict(self._file.entries())

    # The mapping protocol ------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        """Entry ``name``: an array (a zero-copy view), a frame (pandas) or a model as plain
        Python values (see :meth:`model`)."""
        kind = self._kind(name)
        if kind == "array":
            return self.array(name)
        if kind == "frame":
            return self.frame(name)
        return self.model(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} entries"
        return f"<brine.File {str(self.path)!r} ({state})>"

    def __enter__(self) -> "File":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _kind(self, name: str) -> str:
        if name not in self._kinds:
            self._file.kind(name)  # raises NotFoundError (also a KeyError), naming the file
        return self._kinds[name]

    # Entries -------------------------------------------------------------------------------

    def array(self, name: str) -> np.ndarray:
        """Array ``name``: for raw entries a read-only view of the mapping (no copy); a
        compressed entry is decompressed in full on first access and kept while the file's
        mapping lives."""
        return _to_numpy(*self._file.array(name))

    def lazy(self, name: str) -> LazyArray:
        """Array ``name`` without reading it: ``lazy[a:b]`` reads rows ``a..b`` only."""
        info = self._file.info(name)
        if info["kind"] != "array":
            self._file.array(name)  # raises WrongKindError
        return LazyArray(self._file, name, info)

    def frame(self, name: str, to: str = "pandas") -> Any:
        """Frame ``name`` as a pandas DataFrame (``to="pandas"``), a pyarrow Table
        (``"arrow"``: zero-copy, its buffers point into the mapping; brine's storage types:
        strings and binary with 64-bit offsets, categoricals as ``dictionary<int32,
        large_string>``, every field nullable), a polars DataFrame
        (``"polars"``) or the Arrow C stream itself (``"stream"``: any consumer of
        ``__arrow_c_stream__``). pandas conversion copies where pandas needs its own memory."""
        return _convert_frame(self._file.frame(name), to)

    def model(self, name: str, cls: Optional[type] = None, **options: Any) -> Any:
        """Model ``name`` rebuilt as an instance of ``cls`` (see :func:`brine.load_model`), or,
        with no ``cls``, as plain Python values: dicts, lists, tuples, numbers, strings and
        read-only numpy views (see :func:`brine.models.plain_model`). A model written by a
        Rust program is decoded through the schema text stored with it, its fingerprint
        checked and every byte validated; nothing named by the file is ever imported."""
        if cls is None:
            if options:
                raise TypeError(f"File.model: {', '.join(options)} needs a class")
            return plain_model(self, name)
        return load_model(self, name, cls, **options)

    def info(self, name: str) -> Dict[str, Any]:
        """What entry ``name`` is and how it is stored (kind, dtype and shape, or rows and
        columns; codec, sizes, metadata), without reading its data."""
        return self._file.info(name)

    def kind(self, name: str) -> str:
        """``"array"``, ``"frame"`` or ``"model"``."""
        return self._kind(name)

    @property
    def metadata(self) -> Dict[str, Any]:
        """The file's metadata (str, int, float, bool and bytes values)."""
        return self._file.metadata()

    def verify(self) -> None:
        """Checks every section's checksum and every entry's content; raises the first
        problem found (:class:`CorruptFileError`...)."""
        self._file.verify()

    def mapped_range(self) -> Tuple[int, int]:
        """The addresses ``[start, end)`` of the file's bytes in memory: an array whose data
        pointer lies inside was not copied."""
        return self._file.mapped_range()

    @property
    def path(self) -> str:
        return str(self._file.path)

    @property
    def version(self) -> str:
        """The format version the file was written with."""
        return self._file.version

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Releases this object's hold on the file (arrays and frames taken from it keep the
        mapping alive on their own)."""
        self._file.close()


def open(  # noqa: A001 - like io.open
    path: PathLike,
    *,
    verify: bool = False,
    require_zero_copy: bool = False,
    max_manifest_len: Optional[int] = None,
    max_decompressed_bytes: Optional[int] = None,
    max_model_depth: Optional[int] = None,
) -> File:
    """Opens a brine file: reads and validates its header and manifest, nothing else.

    ``verify=True`` also checks every section's checksum first. For files from untrusted
    sources, the limits bound the work a file can ask for (``None``: the defaults of the Rust
    crate): ``max_manifest_len`` bytes of manifest, ``max_decompressed_bytes`` decoded bytes
    kept at once, ``max_model_depth`` nested pointers in a model. ``require_zero_copy=True``
    refuses to decompress (:class:`CopyRequiredError`)."""
    return File(
        path,
        verify=verify,
        require_zero_copy=require_zero_copy,
        max_manifest_len=max_manifest_len,
        max_decompressed_bytes=max_decompressed_bytes,
        max_model_depth=max_model_depth,
    )


def load(path: PathLike, *, verify: bool = False) -> Dict[str, Any]:
    """Every array and frame of the file, by name, like ``np.load``: arrays are zero-copy
    views that keep the file's mapping alive; frames are pandas DataFrames."""
    with File(path, verify=verify) as f:
        return {name: f[name] for name in f if f.kind(name) != "model"}


# -------------------------------------------------------------------------------------------
# Writing


class Writer:
    """Writes a brine file entry by entry, for data that does not fit in memory at once.

    Everything goes to a temporary file next to ``path``, renamed over it by :meth:`finish`
    (atomic: a crash leaves the old file or the new one). Used as a context manager, the file
    is finished when the block ends and abandoned, the target untouched, if it raises::

        with brine.Writer("big.brine") as w:
            w.put_array("x", x, compress="zstd")
            w.put_frame("t", record_batch_reader)
    """

    def __init__(
        self,
        path: PathLike,
        *,
        alignment: Optional[int] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self._writer = _brine.Writer(os.fspath(path), alignment)
        for key, value in (metadata or {}).items():
            self._writer.set_metadata(key, value)

    @property
    def path(self) -> str:
        return str(self._writer.path)

    def set_metadata(self, key: str, value: Union[str, int, float, bool, bytes]) -> None:
        """Sets a file metadata pair."""
        self._writer.set_metadata(key, value)

    def put_array(
        self,
        name: str,
        array: Any,
        *,
        compress: Compress = None,
        shuffle: Optional[bool] = None,
        level: int = 3,
        chunk_len: Optional[int] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Writes an array of any numeric dtype (bool, int8-64, uint8-64, float16/32/64,
        ml_dtypes' bfloat16). C-ordered, aligned, native-order arrays are written from their
        memory; others are first copied to that form. Object arrays are refused.

        ``compress="zstd"`` stores it in zstd chunks of ``chunk_len`` bytes (1 MiB by
        default) at zstd ``level``. ``shuffle`` byte-shuffles the elements first, which
        usually compresses numbers much better; by default (``None``) samples of the array are
        compressed both ways and the smaller wins."""
        prepared = _prepare_array(name, array)
        self._writer.put_array(
            name,
            prepared,
            compress,
            shuffle,
            level,
            chunk_len,
            dict(metadata) if metadata else None,
        )

    def put_frame(
        self,
        name: str,
        data: Any,
        *,
        compress: Compress = None,
        shuffle: Optional[bool] = True,
        level: int = 3,
        chunk_len: Optional[int] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Writes a frame: a pandas or polars DataFrame, a pyarrow Table, RecordBatch or
        RecordBatchReader (streamed batch by batch), or any object with
        ``__arrow_c_stream__``."""
        source = _frame_source(name, data)
        self._writer.put_frame(
            name,
            source,
            compress,
            True if shuffle is None else shuffle,
            level,
            chunk_len,
            dict(metadata) if metadata else None,
        )

    def put_model(
        self, name: str, model: Any, *, compress: Compress = None, level: int = 3
    ) -> None:
        """Writes a dataclass model (see :func:`brine.save_model`)."""
        save_model(self, name, model, compress=compress, level=level)

    def put(self, name: str, value: Any, **options: Any) -> None:
        """Writes ``value`` as a frame if it is one, else as an array."""
        if _is_frame(value):
            self.put_frame(name, value, **options)
        else:
            self.put_array(name, value, **options)

    def finish(self) -> None:
        """Completes the file and renames it over the target."""
        self._writer.finish()

    def abort(self) -> None:
        """Abandons the file: the target is left as it was."""
        self._writer.abort()

    @property
    def closed(self) -> bool:
        return self._writer.closed

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None:
            self.abort()
        elif not self.closed:
            self.finish()

    def __repr__(self) -> str:
        return f"<brine.Writer {self.path!r}{' (closed)' if self.closed else ''}>"


def save(
    path: PathLike,
    entries: Optional[Mapping[str, Any]] = None,
    /,
    *,
    compress: Compress = None,
    shuffle: Optional[bool] = None,
    level: int = 3,
    metadata: Optional[Mapping[str, Any]] = None,
    **named: Any,
) -> None:
    """Saves arrays and frames in one file, atomically::

        brine.save("data.brine", weights=w, sales=df, compress="zstd")
        brine.save("data.brine", {"any name": w})

    Arrays become array entries, DataFrames and Arrow tables frame entries.
    ``compress="zstd"`` compresses every entry at zstd ``level`` (arrays byte-shuffled when
    a sample shows it pays, unless ``shuffle`` says; frames shuffled unless ``shuffle=False``);
    ``metadata`` is the file's metadata."""
    items = dict(entries or {})
    for name, value in named.items():
        if name in items:
            raise InvalidInputError(
                f"entry {name!r} is given twice", kind="Duplicate", entry=name
            )
        items[name] = value
    with Writer(path, metadata=metadata) as w:
        for name, value in items.items():
            w.put(name, value, compress=compress, shuffle=shuffle, level=level)
