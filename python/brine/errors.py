"""The exceptions brine raises: one class per kind of failure, mirroring the Rust ``Error`` enum.

Every exception is a :class:`brine.Error` and carries the variant of the Rust error in
``kind`` (``"ChecksumMismatch"``, ``"NotFound"``...) and, where the error names them, the
``file``, ``entry``, ``column`` and ``field``. Each class also derives from the built-in
exception a Python user would catch for it: a missing entry is a :class:`KeyError`, bad input
a :class:`ValueError`, a failed system call an :class:`OSError`.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
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


class Error(Exception):
    """Any error brine reports."""

    kind: str
    file: Optional[str]
    entry: Optional[str]
    column: Optional[str]
    field: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        kind: str = "",
        file: Optional[str] = None,
        entry: Optional[str] = None,
        column: Optional[str] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.file = file
        self.entry = entry
        self.column = column
        self.field = field

    def __str__(self) -> str:
        # KeyError would print the repr of its argument; the message is the message.
        return str(self.args[0]) if self.args else ""


class CorruptFileError(Error, ValueError):
    """The file is not a brine file, or its bytes are damaged or inconsistent."""


class UnsupportedVersionError(Error):
    """The file was written by a newer format version, or uses a feature this build lacks."""


class LimitExceededError(Error):
    """The file asks for more than a reader limit allows (sizes, depth, address space)."""


class SchemaMismatchError(Error, TypeError):
    """A model entry was written by another version of its type."""


class WrongKindError(Error, TypeError):
    """The entry (or column) is not of the kind or type asked for."""


class CopyRequiredError(Error):
    """The entry is compressed and the file was opened requiring zero-copy reads."""


class NotFoundError(Error, KeyError):
    """No entry (or column) of that name."""


class InvalidInputError(Error, ValueError):
    """What was given to write cannot be written (bad shape, duplicate name, bad value)."""


class RangeError(Error, IndexError):
    """A range outside the array."""


class IoError(Error, OSError):
    """A system call failed (open, read, write, rename)."""


_CLASSES = {
    "Io": IoError,
    "NotBrine": CorruptFileError,
    "Truncated": CorruptFileError,
    "UnsupportedVersion": UnsupportedVersionError,
    "UnsupportedFeature": UnsupportedVersionError,
    "ChecksumMismatch": CorruptFileError,
    "InvalidHeader": CorruptFileError,
    "InvalidManifest": CorruptFileError,
    "InvalidField": CorruptFileError,
    "SectionOutOfBounds": CorruptFileError,
    "SectionsOverlap": CorruptFileError,
    "LimitExceeded": LimitExceededError,
    "Decompress": CorruptFileError,
    "InvalidData": CorruptFileError,
    "NotFound": NotFoundError,
    "WrongKind": WrongKindError,
    "WrongDtype": WrongKindError,
    "CopyRequired": CopyRequiredError,
    "RangeOutOfBounds": RangeError,
    "InvalidInput": InvalidInputError,
    "Duplicate": InvalidInputError,
    "InvalidColumn": CorruptFileError,
    "WrongColumnType": WrongKindError,
    "NoSuchColumn": NotFoundError,
    "SchemaMismatch": SchemaMismatchError,
    "InvalidModel": CorruptFileError,
    "Csv": InvalidInputError,
}


def class_for(kind: str) -> type:
    """The exception class of a Rust error variant."""
    return _CLASSES.get(kind, Error)


def _from_rust(
    kind: str,
    message: str,
    file: Optional[str],
    entry: Optional[str],
    column: Optional[str],
    field: Optional[str],
) -> Error:
    """Called by the Rust core to build the exception it raises."""
    return class_for(kind)(
        message, kind=kind, file=file, entry=entry, column=column, field=field
    )
