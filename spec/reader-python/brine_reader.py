"""A reader of brine files written from the specification alone.

This module reads brine format 1.0 as ``spec/FORMAT.md`` and ``spec/SCHEMA.md`` describe it,
without rkyv and without brine's code. It is also documentation: every check names the rule
of FORMAT.md §14 that it implements, and the order of the checks follows the order given
there. Dependencies: Python 3.11, numpy, zstandard (zstd) and xxhash (XXH3-64).

    >>> import brine_reader
    >>> f = brine_reader.File("spec/vectors/one-entry.brine")     # tier 1: every open rule
    >>> [e.name for e in f.entries()]
    ['temperature']
    >>> f.array("temperature")                                    # tier 2, a view of the mmap
    array([20.5, 21. ], dtype=float32)
    >>> f.verify()                                                # tier 3

Errors are the classes below, one per error name of FORMAT.md §14, all subclasses of
``BrineError``; nothing else escapes from reading a file, whatever its bytes.
"""

from __future__ import annotations

import builtins
import dataclasses
import math
import mmap
import os
import re
import struct
import sys
import zoneinfo

import numpy as np
import xxhash
import zstandard

__all__ = [
    "File", "open", "BrineError", "Truncated", "NotBrine", "UnsupportedVersion",
    "ChecksumMismatch", "UnsupportedFeature", "InvalidHeader", "LimitExceeded",
    "InvalidManifest", "InvalidField", "Duplicate", "SectionOutOfBounds", "SectionsOverlap",
    "Decompress", "InvalidData", "InvalidColumn", "SchemaMismatch", "InvalidModel", "NotFound",
    "WrongKind", "Entry", "Column", "Section", "Categorical", "Frame", "Schema",
    "xxh3", "bf16_to_float32", "is_view_of",
]

# ---------------------------------------------------------------------------------------------
# Errors (FORMAT.md §14, the "brine error" column)


class BrineError(Exception):
    """Any failure to read a brine file.

    ``file`` is the path, ``entry`` the entry's name (when the failure belongs to one),
    ``location`` a place that is not an entry (``header``, ``section 3``, ``entry table``...),
    ``field`` the field or buffer at fault and ``rule`` the rule of FORMAT.md §14."""

    def __init__(self, message: str, *, file=None, entry=None, field=None, rule=None,
                 location=None):
        self.file, self.entry, self.field, self.rule = file, entry, field, rule
        self.location = location
        self.detail = message
        where = [str(x) for x in (file,) if x is not None]
        if entry is not None:
            where.append(f"entry {entry!r}")
        if location is not None:
            where.append(location)
        if field is not None:
            where.append(f"field {field}")
        text = ": ".join(where + [message])
        if rule is not None:
            text += f" (rule {rule})"
        super().__init__(text)


class Truncated(BrineError): """The file is shorter than its header says (H1, H2, H9)."""
class NotBrine(BrineError): """The file does not start with the brine magic (H1)."""
class UnsupportedVersion(BrineError): """The file's major version is not 1 (H3)."""
class ChecksumMismatch(BrineError): """A checksum does not match (H4, M2, D2, V2, V3)."""
class UnsupportedFeature(BrineError): """The file uses a code this reader does not know."""
class InvalidHeader(BrineError): """A header field breaks H7-H11."""
class LimitExceeded(BrineError): """A format limit or a limit of this reader is exceeded."""
class InvalidManifest(BrineError): """The manifest is not a valid archive (M3, rules R1-R7)."""
class InvalidField(BrineError): """A manifest field breaks a rule of FORMAT.md §14."""
class Duplicate(BrineError): """Two entries, keys or columns have the same name (M4, M5, F8)."""
class SectionOutOfBounds(BrineError): """A section lies outside the data area (S1)."""
class SectionsOverlap(BrineError): """Sections overlap or are out of order (S2)."""
class Decompress(BrineError): """A zstd chunk is not exactly one frame of its length (D1)."""
class InvalidData(BrineError): """An array's elements are invalid (D3)."""
class InvalidColumn(BrineError): """A column's zone, buffers or statistics are not valid (D4-D7, D10, D11)."""
class SchemaMismatch(BrineError): """A model's schema or fingerprint does not match (D8)."""
class InvalidModel(BrineError): """A model's archive is invalid for its schema (D9)."""
class NotFound(BrineError, KeyError): """No entry or column of that name (API error)."""
class WrongKind(BrineError, TypeError): """The entry is not of the kind asked for (API error)."""


# ---------------------------------------------------------------------------------------------
# Constants of the format


MAGIC = b"\x89BRINE\r\n"
HEADER_LEN = 128
READER_VERSION = (1, 1)
ROOT_LEN = 104                      # the ArchivedManifest of version 1.0 (§5.7)
ROOT_LEN_1_1 = 120                  # the ArchivedManifest11 of version 1.1 (§5.7)
ROOT_LENS = {0: ROOT_LEN, 1: ROOT_LEN_1_1}   # minor version -> its root size (H11)
FLAG_ORDERED = 1                    # §8.7: column flag bit 0
NO_SECTION = 0xFFFFFFFF
U64 = 1 << 64
MAX_CHUNK_LENGTH = 64 << 20         # C2
MAX_DIMS = 64                       # A3
MAX_DICTIONARY = 1 << 31            # F7

# §7.1: code -> (name, size, numpy dtype). bf16 has no numpy dtype: its bits are returned as
# uint16 (see bf16_to_float32).
DTYPES = {
    0: ("bool", 1, np.dtype("?")), 1: ("i8", 1, np.dtype("i1")), 2: ("i16", 2, np.dtype("<i2")),
    3: ("i32", 4, np.dtype("<i4")), 4: ("i64", 8, np.dtype("<i8")), 5: ("u8", 1, np.dtype("u1")),
    6: ("u16", 2, np.dtype("<u2")), 7: ("u32", 4, np.dtype("<u4")), 8: ("u64", 8, np.dtype("<u8")),
    9: ("f16", 2, np.dtype("<f2")), 10: ("bf16", 2, np.dtype("<u2")),
    11: ("f32", 4, np.dtype("<f4")), 12: ("f64", 8, np.dtype("<f8")),
}
UNSIGNED = {5, 6, 7, 8}
FLOATS = {9, 10, 11, 12}

ENTRY_KINDS = {0: "array", 1: "frame", 2: "model"}
# §8.1: column kind -> name
COLUMN_KINDS = {0: "bool", 1: "primitive", 2: "utf8", 3: "binary", 4: "timestamp", 5: "date",
                6: "duration", 7: "categorical"}
UNITS = {0: "s", 1: "ms", 2: "us", 3: "ns"}
SLOTS = ("validity", "values", "offsets", "dictionary_offsets", "dictionary_values")
# §8.2: the slots each column kind has besides validity
KIND_SLOTS = {0: {"values"}, 1: {"values"}, 2: {"values", "offsets"}, 3: {"values", "offsets"},
              4: {"values"}, 5: {"values"}, 6: {"values"},
              7: {"values", "dictionary_offsets", "dictionary_values"}}
META_TYPES = {0: "str", 1: "int", 2: "float", 3: "bool", 4: "bytes"}

# The manifest's record types (§5.1), as numpy structured dtypes.
ENTRY = np.dtype([("name_end", "<u4"), ("metadata_end", "<u4"), ("index", "<u4"),
                  ("kind", "u1"), ("reserved", "V3")])
ARRAY = np.dtype([("section", "<u4"), ("dims_end", "<u4"), ("dtype", "u1"), ("reserved", "V3")])
SECTION = np.dtype([("offset", "<u8"), ("length", "<u8"), ("checksum", "<u8"),
                    ("raw_length", "<u8"), ("chunks_end", "<u4"), ("chunk_length", "<u4"),
                    ("codec", "u1"), ("shuffle", "u1"), ("reserved", "V6")])
CHUNK = np.dtype([("offset", "<u8"), ("length", "<u8"), ("checksum", "<u8")])
FRAME = np.dtype([("rows", "<u8"), ("columns_end", "<u4"), ("reserved", "V4")])
COLUMN = np.dtype([("name_end", "<u4"), ("zone_end", "<u4"), ("validity", "<u4"),
                   ("values", "<u4"), ("offsets", "<u4"), ("dictionary_offsets", "<u4"),
                   ("dictionary_values", "<u4"), ("reserved", "<u4"), ("null_count", "<u8"),
                   ("min", "<u8"), ("max", "<u8"), ("kind", "u1"), ("dtype", "u1"),
                   ("unit", "u1"), ("stats", "u1"), ("reserved2", "V4")])
MODEL = np.dtype([("section", "<u4"), ("type_name_end", "<u4"), ("schema_end", "<u4"),
                  ("flags", "<u4"), ("fingerprint", "<u8"), ("version", "<u8")])
EXTRA = np.dtype([("metadata_end", "<u4"), ("flags", "<u4")])   # §5.7, ArchivedColumnExtra (1.1)
for _dt, _size in ((ENTRY, 16), (ARRAY, 12), (SECTION, 48), (CHUNK, 24), (FRAME, 16),
                   (COLUMN, 64), (MODEL, 32), (EXTRA, 8)):
    assert _dt.itemsize == _size


def xxh3(data) -> int:
    """XXH3-64 with seed 0, the format's only checksum (§12)."""
    return xxhash.xxh3_64_intdigest(data)


assert xxh3(b"") == 0x2D06800538D394C2


def is_view_of(arr: np.ndarray, file: "File") -> bool:
    """Whether ``arr`` views ``file``'s memory mapping (its ``base`` chain leads to the mmap,
    through the memoryview numpy takes of it)."""
    base = arr
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return base is file._mm


def bf16_to_float32(bits: np.ndarray) -> np.ndarray:
    """Converts bfloat16 bits (a uint16 array, as ``File.array`` returns bf16) to float32."""
    return (np.asarray(bits, dtype="<u2").astype("<u4") << 16).view("<f4")


# ---------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass
class Section:
    """A row of the section table (§6), with its run of the chunk table."""
    index: int
    offset: int
    length: int
    checksum: int
    raw_length: int
    chunk_length: int
    codec: int
    shuffle: int
    chunks: list          # [(offset, length, checksum)], offsets from the section's start

    @property
    def codec_name(self) -> str:
        """``raw``, ``zstd`` or ``zstd+shuffle``, as in the golden files."""
        if self.codec == 0:
            return "raw"
        return "zstd+shuffle" if self.shuffle else "zstd"


@dataclasses.dataclass
class Column:
    """A column of a frame (§8): its manifest row, decoded."""
    name: str
    kind: str              # bool, primitive, utf8, binary, timestamp, date, duration, categorical
    dtype: str             # dtype name of the values buffer (§7.1)
    unit: str | None       # s, ms, us, ns for timestamps and durations
    zone: str | None       # a timestamp's zone, None for none
    null_count: int
    stats: tuple | None    # (min, max) as int (or float for float dtypes); None when stats = 0
    stats_bits: tuple      # the raw 64-bit fields (min, max)
    buffers: dict          # slot name -> section index, present slots only
    codec: str             # codec name of the values buffer's section
    row: int               # row of the column table
    ordered: bool = False  # §8.7: a categorical whose categories are ordered (1.1)
    metadata: list = dataclasses.field(default_factory=list)  # §8.7: [(key, type, value)]

    @property
    def type(self) -> str:
        """The column type written as the golden files write it."""
        if self.kind in ("primitive",):
            return self.dtype
        if self.kind == "timestamp":
            return f"timestamp[{self.unit}, {self.zone}]" if self.zone else f"timestamp[{self.unit}]"
        if self.kind == "duration":
            return f"duration[{self.unit}]"
        if self.kind == "categorical" and self.ordered:
            return "categorical[ordered]"
        return self.kind


@dataclasses.dataclass
class Entry:
    """An entry of the file: a row of the entry table and the details of its kind."""
    name: str
    kind: str              # "array", "frame" or "model"
    index: int             # row of the kind's table
    metadata: dict         # key -> str | int | float | bool | bytes, sorted by key
    # arrays
    dtype: str | None = None
    shape: tuple | None = None
    section: int | None = None
    codec: str | None = None
    # frames
    rows: int | None = None
    columns: list | None = None
    # models
    type_name: str | None = None
    schema: str | None = None
    fingerprint: int | None = None
    version: int | None = None


class Categorical:
    """A categorical column: ``codes`` (int32, masked where null) and ``dictionary`` (strings)."""

    def __init__(self, codes, dictionary):
        self.codes = codes
        self.dictionary = dictionary

    def values(self) -> list:
        """The strings the codes select, ``None`` for a null row."""
        codes = self.codes
        mask = np.ma.getmaskarray(codes) if isinstance(codes, np.ma.MaskedArray) else None
        data = np.ma.getdata(codes)
        return [None if mask is not None and mask[i] else self.dictionary[int(c)]
                for i, c in enumerate(data)]

    def __repr__(self):
        return f"Categorical(codes={self.codes!r}, dictionary={self.dictionary!r})"


class Frame(dict):
    """A frame's columns: column name -> values (see ``File.frame``), in column order.

    ``rows`` is the number of rows and ``columns`` the ``Column`` descriptions."""

    def __init__(self, rows, columns, values):
        super().__init__(values)
        self.rows = rows
        self.columns = columns


# ---------------------------------------------------------------------------------------------
# Archives: rkyv's layout and validation rules (FORMAT.md §5.2-§5.6, §5.9)


class _Archive:
    """Reads and validates an rkyv archive (the manifest, or a model's archive).

    Positions are relative to the archive's first byte, which is aligned to 64 in the file (or
    in memory, for a decoded model), so an alignment relative to it is an absolute alignment.
    The window ``[lo, hi)`` implements rule R2: visiting an object ``[s, e)`` requires
    ``lo <= s`` and ``e <= hi``; its contents are checked in ``[lo, s)``; afterwards the window
    is ``[e, hi)``."""

    def __init__(self, buf, error, where, max_depth=None):
        self.buf = buf                 # bytes-like, the archive exactly
        self.len = len(buf)
        self.lo, self.hi = 0, self.len
        self.error = error             # exception class for every failure (InvalidManifest...)
        self.where = where             # dict(file=..., entry=...) for messages
        self.depth = 0
        self.max_depth = max_depth

    def fail(self, message, rule=None):
        raise self.error(message, rule=rule, **self.where)

    # --- reading primitives (always inside the archive: callers check the object first) ----
    def u8(self, p): return self.buf[p]
    def u32(self, p): return struct.unpack_from("<I", self.buf, p)[0]
    def i32(self, p): return struct.unpack_from("<i", self.buf, p)[0]
    def u64(self, p): return struct.unpack_from("<Q", self.buf, p)[0]

    # --- R1, R2: objects and the window ------------------------------------------------------
    def check_object(self, start, size, align, what):
        """R1 and the first half of R2: ``[start, start + size)`` in the window, aligned."""
        if start < self.lo or start + size > self.hi:
            self.fail(f"{what}: object {start}..{start + size} outside the range "
                      f"{self.lo}..{self.hi} allowed by its position", "R1/R2")
        if start % align:
            self.fail(f"{what}: object at {start} is not aligned to {align}", "R1")

    def visit(self, start, size, align, what, contents=None):
        """Visits an object (R1, R2): checks it, runs ``contents`` in ``[lo, start)``, then
        moves the window past it. Returns what ``contents`` returns."""
        self.check_object(start, size, align, what)
        if self.max_depth is not None and self.depth + 1 >= self.max_depth:
            self.fail(f"{what}: archive nested deeper than {self.max_depth} levels")
        saved_hi = self.hi
        self.hi = start
        self.depth += 1
        result = contents() if contents is not None else None
        self.depth -= 1
        self.lo, self.hi = start + size, saved_hi
        return result

    # --- §5.4 vectors -----------------------------------------------------------------------
    def vector(self, p, size, align, what, contents=None):
        """An ``ArchivedVec<T>`` at ``p``: returns ``(position of the elements, len)``; runs
        ``contents(start, len)`` inside the element array's window."""
        target = p + self.i32(p)
        n = self.u32(p + 4)
        self.visit(target, n * size, align, what,
                   (lambda: contents(target, n)) if contents is not None else None)
        return target, n

    # --- §5.5 strings -------------------------------------------------------------------------
    def string_bytes(self, p, what) -> bytes:
        """The bytes of an ``ArchivedString`` at ``p``, checked as UTF-8 (R3)."""
        b0 = self.buf[p]
        if b0 & 0xC0 != 0x80:                       # inline: up to 8 bytes, 0xFF fill
            raw = bytes(self.buf[p:p + 8])
            end = raw.find(b"\xff")
            data = raw if end < 0 else raw[:end]
        else:                                       # out of line
            tagged = self.u32(p)
            length = (tagged & 0x3F) | ((tagged >> 8) << 6)
            if length <= 8:
                self.fail(f"{what}: out-of-line string of {length} bytes (at most 8 must be "
                          "inline)", "R3")
            start = p + self.i32(p + 4)             # relative to byte 0 of the string
            self.visit(start, length, 1, what)
            data = bytes(self.buf[start:start + length])
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(f"{what}: string is not valid UTF-8 ({e.reason} at byte {e.start})", "R3")
        return data


def _utf8_boundary(data: bytes, i: int) -> bool:
    """Whether byte offset ``i`` of valid UTF-8 ``data`` is on a character boundary."""
    return i == len(data) or (data[i] & 0xC0) != 0x80


def _fixed_offset(zone: str) -> bool:
    """A fixed offset ``±HH:MM`` (§8.1)."""
    return len(zone) == 6 and zone[0] in "+-" and zone[3] == ":" and \
        zone[1:3].isascii() and zone[1:3].isdigit() and zone[4:6].isascii() and \
        zone[4:6].isdigit() and int(zone[1:3]) <= 23 and int(zone[4:6]) <= 59


_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._+-]*(/[A-Za-z][A-Za-z0-9._+-]*)*")


def _zone_form(zone: str) -> bool:
    """F4: a fixed offset, or of the form of an IANA time zone name (whether the database
    knows the name is D10, checked on first access)."""
    return _fixed_offset(zone) or _ZONE_NAME.fullmatch(zone) is not None


def _known_zone(zone: str) -> bool:
    """D10: a fixed offset, or a name of this reader's IANA database (Python's zoneinfo)."""
    return _fixed_offset(zone) or zone in _iana_zones()


_ZONES = None


def _iana_zones():
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(zoneinfo.available_timezones())
    return _ZONES


# ---------------------------------------------------------------------------------------------
# The file


def open(path, **options) -> "File":   # noqa: A001 - the module's natural verb
    """Opens a brine file: ``File(path, **options)``."""
    return File(path, **options)


class File:
    """A brine file, memory-mapped, with every tier-1 rule checked at open (FORMAT.md §14).

    Options: ``verify`` (run tier 3 at open), ``max_manifest_len`` (M1, default 256 MiB),
    ``max_decompressed_bytes`` (the decoded bytes kept, default 8 GiB), ``max_model_depth``
    (default 1024 nested pointers)."""

    def __init__(self, path, *, verify=False, max_manifest_len=256 << 20,
                 max_decompressed_bytes=8 << 30, max_model_depth=1024):
        self.path = os.fspath(path)
        self.max_manifest_len = max_manifest_len
        self.max_decompressed_bytes = max_decompressed_bytes
        self.max_model_depth = max_model_depth
        self._decoded = {}          # section index -> decoded bytes (numpy uint8)
        self._decoded_total = 0
        self._columns_read = {}     # column row -> result or exception (D4-D7 run once)
        self._mm = None
        try:
            with builtins.open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size == 0:
                    raise Truncated("empty file: no header", file=self.path, location="header",
                                    rule="H1")
                self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise BrineError(f"cannot open: {e}", file=self.path) from e
        self.size = size
        self._open_header()
        self._open_manifest()
        self._check_tables()
        if verify:
            self.verify()

    # -- helpers -----------------------------------------------------------------------------
    def _err(self, cls, message, location=None, field=None, rule=None):
        return cls(message, file=self.path, location=location, field=field, rule=rule)

    def close(self):
        """Releases the mapping (arrays still viewing it keep it alive)."""
        self._decoded.clear()
        if self._mm is not None:
            try:
                self._mm.close()
            except BufferError:
                pass        # a view returned by array() still uses it: it closes with it
            self._mm = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- tier 1: the header (§4, rules H1-H11) -------------------------------------------------
    def _open_header(self):
        mm, size = self._mm, self.size
        head = mm[:min(size, HEADER_LEN)]
        if head[:8] != MAGIC:
            if size < 8 and MAGIC.startswith(head):
                raise self._err(Truncated, f"{size} bytes, a prefix of the magic", "header",
                                rule="H1")
            raise self._err(NotBrine, "the file does not start with the brine magic "
                            "89 42 52 49 4e 45 0d 0a", "header", rule="H1")
        if size < HEADER_LEN:
            raise self._err(Truncated, f"{size} bytes, shorter than the 128-byte header",
                            "header", rule="H2")
        major, minor = struct.unpack_from("<HH", head, 8)
        if major != READER_VERSION[0]:
            raise self._err(UnsupportedVersion, f"format version {major}.{minor}; this reader "
                            f"reads version {READER_VERSION[0]}.x", "header", rule="H3")
        (stored,) = struct.unpack_from("<Q", head, 120)
        if xxh3(head[:120]) != stored:
            raise self._err(ChecksumMismatch, f"header checksum {stored:#018x}, bytes 0..120 "
                            f"hash to {xxh3(head[:120]):#018x}", "header", "header_checksum",
                            rule="H4")
        required, _optional = struct.unpack_from("<II", head, 12)
        if required:
            raise self._err(UnsupportedFeature, f"required flags {required:#x} (version "
                            f"{major}.{minor}; this reader knows none)", "header",
                            "required_flags", rule="H5")
        for pos, name, want in ((20, "rkyv_endianness", 0), (21, "rkyv_alignment", 1),
                                (22, "rkyv_pointer_width", 4)):
            if head[pos] != want:
                raise self._err(UnsupportedFeature, f"{name} {head[pos]} (this reader knows "
                                f"{want})", "header", name, rule="H6")
        if head[23] or any(head[64:120]):
            raise self._err(InvalidHeader, "reserved bytes are not zero", "header", "reserved",
                            rule="H7")
        alignment, root_length, mo, ml, mck, flen = struct.unpack_from("<IIQQQQ", head, 24)
        if not (64 <= alignment <= 2 << 20 and alignment & (alignment - 1) == 0):
            raise self._err(InvalidHeader, f"alignment {alignment} is not a power of two from "
                            "64 to 2097152", "header", "alignment", rule="H8")
        if size < flen:
            raise self._err(Truncated, f"the file has {size} bytes, its header says {flen}",
                            "header", "file_length", rule="H9")
        if size > flen:
            raise self._err(InvalidHeader, f"the file has {size} bytes, its header says {flen} "
                            "(bytes appended)", "header", "file_length", rule="H9")
        if mo < HEADER_LEN or mo % 64:
            raise self._err(InvalidHeader, f"manifest_offset {mo} is below 128 or not a "
                            "multiple of 64", "header", "manifest_offset", rule="H10")
        if mo + ml != flen:
            raise self._err(InvalidHeader, f"manifest_offset {mo} + manifest_length {ml} != "
                            f"file_length {flen}", "header", "manifest_length", rule="H10")
        # H11: exactly the root of a known minor version, at least this reader's for a newer one
        known = ROOT_LENS.get(minor)
        if root_length % 4 or root_length > ml or \
                (known is not None and root_length != known) or \
                (known is None and root_length < ROOT_LENS[READER_VERSION[1]]):
            raise self._err(InvalidHeader, f"root_length {root_length} (version {major}.{minor}"
                            f", manifest of {ml} bytes)", "header", "root_length", rule="H11")
        self.version = (major, minor)
        self.alignment = alignment
        self.header = dict(alignment=alignment, root_length=root_length, manifest_offset=mo,
                           manifest_length=ml, manifest_checksum=mck, file_length=flen)
        self._mo, self._ml, self._root_length = mo, ml, root_length

    # -- tier 1: the manifest archive (§5, rules M1-M3) --------------------------------------
    def _open_manifest(self):
        mo, ml = self._mo, self._ml
        if ml > self.max_manifest_len:
            raise self._err(LimitExceeded, f"manifest of {ml} bytes, over this reader's limit "
                            f"of {self.max_manifest_len}", "manifest", rule="M1")
        m = memoryview(self._mm)[mo:mo + ml]
        stored = self.header["manifest_checksum"]
        if xxh3(m) != stored:
            raise self._err(ChecksumMismatch, f"manifest checksum {stored:#018x}, the manifest "
                            f"hashes to {xxh3(m):#018x}", "manifest", "manifest_checksum",
                            rule="M2")
        newer = self.version[1] > READER_VERSION[1]
        try:
            self._walk_manifest(m)
        except InvalidManifest as e:
            if newer:   # §16: an unknown addition of a newer minor version
                raise self._err(UnsupportedFeature, f"the manifest of a version "
                                f"{self.version[0]}.{self.version[1]} file does not validate "
                                f"as version 1.0 ({e.detail})", "manifest", rule="M3") from e
            raise

    def _walk_manifest(self, m):
        """M3: the depth-first walk of §5.9 from the root, reading every table."""
        a = _Archive(m, InvalidManifest, dict(file=self.path, location="manifest"))
        root = self._ml - self._root_length

        def tables():
            self._names = a.string_bytes(root + 0, "names")
            self._entries = self._table(m, a, root + 8, ENTRY, 4, "entries")
            self._arrays = self._table(m, a, root + 16, ARRAY, 4, "arrays")
            self._dims = self._table(m, a, root + 24, np.dtype("<u8"), 8, "dims")
            self._sections = self._table(m, a, root + 32, SECTION, 8, "sections")
            self._chunks = self._table(m, a, root + 40, CHUNK, 8, "chunks")
            self._metadata = self._meta_table(a, root + 48, "metadata")
            self._entry_metadata = self._meta_table(a, root + 56, "entry_metadata")
            self._frames = self._table(m, a, root + 64, FRAME, 8, "frames")
            self._columns = self._table(m, a, root + 72, COLUMN, 8, "columns")
            self._column_text = a.string_bytes(root + 80, "column_text")
            self._models = self._table(m, a, root + 88, MODEL, 8, "models")
            self._model_text = a.string_bytes(root + 96, "model_text")
            if v1_1:    # §8.7: the two tables version 1.1 appends
                self._column_extras = self._table(m, a, root + 104, EXTRA, 4, "column_extras")
                self._column_metadata = self._meta_table(a, root + 112, "column_metadata")

        # The root: 104 bytes in a 1.0 file, 120 from 1.1 on; a newer minor version may
        # append tables after them (H11), which this reader ignores.
        v1_1 = self._root_length >= ROOT_LEN_1_1
        self._column_extras, self._column_metadata = None, []
        a.visit(root, ROOT_LEN_1_1 if v1_1 else ROOT_LEN, 4, "root", tables)

    @staticmethod
    def _table(m, a, p, dtype, align, what):
        """A table of plain records: one bounds-and-alignment check (R1, R2), then the rows as
        a list of tuples (read once; the tables are the manifest, of bounded size)."""
        start, n = a.vector(p, dtype.itemsize, align, what)
        rows = np.frombuffer(m, dtype, count=n, offset=start) if n else np.zeros(0, dtype)
        return rows

    @staticmethod
    def _meta_table(a, p, what):
        """A vector of ``ArchivedMetaItem`` (§5.7): ``[(key bytes, type, value)]``."""
        items = []

        def contents(start, n):
            for i in range(n):
                q = start + 24 * i
                key = a.string_bytes(q, f"{what}[{i}].key")
                tag = a.u8(q + 8)
                if tag == 0:
                    value = a.string_bytes(q + 12, f"{what}[{i}].value").decode("utf-8")
                elif tag == 1:
                    value = struct.unpack_from("<q", a.buf, q + 16)[0]
                elif tag == 2:
                    value = struct.unpack_from("<d", a.buf, q + 16)[0]
                elif tag == 3:
                    b = a.u8(q + 9)
                    if b > 1:
                        a.fail(f"{what}[{i}]: bool byte {b:#04x}", "R4")
                    value = bool(b)
                elif tag == 4:
                    s, length = a.vector(q + 12, 1, 1, f"{what}[{i}].value")
                    value = bytes(a.buf[s:s + length])
                else:
                    a.fail(f"{what}[{i}]: MetaValue tag {tag}, not 0 to 4", "R5")
                items.append((key, META_TYPES[tag], value))

        a.vector(p, 24, 8, what, contents)
        return items

    # -- tier 1: the tables (§14.2-§14.6), in the order of §14 ---------------------------------
    def _check_tables(self):
        f = self.path
        names = self._names
        sections = self._sections.tolist()
        chunks = self._chunks.tolist()
        self._check_meta_run(self._metadata, location="file metadata")

        # 2. the entry table: M4, M6, M5
        entries = self._entries.tolist()
        counts = {0: 0, 1: 0, 2: 0}
        self._by_kind = {0: [], 1: [], 2: []}      # kind -> entry names, in row order
        self._entry_list = []
        prev_name_end = prev_meta_end = 0
        prev_name = None
        for i, (name_end, meta_end, index, kind, reserved) in enumerate(entries):
            where = f"entry {i}"
            if not (prev_name_end <= name_end <= len(names)) or \
                    not _utf8_boundary(names, name_end):
                raise InvalidField(f"name_end {name_end} (previous end {prev_name_end}, names "
                                   f"of {len(names)} bytes)", file=f, location=where,
                                   field="name_end", rule="M4")
            name_b = names[prev_name_end:name_end]
            name = name_b.decode("utf-8")
            if prev_name is not None and name_b <= prev_name:
                if name_b == prev_name:
                    raise Duplicate(f"entry name {name!r} appears twice", file=f, entry=name,
                                    field="name", rule="M4")
                raise InvalidField(f"names out of order: {name!r} after "
                                   f"{prev_name.decode('utf-8')!r}", file=f, entry=name,
                                   field="name_end", rule="M4")
            if not (prev_meta_end <= meta_end <= len(self._entry_metadata)):
                raise InvalidField(f"metadata_end {meta_end} (previous end {prev_meta_end}, "
                                   f"{len(self._entry_metadata)} items)", file=f, entry=name,
                                   field="metadata_end", rule="M6")
            self._check_meta_run(self._entry_metadata[prev_meta_end:meta_end], entry=name)
            if any(reserved):
                raise InvalidField("reserved bytes are not zero", file=f, entry=name,
                                   field="reserved", rule="M6")
            if kind not in ENTRY_KINDS:
                raise UnsupportedFeature(f"kind of entry {kind} (file version "
                                         f"{self.version[0]}.{self.version[1]}, reader version "
                                         f"{READER_VERSION[0]}.{READER_VERSION[1]})", file=f,
                                         entry=name, field="kind", rule="M6")
            if index != counts[kind]:
                raise InvalidField(f"index {index}, expected {counts[kind]} (the "
                                   f"{ENTRY_KINDS[kind]} rows are in entry order)", file=f,
                                   entry=name, field="index", rule="M6")
            counts[kind] += 1
            self._by_kind[kind].append(name)
            self._entry_list.append((name, kind, index, prev_meta_end, meta_end))
            prev_name_end, prev_meta_end, prev_name = name_end, meta_end, name_b
        if prev_name_end != len(names):
            raise InvalidField(f"the last name_end is {prev_name_end}, names has {len(names)} "
                               "bytes", file=f, location="entry table", field="name_end",
                               rule="M4")
        if prev_meta_end != len(self._entry_metadata):
            raise InvalidField(f"the last metadata_end is {prev_meta_end}, entry_metadata has "
                               f"{len(self._entry_metadata)} items", file=f,
                               location="entry table", field="metadata_end", rule="M6")
        for kind, table, field in ((0, self._arrays, "arrays"), (1, self._frames, "frames"),
                                   (2, self._models, "models")):
            if len(table) != counts[kind]:
                raise InvalidField(f"{len(table)} rows for {counts[kind]} "
                                   f"{ENTRY_KINDS[kind]} entries", file=f,
                                   location=f"{ENTRY_KINDS[kind]} table", field=field, rule="M6")
        self._entry_index = {e[0]: i for i, e in enumerate(self._entry_list)}

        # 3. sections: S1, S2, S3, S5, C1-C3
        self._section_list = []
        prev_end = HEADER_LEN
        prev_chunks_end = 0
        for i, (off, length, ck, raw, chunks_end, chunk_len, codec, shuffle, reserved) in \
                enumerate(sections):
            where = f"section {i}"
            if off < HEADER_LEN or off + length > self._mo:
                raise SectionOutOfBounds(f"bytes {off}..{off + length} outside the data area "
                                         f"128..{self._mo}", file=f, location=where, rule="S1")
            if i > 0 and off < prev_end:
                raise SectionsOverlap(f"starts at {off}, before the end of section {i - 1} at "
                                      f"{prev_end}", file=f, location=where, rule="S2")
            if off % 64 or (raw >= 4096 and off % self.alignment):
                raise InvalidField(f"offset {off} is not a multiple of "
                                   f"{self.alignment if raw >= 4096 else 64}", file=f,
                                   location=where, field="offset", rule="S3")
            if any(reserved):
                raise InvalidField("reserved bytes are not zero", file=f, location=where,
                                   field="reserved", rule="S5")
            if not (prev_chunks_end <= chunks_end <= len(chunks)):
                raise InvalidField(f"chunks_end {chunks_end} (previous end {prev_chunks_end}, "
                                   f"{len(chunks)} chunks)", file=f, location=where,
                                   field="chunks_end", rule="S5")
            run = chunks[prev_chunks_end:chunks_end]
            if codec not in (0, 1):
                raise UnsupportedFeature(f"codec of section {i}: {codec} (file version "
                                         f"{self.version[0]}.{self.version[1]}, reader version "
                                         "1.0)", file=f, location=where, field="codec", rule="C1")
            if codec == 0:
                if raw != length or chunk_len != 0 or shuffle != 0 or run:
                    raise InvalidField("a raw section needs raw_length = length, chunk_length "
                                       "= 0, shuffle = 0 and no chunks", file=f, location=where,
                                       field="codec", rule="C1")
            else:
                if chunk_len < 1:
                    raise InvalidField("chunk_length 0", file=f, location=where,
                                       field="chunk_length", rule="C2")
                if chunk_len > MAX_CHUNK_LENGTH:
                    raise LimitExceeded(f"chunk_length {chunk_len} over 64 MiB", file=f,
                                        location=where, field="chunk_length", rule="C2")
                n_chunks = -(-raw // chunk_len)
                if len(run) != n_chunks:
                    raise InvalidField(f"{len(run)} chunks for raw_length {raw} in chunks of "
                                       f"{chunk_len} (expected {n_chunks})", file=f,
                                       location=where, field="chunks_end", rule="C3")
                pos = 0
                for c_off, c_len, _ in run:
                    if c_off != pos:
                        raise InvalidField(f"a chunk starts at {c_off}, expected {pos}",
                                           file=f, location=where, field="chunks", rule="C3")
                    pos += c_len
                if pos != length:
                    raise InvalidField(f"the chunks end at {pos}, the section at {length}",
                                       file=f, location=where, field="chunks", rule="C3")
            self._section_list.append(Section(i, off, length, ck, raw, chunk_len, codec,
                                              shuffle, [tuple(c) for c in run]))
            prev_end, prev_chunks_end = off + length, chunks_end
        if prev_chunks_end != len(chunks):
            raise InvalidField(f"the last chunks_end is {prev_chunks_end}, the chunk table has "
                               f"{len(chunks)} rows", file=f, location="section table",
                               field="chunks_end", rule="S5")
        secs = self._section_list

        # 4. arrays: A1-A5
        dims = self._dims.tolist()
        self._array_info = []
        prev = 0
        for k, (section, dims_end, dtype, reserved) in enumerate(self._arrays.tolist()):
            name = self._by_kind[0][k]
            if not (prev <= dims_end <= len(dims)):
                raise InvalidField(f"dims_end {dims_end} (previous end {prev}, {len(dims)} "
                                   "dims)", file=f, entry=name, field="dims_end", rule="A1")
            if dtype not in DTYPES:
                raise UnsupportedFeature(f"dtype of entry {name!r}: code {dtype} (file version "
                                         f"{self.version[0]}.{self.version[1]}, reader version "
                                         "1.0)", file=f, entry=name, field="dtype", rule="A2")
            if any(reserved):
                raise InvalidField("reserved bytes are not zero", file=f, entry=name,
                                   field="reserved", rule="A2")
            shape = tuple(dims[prev:dims_end])
            if len(shape) > MAX_DIMS:
                raise InvalidField(f"{len(shape)} dimensions, more than 64", file=f,
                                   entry=name, field="dims_end", rule="A3")
            size = DTYPES[dtype][1]
            nbytes = size * math.prod(shape)
            if nbytes >= U64:
                raise InvalidField(f"shape {list(shape)} of {DTYPES[dtype][0]} overflows 64 "
                                   "bits", file=f, entry=name, field="dims", rule="A3")
            if section >= len(secs) or secs[section].raw_length != nbytes:
                raise InvalidField(f"section {section}: not a section of raw_length {nbytes}",
                                   file=f, entry=name, field="section", rule="A4")
            s = secs[section]
            if s.shuffle not in (0, size) or (s.shuffle and size < 2) or \
                    (s.codec == 1 and s.chunk_length % size):
                raise InvalidField(f"section {section}: shuffle {s.shuffle} / chunk_length "
                                   f"{s.chunk_length} do not fit {size}-byte elements",
                                   file=f, entry=name, field="section", rule="A5")
            self._array_info.append((section, shape, dtype))
            prev = dims_end
        if prev != len(dims):
            raise InvalidField(f"the last dims_end is {prev}, dims has {len(dims)} items",
                               file=f, location="array table", field="dims_end", rule="A1")

        # 5. frames: F1-F10
        text = self._column_text
        columns = self._columns.tolist()
        extras = None if self._column_extras is None else self._column_extras.tolist()
        cmeta = self._column_metadata
        if extras is not None and len(extras) != len(columns):
            raise InvalidField(f"column_extras has {len(extras)} rows, the column table has "
                               f"{len(columns)}", file=f, location="column table",
                               field="column_extras", rule="F9")
        meta_start = 0
        self._frame_info = []
        prev_cols = 0
        start = 0                                   # the previous column's zone_end
        for k, (rows, columns_end, reserved) in enumerate(self._frames.tolist()):
            fname = self._by_kind[1][k]
            if any(reserved):
                raise InvalidField("reserved bytes are not zero", file=f, entry=fname,
                                   field="reserved", rule="F1")
            if not (prev_cols <= columns_end <= len(columns)):
                raise InvalidField(f"columns_end {columns_end} (previous end {prev_cols}, "
                                   f"{len(columns)} columns)", file=f, entry=fname,
                                   field="columns_end", rule="F1")
            cols = []
            for c in range(prev_cols, columns_end):
                col = self._check_column(fname, rows, c, c - prev_cols, columns[c], start, text)
                start = columns[c][1]
                if extras is not None:
                    meta_start = self._check_extra(fname, col, extras[c], meta_start, cmeta,
                                                   columns[c][11])
                cols.append(col)
            seen = set()
            for col in cols:
                if col.name in seen:
                    raise Duplicate(f"column name {col.name!r} appears twice", file=f,
                                    entry=fname, field="column name", rule="F8")
                seen.add(col.name)
            self._frame_info.append((rows, cols))
            prev_cols = columns_end
        if prev_cols != len(columns):
            raise InvalidField(f"the last columns_end is {prev_cols}, the column table has "
                               f"{len(columns)} rows", file=f, location="frame table",
                               field="columns_end", rule="F1")
        if start != len(text):
            raise InvalidField(f"the last zone_end is {start}, column_text has {len(text)} "
                               "bytes", file=f, location="column table", field="zone_end",
                               rule="F2")
        if meta_start != len(cmeta):
            raise InvalidField(f"the last metadata_end is {meta_start}, column_metadata has "
                               f"{len(cmeta)} items", file=f, location="column table",
                               field="metadata_end", rule="F9")

        # 6. models: N1-N3
        mtext = self._model_text
        self._model_info = []
        start = 0
        for k, (section, tn_end, sc_end, flags, fp, version) in enumerate(self._models.tolist()):
            name = self._by_kind[2][k]
            if not (start <= tn_end <= len(mtext)) or not _utf8_boundary(mtext, tn_end):
                raise InvalidField(f"type_name_end {tn_end} (start {start}, model_text of "
                                   f"{len(mtext)} bytes)", file=f, entry=name,
                                   field="type_name_end", rule="N1")
            if not (tn_end <= sc_end <= len(mtext)) or not _utf8_boundary(mtext, sc_end):
                # the row's run is wrong: reported at its first end, as §14.6 names it
                raise InvalidField(f"schema_end {sc_end} is below type_name_end {tn_end}, past "
                                   f"the {len(mtext)} bytes of model_text or inside a "
                                   "character", file=f, entry=name, field="type_name_end",
                                   rule="N1")
            if flags & ~1:
                raise UnsupportedFeature(f"flags of entry {name!r}: {flags:#x} (file version "
                                         f"{self.version[0]}.{self.version[1]}, reader version "
                                         "1.0)", file=f, entry=name, field="flags", rule="N2")
            if not flags & 1 and version != 0:
                raise InvalidField(f"version {version} without flag bit 0", file=f, entry=name,
                                   field="version", rule="N2")
            if section >= len(secs) or secs[section].shuffle != 0:
                raise InvalidField(f"section {section}: not a section, or shuffled", file=f,
                                   entry=name, field="section", rule="N3")
            self._model_info.append(dict(
                section=section, type_name=mtext[start:tn_end].decode("utf-8"),
                schema=mtext[tn_end:sc_end].decode("utf-8"), fingerprint=fp,
                version=version if flags & 1 else None))
            start = sc_end
        if start != len(mtext):
            raise InvalidField(f"the last schema_end is {start}, model_text has {len(mtext)} "
                               "bytes", file=f, location="model table", field="schema_end",
                               rule="N1")

        # 7. S4: every section has exactly one owner
        owner = [None] * len(secs)

        def own(section, who, field):
            if owner[section] is not None:
                other, other_field = owner[section]
                raise InvalidField(f"section {section} is already used by entry {other!r} "
                                   f"({other_field})",
                                   file=f, entry=who, field=field, rule="S4")
            owner[section] = (who, field)

        for k, (section, _, _) in enumerate(self._array_info):
            own(section, self._by_kind[0][k], "section")
        for k, (_, cols) in enumerate(self._frame_info):
            for col in cols:
                for slot, section in col.buffers.items():
                    own(section, self._by_kind[1][k], f"column {col.name!r} {slot}")
        for k, info in enumerate(self._model_info):
            own(info["section"], self._by_kind[2][k], "section")
        self._section_owner = owner
        for i, o in enumerate(owner):
            if o is None:
                raise InvalidField("no entry references this section", file=f,
                                   location=f"section {i}", field="sections", rule="S4")

    def _check_extra(self, fname, col, extra, start, cmeta, kind):
        """F9 and F10 for one column's row of column_extras (§8.7); returns its metadata_end."""
        end, flags = extra
        f = self.path
        where = f"column {col.name!r}"
        if not (start <= end <= len(cmeta)):
            raise InvalidField(f"{where}: metadata_end {end} (previous end {start}, "
                               f"{len(cmeta)} items)", file=f, entry=fname,
                               field="metadata_end", rule="F9")
        items = cmeta[start:end]
        for (a, _, _), (b, _, _) in zip(items, items[1:]):
            if b <= a:
                if a == b:
                    raise Duplicate(f"{where}: metadata key {a.decode('utf-8')!r} appears "
                                    "twice", file=f, entry=fname, field="metadata", rule="F9")
                raise InvalidField(f"{where}: metadata keys out of order: "
                                   f"{b.decode('utf-8')!r} after {a.decode('utf-8')!r}",
                                   file=f, entry=fname, field="metadata", rule="F9")
        if flags & ~FLAG_ORDERED:
            raise UnsupportedFeature(f"flags of {where}: {flags:#x} (file version "
                                     f"{self.version[0]}.{self.version[1]}, reader version "
                                     f"{READER_VERSION[0]}.{READER_VERSION[1]})", file=f,
                                     entry=fname, field="flags", rule="F10")
        if flags & FLAG_ORDERED and kind != 7:
            raise InvalidField(f"{where}: the ordered flag on a {col.kind} column", file=f,
                               entry=fname, field="flags", rule="F10")
        col.ordered = bool(flags & FLAG_ORDERED)
        col.metadata = [(k.decode("utf-8"), t, v) for k, t, v in items]
        return end

    def _check_meta_run(self, items, entry=None, location=None):
        """M5: keys strictly increasing as byte strings."""
        for (a, _, _), (b, _, _) in zip(items, items[1:]):
            if b <= a:
                if a == b:
                    raise Duplicate(f"metadata key {a.decode('utf-8')!r} appears twice",
                                    file=self.path, entry=entry, location=location,
                                    field="metadata", rule="M5")
                raise InvalidField(f"metadata keys out of order: {b.decode('utf-8')!r} after "
                                   f"{a.decode('utf-8')!r}", file=self.path, entry=entry,
                                   location=location, field="metadata", rule="M5")

    def _check_column(self, fname, rows, row, position, col, start, text) -> Column:
        """F2-F7 for one column row (``position``: its place in the frame)."""
        (name_end, zone_end, validity, values, offsets, dict_offsets, dict_values, reserved,
         null_count, vmin, vmax, kind, dtype, unit, stats, reserved2) = col
        f = self.path

        def bad(cls, message, field, rule, entry_col=None):
            label = f"column {entry_col!r}" if entry_col is not None else f"column {position}"
            return cls(f"{label}: {message}", file=f, entry=fname, field=field, rule=rule)

        # F2
        if not (start <= name_end <= len(text)) or not _utf8_boundary(text, name_end):
            raise bad(InvalidField, f"name_end {name_end} (start {start}, column_text of "
                      f"{len(text)} bytes)", "name_end", "F2")
        if not (name_end <= zone_end <= len(text)) or not _utf8_boundary(text, zone_end):
            raise bad(InvalidField, f"zone_end {zone_end} (name_end {name_end}, column_text of "
                      f"{len(text)} bytes)", "zone_end", "F2")
        cname = text[start:name_end].decode("utf-8")
        zone = text[name_end:zone_end].decode("utf-8")
        # F3
        if dtype not in DTYPES:
            raise bad(UnsupportedFeature, f"dtype {dtype} (file version {self.version[0]}."
                      f"{self.version[1]}, reader version {READER_VERSION[0]}.{READER_VERSION[1]})", "dtype", "F3", cname)
        if kind not in COLUMN_KINDS:
            raise bad(UnsupportedFeature, f"kind {kind} (file version {self.version[0]}."
                      f"{self.version[1]}, reader version {READER_VERSION[0]}.{READER_VERSION[1]})", "kind", "F3", cname)
        ok = {0: dtype == 0, 1: dtype not in (0, 10), 2: dtype == 5, 3: dtype == 5,
              4: dtype == 4, 5: dtype == 3, 6: dtype == 4, 7: dtype == 3}[kind]
        if not ok:
            raise bad(InvalidField, f"dtype {DTYPES[dtype][0]} for a {COLUMN_KINDS[kind]} "
                      "column", "dtype", "F3", cname)
        # F4
        if kind in (4, 6):
            if unit not in UNITS:
                raise bad(UnsupportedFeature, f"time unit {unit} (file version "
                          f"{self.version[0]}.{self.version[1]}, reader version {READER_VERSION[0]}.{READER_VERSION[1]})", "unit",
                          "F4", cname)
        elif unit != 0:
            raise bad(InvalidField, f"unit {unit} for a {COLUMN_KINDS[kind]} column", "unit",
                      "F4", cname)
        if zone and (kind != 4 or not _zone_form(zone)):
            raise bad(InvalidField, f"zone {zone!r} " + ("is neither ±HH:MM nor of the form of "
                      "an IANA time zone name" if kind == 4
                      else f"on a {COLUMN_KINDS[kind]} column"),
                      "zone_end", "F4", cname)
        # F5
        if reserved or any(reserved2):
            raise bad(InvalidField, "reserved bytes are not zero", "reserved", "F5", cname)
        if null_count > rows:
            raise bad(InvalidField, f"null_count {null_count} > rows {rows}", "null_count",
                      "F5", cname)
        if stats not in (0, 1) or (stats == 1 and kind not in (0, 1, 4, 5, 6)):
            raise bad(InvalidField, f"stats {stats} for a {COLUMN_KINDS[kind]} column",
                      "stats", "F5", cname)
        # F7, overflow
        size = DTYPES[dtype][1]
        fixed = kind not in (0, 2, 3)
        if (rows + 1) * 8 >= U64 or (fixed and rows * size >= U64):
            raise bad(InvalidField, f"{rows} rows overflow 64 bits", "rows", "F7", cname)
        slots = dict(zip(SLOTS, (validity, values, offsets, dict_offsets, dict_values)))
        # F6, validity
        if null_count > 0 and validity == NO_SECTION:
            raise bad(InvalidField, f"{null_count} nulls without a validity bitmap",
                      "validity", "F6", cname)
        secs = self._section_list
        buffers = {}
        for slot in SLOTS:
            section = slots[slot]
            if slot != "validity":      # F6: present exactly for the kind's slots
                want = slot in KIND_SLOTS[kind]
                if (section != NO_SECTION) != want:
                    raise bad(InvalidField, f"{slot} is " + ("missing" if want else "present")
                              + f" in a {COLUMN_KINDS[kind]} column", slot, "F6", cname)
            if section == NO_SECTION:
                continue
            # F7: the buffer's section
            if section >= len(secs):
                raise bad(InvalidField, f"section {section} does not exist", slot, "F7", cname)
            s = secs[section]
            elem = _element_size(slot, kind, size)
            expect = None
            if slot == "validity" or (slot == "values" and kind == 0):
                expect = -(-rows // 8)
            elif slot == "values" and fixed:
                expect = rows * size
            elif slot == "offsets":
                expect = (rows + 1) * 8
            if expect is not None and s.raw_length != expect:
                raise bad(InvalidField, f"section {section} decodes to {s.raw_length} bytes, "
                          f"expected {expect}", slot, "F7", cname)
            if s.shuffle not in (0, elem) or (s.shuffle and elem < 2) or \
                    (s.codec == 1 and s.chunk_length % elem):
                raise bad(InvalidField, f"section {section}: shuffle {s.shuffle} / chunk_length "
                          f"{s.chunk_length} do not fit {elem}-byte elements", slot, "F7", cname)
            buffers[slot] = section
        if kind == 7:       # F7, the dictionary's size
            raw = secs[dict_offsets].raw_length
            if raw % 8 or raw < 8 or raw // 8 - 1 > MAX_DICTIONARY:
                raise bad(InvalidField, f"dictionary offsets of {raw} bytes: not 8 × (n + 1) "
                          "with n ≤ 2³¹", "dictionary_offsets", "F7", cname)
        if stats:
            if dtype in UNSIGNED:
                st = (vmin, vmax)
            elif dtype in FLOATS:
                st = tuple(struct.unpack("<d", struct.pack("<Q", v))[0] for v in (vmin, vmax))
            else:
                st = tuple(v - U64 if v >= 1 << 63 else v for v in (vmin, vmax))
        else:
            st = None
        values_sec = secs[values]
        return Column(name=cname, kind=COLUMN_KINDS[kind], dtype=DTYPES[dtype][0],
                      unit=UNITS[unit] if kind in (4, 6) else None, zone=zone or None,
                      null_count=null_count, stats=st, stats_bits=(vmin, vmax),
                      buffers=buffers, codec=values_sec.codec_name, row=row)

    # -- listing (no data page is read) ------------------------------------------------------
    @property
    def metadata(self) -> dict:
        """The file metadata: key -> str | int | float | bool | bytes, sorted by key."""
        return {k.decode("utf-8"): v for k, _, v in self._metadata}

    @property
    def sections(self) -> list:
        """The section table (``Section`` rows), in file order."""
        return list(self._section_list)

    def metadata_types(self, name=None) -> list:
        """``[(key, type name, value)]`` of the file (or of entry ``name``), in file order."""
        if name is None:
            items = self._metadata
        else:
            _, _, _, a, b = self._entry_list[self._find(name)]
            items = self._entry_metadata[a:b]
        return [(k.decode("utf-8"), t, v) for k, t, v in items]

    def __len__(self):
        return len(self._entry_list)

    def __contains__(self, name):
        return name in self._entry_index

    def _find(self, name) -> int:
        try:
            return self._entry_index[name]
        except KeyError:
            raise NotFound(f"no entry named {name!r}", file=self.path) from None

    def entry(self, name) -> Entry:
        """The description of entry ``name`` (from the manifest alone)."""
        ename, kind, index, a, b = self._entry_list[self._find(name)]
        meta = {k.decode("utf-8"): v for k, _, v in self._entry_metadata[a:b]}
        e = Entry(name=ename, kind=ENTRY_KINDS[kind], index=index, metadata=meta)
        if kind == 0:
            section, shape, dtype = self._array_info[index]
            e.dtype, e.shape, e.section = DTYPES[dtype][0], shape, section
            e.codec = self._section_list[section].codec_name
        elif kind == 1:
            rows, cols = self._frame_info[index]
            e.rows, e.columns = rows, list(cols)
        else:
            info = self._model_info[index]
            e.section = info["section"]
            e.codec = self._section_list[e.section].codec_name
            e.type_name, e.schema = info["type_name"], info["schema"]
            e.fingerprint, e.version = info["fingerprint"], info["version"]
        return e

    def entries(self) -> list:
        """Every entry, sorted by name (the file's order)."""
        return [self.entry(e[0]) for e in self._entry_list]

    # -- tier 2: decoding sections (§10, rules D1, D2) ---------------------------------------
    def _section_bytes(self, j, who) -> np.ndarray:
        """The decoded bytes of section ``j`` as a uint8 array: a view of the mapping for a raw
        section, decoded once and kept for a zstd section."""
        s = self._section_list[j]
        if s.codec == 0:
            return np.frombuffer(self._mm, np.uint8, count=s.raw_length, offset=s.offset)
        if j in self._decoded:
            return self._decoded[j]
        if self._decoded_total + s.raw_length > self.max_decompressed_bytes:
            raise LimitExceeded(f"decoding section {j} ({s.raw_length} bytes) would exceed "
                                f"this reader's budget of {self.max_decompressed_bytes} "
                                "decoded bytes", file=self.path, entry=who)
        out = np.empty(s.raw_length, np.uint8)
        for i in range(len(s.chunks)):
            start = i * s.chunk_length
            self._decode_chunk(s, i, who, into=out[start:start + s.chunk_length])
        self._decoded[j] = out
        self._decoded_total += s.raw_length
        return out

    def _decode_chunk(self, s: Section, i: int, who, location=None, into=None) -> np.ndarray:
        """§10.3: chunk ``i`` of zstd section ``s``, checked (D1, D2), decoded into ``into``
        (its place in the section's buffer) or a new array."""
        c_off, c_len, c_ck = s.chunks[i]
        n = min(s.chunk_length, s.raw_length - i * s.chunk_length)
        start = s.offset + c_off
        data = self._mm[start:start + c_len]
        try:
            raw = np.frombuffer(_zstd_one_frame(data, n), np.uint8)
        except ValueError as e:
            raise Decompress(f"chunk {i}: {e}", file=self.path, entry=who,
                             location=location or f"section {s.index}", rule="D1") from None
        out = np.empty(n, np.uint8) if into is None else into
        if s.shuffle:
            _unshuffle(raw, s.shuffle, out)
        else:
            out[:] = raw
        if xxh3(out) != c_ck:
            raise ChecksumMismatch(f"chunk {i}: decoded bytes hash to {xxh3(out):#018x}, the "
                                   f"chunk index says {c_ck:#018x}", file=self.path, entry=who,
                                   location=location or f"section {s.index}", rule="D2")
        return out

    def _entry_of_kind(self, name, kind):
        i = self._find(name)
        ename, k, index, _, _ = self._entry_list[i]
        if k != kind:
            raise WrongKind(f"entry is a {ENTRY_KINDS[k]}, not a {ENTRY_KINDS[kind]}",
                            file=self.path, entry=ename)
        return index

    # -- tier 2: arrays (§7, D1-D3) ------------------------------------------------------------
    def array(self, name) -> np.ndarray:
        """Array ``name`` as a numpy array of its dtype and shape, C order.

        A raw array is a read-only view of the mapping (``arr.base`` leads to the mmap); a zstd
        array is decoded (and unshuffled) once. ``f16`` is ``float16``; ``bf16``, which numpy
        lacks, comes back as its ``uint16`` bits (``bf16_to_float32`` converts)."""
        index = self._entry_of_kind(name, 0)
        section, shape, dtype = self._array_info[index]
        data = self._section_bytes(section, name)
        if dtype == 0 and data.size and data.max() > 1:                     # D3
            bad = int(np.argmax(data > 1))
            raise InvalidData(f"bool element {bad} is {int(data[bad]):#04x}, not 00 or 01",
                              file=self.path, entry=name, rule="D3")
        try:
            return data.view(DTYPES[dtype][2]).reshape(shape)
        except ValueError:      # A3: a reader MAY refuse shapes its platform cannot address
            raise LimitExceeded(f"numpy cannot represent the shape {list(shape)}",
                                file=self.path, entry=name, field="dims") from None

    # -- tier 2: frames (§8, D1, D2, D4-D7) ---------------------------------------------------
    def columns(self, name) -> list:
        """The ``Column`` descriptions of frame ``name`` (from the manifest alone)."""
        return list(self._frame_info[self._entry_of_kind(name, 1)][1])

    def frame(self, name, columns=None) -> Frame:
        """Frame ``name`` as a ``Frame``: a dict column name -> values, in column order.

        Each column is checked the first time it is read (D10, D4-D7, after D1, D2 for its
        buffers); ``columns`` restricts the read to some columns. Values by kind:

        - bool, primitive: a numpy array (``bool`` unpacked from the bits, else the dtype; a
          view of the mapping for a raw primitive column);
        - timestamp: ``datetime64[unit]``; date: ``datetime64[D]``; duration:
          ``timedelta64[unit]`` (a timestamp's zone is in ``Column.zone``);
        - utf8: a list of ``str``, binary: a list of ``bytes``, ``None`` for a null row;
        - categorical: a ``Categorical`` (int32 codes, the dictionary's strings).

        Numpy columns with a validity bitmap are ``numpy.ma.MaskedArray``\\ s whose mask is set
        on null rows (the data under a mask is whatever the file holds there)."""
        index = self._entry_of_kind(name, 1)
        rows, cols = self._frame_info[index]
        if columns is not None:
            by_name = {c.name: c for c in cols}
            missing = [c for c in columns if c not in by_name]
            if missing:
                raise NotFound(f"no column {missing[0]!r}", file=self.path, entry=name)
            cols = [by_name[c] for c in columns]
        return Frame(rows, cols, {c.name: self._read_column(name, rows, c) for c in cols})

    def _read_column(self, fname, rows, col: Column):
        cached = self._columns_read.get(col.row)
        if isinstance(cached, BrineError):
            raise cached
        if cached is not None:
            return cached[0]
        try:
            value = self._decode_column(fname, rows, col)
        except BrineError as e:
            self._columns_read[col.row] = e
            raise
        self._columns_read[col.row] = (value,)
        return value

    def _decode_column(self, fname, rows, col: Column):
        def bad(message, field, rule):
            return InvalidColumn(f"column {col.name!r}: {message}", file=self.path,
                                 entry=fname, field=field, rule=rule)

        if col.zone and not _known_zone(col.zone):                          # D10
            raise bad(f"time zone {col.zone!r} is unknown to this reader's database", "zone",
                      "D10")
        buf = {slot: self._section_bytes(s, fname) for slot, s in col.buffers.items()}
        mask = None
        if "validity" in buf:                                               # D4
            mask = ~np.unpackbits(buf["validity"], bitorder="little", count=rows).astype(bool)
            nulls = int(mask.sum())
            if nulls != col.null_count:
                raise bad(f"{nulls} clear validity bits, null_count says {col.null_count}",
                          "validity", "D4")
        kind = col.kind

        def strings(values, offsets, n, field_off, field_val, utf8):
            o = offsets.view("<i8")                                         # D5
            if n + 1 != o.size or o[0] != 0 or np.any(o[1:] < o[:-1]) or \
                    int(o[-1]) != values.size:
                raise bad(f"offsets do not run from 0 up to {values.size}, never decreasing",
                          field_off, "D5")
            data = values.tobytes()
            if utf8:                                                        # D6
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise bad(f"not valid UTF-8 at byte {e.start}", field_val, "D6") from None
                inner = o[(o > 0) & (o < values.size)]
                if inner.size and np.any((values[inner] & 0xC0) == 0x80):
                    raise bad("an offset falls inside a character", field_val, "D6")
            ol = o.tolist()
            return ol, data

        if kind in ("utf8", "binary"):
            ol, data = strings(buf["values"], buf["offsets"], rows, "offsets", "values",
                               kind == "utf8")
            out = []
            for i in range(rows):
                if mask is not None and mask[i]:
                    out.append(None)
                else:
                    b = data[ol[i]:ol[i + 1]]
                    out.append(b.decode("utf-8") if kind == "utf8" else b)
            return out
        if kind == "categorical":
            dn = buf["dictionary_offsets"].size // 8 - 1
            ol, data = strings(buf["dictionary_values"], buf["dictionary_offsets"], dn,
                               "dictionary_offsets", "dictionary_values", True)
            dictionary = [data[ol[i]:ol[i + 1]].decode("utf-8") for i in range(dn)]
            codes = buf["values"].view("<i4")
            valid = codes if mask is None else codes[~mask]                 # D7
            if valid.size and (valid.min() < 0 or valid.max() >= dn):
                raise bad(f"a code outside 0..{dn}", "codes", "D7")
            return Categorical(codes if mask is None else np.ma.MaskedArray(codes, mask),
                               dictionary)
        self._check_stats(fname, rows, col, buf, mask)                      # D11
        if kind == "bool":
            data = np.unpackbits(buf["values"], bitorder="little", count=rows).astype(bool)
        else:
            dt = DTYPES[_dtype_code(col.dtype)][2]
            data = buf["values"].view(dt)
            if kind == "timestamp":
                data = data.view(f"datetime64[{col.unit}]")
            elif kind == "duration":
                data = data.view(f"timedelta64[{col.unit}]")
            elif kind == "date":
                data = data.astype("datetime64[D]")
        return data if mask is None else np.ma.MaskedArray(data, mask)

    def _check_stats(self, fname, rows, col: Column, buf, mask):
        """D11 (§8.5): ``stats`` is set exactly when a non-null (for floats: non-NaN) value
        exists, and then ``min``/``max`` equal (numerically: -0.0 == 0.0, NaN equals nothing)
        the smallest and largest of them. Utf8, binary and categorical columns carry none."""
        if col.kind in ("utf8", "binary", "categorical"):
            return
        if col.kind == "bool":
            values = np.unpackbits(buf["values"], bitorder="little", count=rows).astype(np.int64)
        else:
            values = buf["values"].view(DTYPES[_dtype_code(col.dtype)][2])
        if mask is not None:
            values = values[~mask]
        floating = values.dtype.kind == "f"
        if floating:
            values = values[~np.isnan(values)]
        if values.size:
            lo, hi = values.min(), values.max()
            found = (float(lo), float(hi)) if floating else (int(lo), int(hi))
        else:
            found = None

        def bad(message, field):
            return InvalidColumn(f"column {col.name!r}: {message}", file=self.path,
                                 entry=fname, field=field, rule="D11")

        if (col.stats is None) != (found is None):
            raise bad(f"the manifest's range is {col.stats}, the values' {found}", "stats")
        if found is not None:
            for i, field in ((0, "min"), (1, "max")):
                if not col.stats[i] == found[i]:
                    raise bad(f"the manifest says {field} {col.stats[i]!r}, the values' "
                              f"{field} is {found[i]!r}", field)

    def _check_frame_stats(self):
        """D11 for every column of every frame, as verify requires (§14.8)."""
        for name, kind, index, _, _ in self._entry_list:
            if kind != 1:
                continue
            rows, cols = self._frame_info[index]
            for col in cols:
                if col.kind in ("utf8", "binary", "categorical"):
                    continue
                buf = {slot: self._section_bytes(s, name) for slot, s in col.buffers.items()}
                mask = None
                if "validity" in buf:
                    mask = ~np.unpackbits(buf["validity"], bitorder="little",
                                          count=rows).astype(bool)
                self._check_stats(name, rows, col, buf, mask)

    # -- tier 2: models (§9, SCHEMA.md; D1, D2, D8, D9) ---------------------------------------
    def schema(self, name) -> "Schema":
        """The parsed schema text of model ``name``, its fingerprint recomputed (D8)."""
        index = self._entry_of_kind(name, 2)
        info = self._model_info[index]
        try:
            schema = Schema(info["schema"])
        except SchemaError as e:
            raise SchemaMismatch(f"the schema text does not parse: {e}", file=self.path,
                                 entry=name, field="schema", rule="D8") from None
        return schema

    def model(self, name, expected_fingerprint=None):
        """Model ``name`` decoded through its stored schema text as nested Python values.

        The stored fingerprint must equal the one recomputed from the stored schema text, and
        ``expected_fingerprint`` if given (D8, ``SchemaMismatch``); then the archive is decoded
        (D1, D2) and every byte read is validated as rkyv would (D9, ``InvalidModel``).
        Values: structs -> dict (tuple structs -> tuple, unit structs -> None), enums ->
        ``{variant: payload}`` (payload None, a tuple or a dict), Option -> None or the value,
        Box -> the value, Vec and arrays of numbers -> numpy arrays (views of the archive),
        other Vecs and arrays -> lists, tuples -> tuples, String -> str, char -> str,
        BTreeMap -> dict (or a list of (key, value) pairs when keys are unhashable),
        BTreeSet -> list, in key order."""
        index = self._entry_of_kind(name, 2)
        info = self._model_info[index]
        stored = info["fingerprint"]
        schema = self.schema(name)
        if schema.fingerprint != stored:
            raise SchemaMismatch(f"stored fingerprint {stored:#018x}, the stored schema text "
                                 f"hashes to {schema.fingerprint:#018x}", file=self.path,
                                 entry=name, field="fingerprint", rule="D8")
        if expected_fingerprint is not None and expected_fingerprint != stored:
            raise SchemaMismatch(f"stored fingerprint {stored:#018x} ({info['type_name']}), "
                                 f"expected {expected_fingerprint:#018x}", file=self.path,
                                 entry=name, field="fingerprint", rule="D8")
        archive = self._section_bytes(info["section"], name)
        return schema.decode(archive, error_where=dict(file=self.path, entry=name),
                             max_depth=self.max_model_depth)

    # -- tier 3: verify (§14.8, V1-V3) ---------------------------------------------------------
    def verify(self):
        """Tier 3: zero padding in the data area (V1), every section's checksum (V2), every
        chunk decoded and checked (V3), then every column's statistics (D11)."""
        pos = HEADER_LEN
        for s in self._section_list + [None]:
            end = self._mo if s is None else s.offset
            if end > pos and _any_nonzero(self._mm, pos, end):
                raise InvalidField(f"non-zero padding in bytes {pos}..{end}", file=self.path,
                                   location="data area", field="padding", rule="V1")
            if s is not None:
                pos = max(pos, s.offset + s.length)
        for s in self._section_list:
            got = xxh3(memoryview(self._mm)[s.offset:s.offset + s.length])
            if got != s.checksum:
                raise ChecksumMismatch(f"stored bytes hash to {got:#018x}, the section table "
                                       f"says {s.checksum:#018x}", file=self.path,
                                       entry=self._section_owner[s.index][0],
                                       location=f"section {s.index}", rule="V2")
        for s in self._section_list:
            for i in range(len(s.chunks)):
                self._decode_chunk(s, i, self._section_owner[s.index][0], f"section {s.index}")
        self._check_frame_stats()


def _dtype_code(name):
    for code, (n, _, _) in DTYPES.items():
        if n == name:
            return code
    raise AssertionError(name)


def _element_size(slot, kind, size):
    """§8.2: the element size of a column's buffer."""
    if slot in ("offsets", "dictionary_offsets"):
        return 8
    if slot == "values" and kind not in (0, 2, 3):
        return size
    return 1


def _any_nonzero(mm, start, end, step=1 << 24):
    for p in range(start, end, step):
        q = min(end, p + step)
        if np.frombuffer(mm, np.uint8, count=q - p, offset=p).any():
            return True
    return False


_DCTX = zstandard.ZstdDecompressor()
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _zstd_one_frame(data: bytes, n: int) -> bytes:
    """§10.3 step 2: ``data`` must be exactly one zstd frame decoding to exactly ``n`` bytes.

    The input is fed in pieces so that a frame that decodes to more than ``n`` bytes is caught
    after a bounded amount of output, whatever its header declares (no decompression bombs)."""
    if data[:4] != _ZSTD_MAGIC:
        raise ValueError("not a zstd frame (skippable frames are not allowed)")
    try:
        declared = zstandard.frame_content_size(data)       # -1: not declared
    except zstandard.ZstdError as e:
        raise ValueError(f"zstd frame header: {e}") from None
    if declared >= 0:
        # The frame states its size: it must be the manifest's, and zstd then refuses a frame
        # whose content differs from what it states; one call decodes it into n bytes.
        if declared != n:
            raise ValueError(f"the frame declares {declared} bytes, expected {n}")
        try:
            out = _DCTX.decompress(data, max_output_size=n, allow_extra_data=False)
        except zstandard.ZstdError as e:
            raise ValueError(f"zstd: {e}") from None
        if len(out) != n:
            raise ValueError(f"the frame decodes to {len(out)} bytes, expected {n}")
        return out
    d = _DCTX.decompressobj()
    out = bytearray()
    pos = 0
    try:
        while pos < len(data) and not d.eof:
            step = max(4096, (n - len(out)) // 32768 + 4096)
            out += d.decompress(data[pos:pos + step])
            pos += step
            if len(out) > n:
                raise ValueError(f"the frame decodes to more than {n} bytes")
    except zstandard.ZstdError as e:
        raise ValueError(f"zstd: {e}") from None
    if not d.eof:
        raise ValueError("the frame is incomplete")
    if d.unused_data or pos < len(data):
        raise ValueError("bytes follow the frame (one frame per chunk)")
    if len(out) != n:
        raise ValueError(f"the frame decodes to {len(out)} bytes, expected {n}")
    return bytes(out)


def _unshuffle(shuffled: np.ndarray, s: int, out: np.ndarray) -> None:
    """§10.4: ``raw[i*s + j] = shuffled[j*n + i]``, written to ``out``; a trailing partial
    element is copied unchanged."""
    n = shuffled.size // s
    out[:n * s].reshape(n, s)[...] = shuffled[:n * s].reshape(s, n).T
    out[n * s:] = shuffled[n * s:]


# ---------------------------------------------------------------------------------------------
# Model schemas (SCHEMA.md): the text, the fingerprint, and decoding an archive through it


class SchemaError(Exception):
    """The schema text breaks the grammar of SCHEMA.md §4 or is inconsistent."""


PRIMITIVES = {   # SCHEMA.md §3.1: name -> (size, align, struct format or None)
    "bool": (1, 1, None), "u8": (1, 1, "<B"), "i8": (1, 1, "<b"), "u16": (2, 2, "<H"),
    "i16": (2, 2, "<h"), "u32": (4, 4, "<I"), "i32": (4, 4, "<i"), "u64": (8, 8, "<Q"),
    "i64": (8, 8, "<q"), "u128": (16, 16, None), "i128": (16, 16, None), "f16": (2, 2, "<e"),
    "bf16": (2, 2, None), "f32": (4, 4, "<f"), "f64": (8, 8, "<d"), "char": (4, 4, None),
    "String": (8, 4, None),
}
CONTAINERS = {"Vec": 1, "Option": 1, "Box": 1, "BTreeSet": 1, "BTreeMap": 2}
NUMPY_ELEMENTS = {"bool": "?", "u8": "u1", "i8": "i1", "u16": "<u2", "i16": "<i2",
                  "u32": "<u4", "i32": "<i4", "u64": "<u8", "i64": "<i8", "f16": "<f2",
                  "f32": "<f4", "f64": "<f8"}
_SPECIAL = set(" ,:;<>()[]{}=@\n")
BTREE_E = 5         # rkyv's ArchivedBTreeMap: entries per node


def _S(s: str) -> int:
    return xxh3(s.encode("utf-8"))


def _fold(*words) -> int:
    h = words[0]
    for w in words[1:]:
        h = xxh3(struct.pack("<QQ", h, w))
    return h


def _round_up(x, a):
    return -(-x // a) * a


def _c_layout(fields):
    """SCHEMA.md §3.1: ``(offsets, size, align)`` of a ``#[repr(C)]`` list of (size, align)."""
    offset, align, offsets = 0, 1, []
    for size, a in fields:
        offset = _round_up(offset, a)
        offsets.append(offset)
        offset += size
        align = max(align, a)
    return offsets, _round_up(offset, align), align


@dataclasses.dataclass(frozen=True)
class Type:
    """A parsed type expression: ``base`` (an identifier, ``[;]`` or ``()``), its arguments
    and, for arrays, the length. ``text`` is its canonical expression."""
    base: str
    args: tuple
    length: int | None
    text: str


class _TypeParser:
    def __init__(self, s):
        self.s, self.i = s, 0

    def expect(self, lit):
        if not self.s.startswith(lit, self.i):
            raise SchemaError(f"expected {lit!r} at {self.i} in {self.s!r}")
        self.i += len(lit)

    def ident(self):
        j = self.i
        while j < len(self.s) and self.s[j] not in _SPECIAL:
            j += 1
        if j == self.i or not (self.s[self.i].isidentifier()):
            raise SchemaError(f"expected an identifier at {self.i} in {self.s!r}")
        word, self.i = self.s[self.i:j], j
        if not word.isidentifier():
            raise SchemaError(f"{word!r} is not an identifier")
        return word

    def number(self):
        j = self.i
        while j < len(self.s) and self.s[j].isascii() and self.s[j].isdigit():
            j += 1
        word = self.s[self.i:j]
        if not word or (len(word) > 1 and word[0] == "0"):
            raise SchemaError(f"expected a number at {self.i} in {self.s!r}")
        self.i = j
        return int(word)

    def type(self, depth=0) -> Type:
        if depth > 256:
            raise SchemaError("type expression nested too deeply")
        start = self.i
        if self.s.startswith("[", self.i):
            self.i += 1
            elem = self.type(depth + 1)
            self.expect("; ")
            n = self.number()
            self.expect("]")
            return Type("[;]", (elem,), n, self.s[start:self.i])
        if self.s.startswith("()", self.i):
            self.i += 2
            return Type("()", (), None, "()")
        if self.s.startswith("(", self.i):
            self.i += 1
            elems = [self.type(depth + 1)]
            if self.s.startswith(",)", self.i):
                self.i += 2
            else:
                while self.s.startswith(", ", self.i):
                    self.i += 2
                    elems.append(self.type(depth + 1))
                self.expect(")")
                if len(elems) < 2:
                    raise SchemaError(f"bad tuple in {self.s!r}")
            return Type("()", tuple(elems), None, self.s[start:self.i])
        name = self.ident()
        args = []
        if self.s.startswith("<", self.i):
            self.i += 1
            args.append(self.type(depth + 1))
            while self.s.startswith(", ", self.i):
                self.i += 2
                args.append(self.type(depth + 1))
            self.expect(">")
        return Type(name, tuple(args), None, self.s[start:self.i])


@dataclasses.dataclass
class Definition:
    """A definition line (SCHEMA.md §4.1): a struct (one variant, named ``None``) or an enum."""
    type: Type
    kind: str                   # "struct" or "enum"
    variants: list              # [(name or None, shape, [(field name or None, Type, by_name)])]
    size: int
    align: int


class Schema:
    """A schema text (SCHEMA.md §4), parsed, with its fingerprint recomputed (§5)."""

    def __init__(self, text: str):
        self.text = text
        if not text.endswith("\n"):
            raise SchemaError("the text does not end with a line feed")
        lines = text[:-1].split("\n")
        if "\r" in text or any(not ln or ln.endswith(" ") for ln in lines):
            raise SchemaError("carriage return, empty line or trailing space")
        if not lines[0].startswith("root: "):
            raise SchemaError("the first line is not 'root: <type>'")
        p = _TypeParser(lines[0][6:])
        self.root = p.type()
        if p.i != len(p.s):
            raise SchemaError(f"junk after the root type: {lines[0]!r}")
        self.defs = {}
        for line in lines[1:]:
            d = self._definition(line)
            if d.type.text in self.defs:
                raise SchemaError(f"{d.type.text} is defined twice")
            self.defs[d.type.text] = d
        self._layouts = {}
        for d in self.defs.values():
            self._check_definition(d)
        self._check_type(self.root)
        self._fp = {}
        self.fingerprint = self.F(self.root, ())

    def _definition(self, line) -> Definition:
        p = _TypeParser(line)
        t = p.type()
        if t.base in PRIMITIVES or t.base in CONTAINERS or t.base in ("[;]", "()"):
            raise SchemaError(f"a definition of the built-in type {t.text}")
        p.expect(" = ")
        variants = []
        if line.startswith("struct", p.i):
            p.expect("struct")
            kind = "struct"
            variants.append((None,) + self._fields(p))
        else:
            p.expect("enum ")
            kind = "enum"
            if line.startswith("{}", p.i):
                p.i += 2
            else:
                p.expect("{ ")
                while True:
                    name = p.ident()
                    variants.append((name,) + self._fields(p))
                    if line.startswith(", ", p.i):
                        p.i += 2
                        continue
                    p.expect(" }")
                    break
        p.expect(" size ")
        size = p.number()
        p.expect(" align ")
        align = p.number()
        if p.i != len(line):
            raise SchemaError(f"junk at the end of {line!r}")
        if align < 1 or align & (align - 1) or size % align:
            raise SchemaError(f"{t.text}: size {size} align {align}")
        return Definition(t, kind, variants, size, align)

    @staticmethod
    def _fields(p):
        """``fields`` of the grammar: ``(shape, [(name, Type, by_name)])``."""
        def field_type():
            by_name = p.s.startswith("@", p.i)
            if by_name:
                p.i += 1
            return p.type(), by_name

        s = p.s
        if s.startswith("(", p.i):
            p.i += 1
            fields = []
            if not s.startswith(")", p.i):
                while True:
                    t, by = field_type()
                    fields.append((None, t, by))
                    if s.startswith(", ", p.i):
                        p.i += 2
                        continue
                    break
            p.expect(")")
            return "tuple", fields
        if s.startswith(" {}", p.i):
            p.i += 3
            return "named", []
        if s.startswith(" { ", p.i):
            p.i += 3
            fields = []
            while True:
                name = p.ident()
                p.expect(": ")
                t, by = field_type()
                fields.append((name, t, by))
                if s.startswith(", ", p.i):
                    p.i += 2
                    continue
                p.expect(" }")
                break
            return "named", fields
        return "unit", []

    # -- layouts (SCHEMA.md §3) ----------------------------------------------------------------
    def _check_type(self, t: Type):
        """Every named type a type reaches has a definition; arities are right."""
        if t.base in PRIMITIVES:
            if t.args:
                raise SchemaError(f"{t.text}: a primitive has no arguments")
        elif t.base in CONTAINERS:
            if len(t.args) != CONTAINERS[t.base]:
                raise SchemaError(f"{t.text}: {t.base} takes {CONTAINERS[t.base]} arguments")
        elif t.base not in ("[;]", "()") and t.text not in self.defs:
            raise SchemaError(f"{t.text} has no definition line")
        for a in t.args:
            self._check_type(a)

    def layout(self, t: Type):
        """``(size, align)`` of the archived form of ``t``."""
        if t.base in PRIMITIVES:
            return PRIMITIVES[t.base][:2]
        if t.base in ("Vec", "BTreeSet", "BTreeMap"):
            return 8, 4
        if t.base == "Box":
            return 4, 4
        if t.base == "Option":
            s, a = self.layout(t.args[0])
            return a + s, a
        if t.base == "[;]":
            s, a = self.layout(t.args[0])
            return t.length * s, a
        if t.base == "()":
            return _c_layout([self.layout(a) for a in t.args])[1:]
        d = self.defs[t.text]
        return d.size, d.align

    def _check_definition(self, d: Definition):
        for _, _, fields in d.variants:
            for _, t, _ in fields:
                self._check_type(t)
        # §3.2: struct = C layout of its fields; enum = C layout of (u8 tag, fields) per
        # variant, size and alignment the largest, the size rounded up to the alignment.
        try:
            layouts = []
            for _, _, fields in d.variants:
                fl = [self.layout(t) for _, t, _ in fields]
                layouts.append(_c_layout(([(1, 1)] if d.kind == "enum" else []) + fl))
        except RecursionError:
            raise SchemaError(f"{d.type.text} contains itself without a pointer") from None
        if d.kind == "enum":
            align = max([a for _, _, a in layouts], default=1)
            size = _round_up(max([s for _, s, _ in layouts], default=0), align)
        else:
            _, size, align = layouts[0]
        if (size, align) != (d.size, d.align):
            raise SchemaError(f"{d.type.text}: its fields lay out as size {size} align {align}, "
                              f"the line says size {d.size} align {d.align} (an rkyv `with` "
                              "wrapper? this reader cannot follow it)")
        self._layouts[d.type.text] = [offs for offs, _, _ in layouts]

    # -- the fingerprint (SCHEMA.md §5) --------------------------------------------------------
    @staticmethod
    def N(t: Type) -> int:
        if t.base == "[;]":
            return _fold(_S("[;]"), 2, Schema.N(t.args[0]), t.length)
        return _fold(_S(t.base), len(t.args), *(Schema.N(a) for a in t.args))

    def F(self, t: Type, stack) -> int:
        if t.text in self._fp:
            return self._fp[t.text]
        if t.text in stack:
            raise SchemaError(f"{t.text} contains itself through fields that are not by-name "
                              "(@): its fingerprint is undefined")
        stack = stack + (t.text,)
        size, align = self.layout(t)
        if t.text in self.defs:
            d = self.defs[t.text]
            words = [self.N(t), _S(d.kind)]
            if d.kind == "enum":
                words.append(len(d.variants))
            for vname, shape, fields in d.variants:
                if vname is not None:
                    words.append(_S(vname))
                words += self._shape_words(shape, fields, stack)
            fp = _fold(*words, size, align)
        else:
            fp = _fold(self.N(t), *(self.F(a, stack) for a in t.args), size, align)
        self._fp[t.text] = fp
        return fp

    def _shape_words(self, shape, fields, stack):
        def ref(t, by_name):
            return [1, self.N(t)] if by_name else [0, self.F(t, stack)]

        if shape == "unit":
            return [0]
        if shape == "tuple":
            words = [1, len(fields)]
            for _, t, by in fields:
                words += ref(t, by)
            return words
        words = [2, len(fields)]
        for name, t, by in fields:
            words += [_S(name)] + ref(t, by)
        return words

    # -- decoding an archive (FORMAT.md §5.2-§5.6, §9; rkyv's validation, D9) ---------------
    def decode(self, archive, error_where=None, max_depth=1024):
        """Decodes and validates ``archive`` (bytes-like, exactly the archive) as the root."""
        buf = archive if isinstance(archive, np.ndarray) else np.frombuffer(archive, np.uint8)
        a = _Archive(memoryview(buf), InvalidModel, error_where or {}, max_depth)
        a.array = buf
        size, align = self.layout(self.root)
        root = max(0, a.len - size)             # rkyv's root_position: at the end
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20 * max_depth + 1000))
        try:
            return a.visit(root, size, align, self.root.text,
                           lambda: self._value(a, self.root, root))
        except RecursionError:
            a.fail("archive nested too deeply for this reader")
        finally:
            sys.setrecursionlimit(limit)

    def _value(self, a: _Archive, t: Type, p: int):
        base = t.base
        if base in PRIMITIVES:
            return self._primitive(a, t, p)
        if base == "Vec":
            return self._vec(a, t, p)
        if base == "Box":
            s, al = self.layout(t.args[0])
            target = p + a.i32(p)
            return a.visit(target, s, al, t.text, lambda: self._value(a, t.args[0], target))
        if base == "Option":
            tag = a.u8(p)
            if tag == 0:
                return None
            if tag != 1:
                a.fail(f"{t.text}: tag {tag}, not 0 (None) or 1 (Some)")
            _, al = self.layout(t.args[0])
            return self._value(a, t.args[0], p + al)
        if base == "[;]":
            return self._sequence(a, t.args[0], p, t.length)
        if base == "()":
            offsets = _c_layout([self.layout(x) for x in t.args])[0]
            return tuple(self._value(a, x, p + o) for x, o in zip(t.args, offsets))
        if base in ("BTreeMap", "BTreeSet"):
            return self._btree(a, t, p)
        return self._named(a, t, p)

    def _vec(self, a, t, p):
        elem = t.args[0]
        s, al = self.layout(elem)
        result = []

        def contents(start, n):
            result.append(self._sequence(a, elem, start, n))

        a.vector(p, s, al, t.text, contents)
        return result[0]

    def _sequence(self, a, elem: Type, start, n):
        """``n`` consecutive values of ``elem`` at ``start`` (a vector's or array's elements)."""
        if elem.base in NUMPY_ELEMENTS:
            arr = a.array[start:start + n * PRIMITIVES[elem.base][0]].view(
                NUMPY_ELEMENTS[elem.base])
            if elem.base == "bool" and arr.size and arr.view("u1").max() > 1:
                a.fail(f"bool element is {int(arr.view('u1').max()):#04x}")
            return arr
        s, _ = self.layout(elem)
        return [self._value(a, elem, start + i * s) for i in range(n)]

    def _primitive(self, a, t, p):
        base = t.base
        if base == "bool":
            b = a.u8(p)
            if b > 1:
                a.fail(f"bool byte {b:#04x}, not 00 or 01")
            return bool(b)
        if base == "String":
            return a.string_bytes(p, t.text).decode("utf-8")
        if base == "char":
            c = a.u32(p)
            if c > 0x10FFFF or 0xD800 <= c <= 0xDFFF:
                a.fail(f"char {c:#x} is not a Unicode scalar value")
            return chr(c)
        if base in ("u128", "i128"):
            return int.from_bytes(a.buf[p:p + 16], "little", signed=base == "i128")
        if base == "bf16":
            bits = struct.unpack_from("<H", a.buf, p)[0]
            return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
        return struct.unpack_from(PRIMITIVES[base][2], a.buf, p)[0]

    def _named(self, a, t, p):
        d = self.defs[t.text]
        offsets = self._layouts[t.text]
        if d.kind == "enum":
            tag = a.u8(p)
            if tag >= len(d.variants):
                a.fail(f"{t.text}: tag {tag}, {len(d.variants)} variants")
            vname, shape, fields = d.variants[tag]
            offs = offsets[tag][1:]
            return {vname: self._fields_value(a, shape, fields, offs, p)}
        _, shape, fields = d.variants[0]
        return self._fields_value(a, shape, fields, offsets[0], p)

    def _fields_value(self, a, shape, fields, offsets, p):
        values = [self._value(a, ft, p + o) for (_, ft, _), o in zip(fields, offsets)]
        if shape == "unit":
            return None
        if shape == "tuple":
            return tuple(values)
        return {name: v for (name, _, _), v in zip(fields, values)}

    def _btree(self, a, t, p):
        """rkyv's ``ArchivedBTreeMap<K, V>`` (FORMAT.md Appendix B): a relative pointer to the
        root node and the number of entries; ``BTreeSet<T>`` is the map ``BTreeMap<T, ()>``."""
        key_t = t.args[0]
        val_t = t.args[1] if t.base == "BTreeMap" else Type("()", (), None, "()")
        ks, ka = self.layout(key_t)
        vs, va = self.layout(val_t)
        # Node = repr(C) { kind: u8, keys: [K; E], values: [V; E] }
        node_offs, node_size, node_align = _c_layout([(1, 1), (BTREE_E * ks, ka),
                                                      (BTREE_E * vs, va)])
        # LeafNode = repr(C) { node: Node, len: u32 }
        leaf_offs, leaf_size, leaf_align = _c_layout([(node_size, node_align), (4, 4)])
        # InnerNode = repr(C) { node: Node, lesser: [RelPtr; E], greater: RelPtr }
        inner_offs, inner_size, inner_align = _c_layout([(node_size, node_align),
                                                         (4 * BTREE_E, 4), (4, 4)])

        def entries(q, n):
            return [(self._value(a, key_t, q + node_offs[1] + i * ks),
                     self._value(a, val_t, q + node_offs[2] + i * vs)) for i in range(n)]

        def node(q):
            """The pairs of the subtree whose node is at ``q``, in key order."""
            a.check_object(q, node_size, node_align, f"{t.text} node")
            kind = a.u8(q)
            if kind == 0:                                       # a leaf
                def leaf():
                    n = a.u32(q + leaf_offs[1])
                    if n > BTREE_E:
                        a.fail(f"{t.text}: a leaf node of {n} entries (at most {BTREE_E})")
                    return entries(q, n)
                return a.visit(q, leaf_size, leaf_align, f"{t.text} leaf node", leaf)
            if kind != 1:
                a.fail(f"{t.text}: node kind {kind}, not 0 (leaf) or 1 (inner)")

            def inner():
                # rkyv checks the E lesser subtrees and the greater one first, in that order,
                # then the node's own E entries; in key order, lesser subtree i precedes
                # entry i and the greater subtree follows entry E - 1.
                subtrees = []
                for i in range(BTREE_E + 1):
                    r = q + (inner_offs[1] + 4 * i if i < BTREE_E else inner_offs[2])
                    off = a.i32(r)
                    subtrees.append([] if off == 1 else node(r + off))  # 1: no child
                own = entries(q, BTREE_E)
                pairs = []
                for i in range(BTREE_E):
                    pairs += subtrees[i]
                    pairs.append(own[i])
                return pairs + subtrees[BTREE_E]

            return a.visit(q, inner_size, inner_align, f"{t.text} inner node", inner)

        length = a.u32(p + 4)
        pairs = []
        if length:
            pairs = node(p + a.i32(p))
            if len(pairs) != length:
                a.fail(f"{t.text}: {length} entries claimed, {len(pairs)} found")
        if t.base == "BTreeSet":
            return [k for k, _ in pairs]
        try:
            return dict(pairs)
        except TypeError:
            return pairs
