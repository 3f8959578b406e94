"""Models from Python: a safe ``pickle.dump(model)``.

A model is a dataclass instance (or an object of a class with ``__brine_state__`` and
``__brine_from_state__``) whose fields hold None, bool, int, float, str, bytes, lists, tuples
and dicts of those, nested dataclasses and numpy arrays. :func:`save_model` stores its numpy
arrays as array entries of the file (page-aligned, compressible, read back without a copy)
and everything else as one model entry of the built-in type ``brine::model::Value``
(``spec/SCHEMA.md``, "Value"), which a Rust program reads with ``reader.model::<Value>()``.

:func:`load_model` rebuilds an instance of the class the caller names. Nothing in the file is
imported or evaluated: the class names it holds are only compared and shown. The class's
schema (its name, its fields in order, their annotated types, recursively, and an optional
``__brine_version__``) is stored with the model; a class that changed since is refused with
:class:`brine.SchemaMismatchError`, which shows both schemas and the first difference, unless
the caller passes ``migrate``.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import typing
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from . import _brine
from .errors import CorruptFileError, InvalidInputError, SchemaMismatchError, WrongKindError

__all__ = ["save_model", "load_model", "plain_model", "schema_of", "ArrayRef", "Obj"]

# Entry metadata keys of a model written from Python.
SCHEMA_KEY = "brine.python.schema"
FINGERPRINT_KEY = "brine.python.fingerprint"


@dataclass(frozen=True)
class ArrayRef:
    """A node of a value tree: the array entry of this name (``Value::Array``)."""

    entry: str


@dataclass(frozen=True)
class Obj:
    """A node of a value tree: an object's class name and fields (``Value::Object``)."""

    cls: str
    fields: List[Tuple[str, Any]]


# -------------------------------------------------------------------------------------------
# Schemas


def _is_model_class(cls: Any) -> bool:
    return isinstance(cls, type) and (
        dataclasses.is_dataclass(cls) or hasattr(cls, "__brine_from_state__")
    )


def _hints(cls: type) -> Dict[str, Any]:
    # The annotations of the caller's own class (never of anything named by a file).
    return typing.get_type_hints(cls)


def _type_text(t: Any, pending: List[type]) -> str:
    """An annotation as schema text; nested model classes are queued for definition."""
    if t is Any:
        return "any"
    if t is type(None) or t is None:
        return "None"
    for builtin in (bool, int, float, str, bytes):
        if t is builtin:
            return builtin.__name__
    if t is np.ndarray:
        return "ndarray"
    if _is_model_class(t):
        if t not in pending:
            pending.append(t)
        return t.__qualname__
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is np.ndarray:
        # numpy.typing.NDArray[np.float32] is ndarray[Any, dtype[float32]].
        dtype = typing.get_args(args[1])[0] if len(args) == 2 and typing.get_args(args[1]) else None
        if dtype is None or dtype is Any:
            return "ndarray"
        return f"ndarray[{np.dtype(dtype).name}]"
    if origin in (list, List):
        return f"list[{_type_text(args[0], pending) if args else 'any'}]"
    if origin in (dict, Dict):
        k, v = args if args else (Any, Any)
        return f"dict[{_type_text(k, pending)}, {_type_text(v, pending)}]"
    if origin in (tuple, Tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return f"tuple[{_type_text(args[0], pending)}, ...]"
        return f"tuple[{', '.join(_type_text(a, pending) for a in args)}]"
    if origin is typing.Union or type(t).__name__ == "UnionType":
        return " | ".join(_type_text(a, pending) for a in args)
    raise InvalidInputError(
        f"annotation {t!r} is not a type a model can hold", kind="InvalidInput"
    )


def schema_of(cls: type) -> str:
    """The schema text of a model class: ``root: Name``, then one line per class reached
    from it, depth first, each once::

        root: Softmax
        Softmax = dataclass { weights: ndarray[float32], classes: list[str] } version 2
    """
    if not _is_model_class(cls):
        raise InvalidInputError(
            f"{cls!r} is not a dataclass nor a class with __brine_from_state__",
            kind="InvalidInput",
        )
    pending: List[type] = [cls]
    lines = [f"root: {cls.__qualname__}"]
    done = 0
    while done < len(pending):
        c = pending[done]
        done += 1
        version = getattr(c, "__brine_version__", None)
        tail = f" version {int(version)}" if version is not None else ""
        if hasattr(c, "__brine_from_state__"):
            lines.append(f"{c.__qualname__} = state{tail}")
            continue
        hints = _hints(c)
        fields = ", ".join(
            f"{f.name}: {_type_text(hints.get(f.name, Any), pending)}"
            for f in dataclasses.fields(c)
        )
        lines.append(f"{c.__qualname__} = dataclass {{ {fields} }}{tail}")
    return "\n".join(lines) + "\n"


def _first_difference(stored: str, expected: str) -> str:
    a, b = stored.splitlines(), expected.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at line {i + 1}: stored `{x}`, expected `{y}`"
    if len(a) != len(b):
        i = min(len(a), len(b))
        x = a[i] if i < len(a) else "(nothing)"
        y = b[i] if i < len(b) else "(nothing)"
        return f"first difference at line {i + 1}: stored `{x}`, expected `{y}`"
    return "the schemas are equal"


# -------------------------------------------------------------------------------------------
# Saving


def _tree(value: Any, path: str, arrays: Dict[str, np.ndarray], prefix: str) -> Any:
    """``value`` as a value tree; numpy arrays are set aside in ``arrays`` by entry name."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, np.generic) and not isinstance(value, (np.void, np.object_)):
        return value.item()
    if isinstance(value, np.ndarray):
        entry = f"{prefix}/{path}"
        arrays[entry] = value
        return ArrayRef(entry)
    if isinstance(value, list):
        return [_tree(v, f"{path}[{i}]", arrays, prefix) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return tuple(_tree(v, f"{path}[{i}]", arrays, prefix) for i, v in enumerate(value))
    if isinstance(value, dict):
        return {
            _tree(k, f"{path} key {k!r}", arrays, prefix): _tree(v, f"{path}[{k!r}]", arrays, prefix)
            for k, v in value.items()
        }
    cls = type(value)
    if hasattr(cls, "__brine_state__") and hasattr(cls, "__brine_from_state__"):
        state = value.__brine_state__()
        return Obj(cls.__qualname__, [("__state__", _tree(state, f"{path}.__state__", arrays, prefix))])
    if dataclasses.is_dataclass(value):
        return Obj(
            cls.__qualname__,
            [
                (f.name, _tree(getattr(value, f.name), f"{path}.{f.name}" if path else f.name, arrays, prefix))
                for f in dataclasses.fields(value)
            ],
        )
    raise InvalidInputError(
        f"model {prefix!r}: {path or 'the model'} is a {cls.__module__}.{cls.__qualname__}, "
        f"which a model cannot hold (None, bool, int, float, str, bytes, list, tuple, dict, "
        f"numpy arrays, dataclasses, classes with __brine_state__); brine never pickles",
        kind="InvalidInput",
        entry=prefix,
    )


def save_model(
    target: Any,
    name: str,
    model: Any,
    *,
    compress: Optional[str] = None,
    level: int = 3,
) -> None:
    """Saves ``model`` as entry ``name`` of ``target``: a path (the file is written whole,
    atomically) or an open :class:`brine.Writer`. Its numpy arrays become array entries
    ``name/field.path`` of the same file; ``compress="zstd"`` compresses them and the tree."""
    from . import Writer

    cls = type(model)
    if not _is_model_class(cls):
        raise InvalidInputError(
            f"model {name!r}: a {cls.__module__}.{cls.__qualname__} is not a dataclass nor a "
            f"class with __brine_state__/__brine_from_state__; brine never pickles",
            kind="InvalidInput",
            entry=name,
        )
    schema = schema_of(cls)
    arrays: Dict[str, np.ndarray] = {}
    tree = _tree(model, "", arrays, name)
    version = getattr(cls, "__brine_version__", None)
    metadata = {SCHEMA_KEY: schema, FINGERPRINT_KEY: f"{_brine.fingerprint(schema):#018x}"}

    def write(w: Any) -> None:
        for entry, array in arrays.items():
            w.put_array(entry, array, compress=compress, level=level)
        w._writer.put_value(name, tree, compress, level, None if version is None else int(version), metadata)

    if isinstance(target, Writer):
        write(target)
    else:
        with Writer(target) as w:
            write(w)


# -------------------------------------------------------------------------------------------
# Loading


class _Source:
    """The file and model entry a tree is rebuilt from, for reading arrays and for errors."""

    def __init__(self, file: Any, name: str) -> None:
        self.file, self.name = file, name
        self.path = file.path

    def array(self, entry: str) -> np.ndarray:
        return self.file.array(entry)

    def where(self, path: str) -> str:
        return f"{self.path}: model {self.name!r}, field {path or '(root)'}"


def _corrupt(file: _Source, path: str, reason: str) -> CorruptFileError:
    return CorruptFileError(
        f"{file.where(path)}: {reason}",
        kind="InvalidModel",
        file=file.path,
        entry=file.name,
        field=path,
    )


# What each annotation of a builtin type accepts from a tree.
_ACCEPTS = {
    bool: (bool,),
    int: (int,),
    float: (float,),
    str: (str,),
    bytes: (bytes,),
    type(None): (type(None),),
}


def _is_exactly(node: Any, t: Any) -> bool:
    """Whether a tree scalar is of builtin annotation ``t`` (a bool is not an int here)."""
    return type(node) in _ACCEPTS[t]


def _check(node: Any, t: Any, file: Any, path: str) -> None:
    """Refuses a tree node that its stored schema (equal to the class's) does not allow: the
    schema metadata and the tree are separate bytes, and a damaged or hostile file may
    change one without the other."""
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Union or type(t).__name__ == "UnionType":
        for a in args:
            try:
                _check(node, a, file, path)
                return
            except CorruptFileError:
                pass
        raise _corrupt(file, path, f"a {type(node).__name__} is none of {t}")
    want = None
    if t in _ACCEPTS:
        want = _ACCEPTS[t]
        if t is int and isinstance(node, bool):
            want = ()
    elif t is np.ndarray or origin is np.ndarray:
        want = (ArrayRef,)
    elif origin in (list, List):
        want = (list,)
    elif origin in (tuple, Tuple):
        want = (tuple,)
    elif origin in (dict, Dict):
        want = (dict,)
    elif _is_model_class(t):
        want = (Obj,)
    if want is not None and not isinstance(node, want):
        raise _corrupt(file, path, f"a {type(node).__name__} where the schema says {_type_text(t, [])}")


def _rebuild(node: Any, t: Any, file: Any, path: str) -> Any:
    """A value tree node as a value of annotation ``t`` (nested classes come from ``t``,
    never from the file)."""
    _check(node, t, file, path)
    origin, args = typing.get_origin(t), typing.get_args(t)
    if isinstance(node, ArrayRef):
        array = file.array(node.entry)
        if origin is np.ndarray:
            text = _type_text(t, [])
            if text != "ndarray" and text != f"ndarray[{array.dtype.name}]":
                raise _corrupt(file, path, f"array {node.entry!r} holds {array.dtype.name}, the schema says {text}")
        return array
    if isinstance(node, Obj):
        target = t
        if origin is typing.Union or type(t).__name__ == "UnionType":
            target = next((a for a in args if _is_model_class(a)), None)
        if not _is_model_class(target):
            # No class to build: the fields as a dict (the class name is not looked up).
            return {k: _rebuild(v, Any, file, f"{path}.{k}") for k, v in node.fields}
        return _build(node, target, file, path)
    if isinstance(node, list):
        inner = args[0] if origin in (list, List) and args else Any
        if inner in _ACCEPTS:  # a list of scalars: checked in one pass, kept as it came
            if not all(_is_exactly(v, inner) for v in node):
                bad = next(i for i, v in enumerate(node) if not _is_exactly(v, inner))
                _check(node[bad], inner, file, f"{path}[{bad}]")
            return node
        return [_rebuild(v, inner, file, f"{path}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, tuple):
        if origin in (tuple, Tuple) and args:
            kinds = [args[0]] * len(node) if len(args) == 2 and args[1] is Ellipsis else list(args) + [Any] * len(node)
        else:
            kinds = [Any] * len(node)
        return tuple(_rebuild(v, k, file, f"{path}[{i}]") for i, (v, k) in enumerate(zip(node, kinds)))
    if isinstance(node, dict):
        kt, vt = args if origin in (dict, Dict) and len(args) == 2 else (Any, Any)
        if kt in _ACCEPTS and vt in _ACCEPTS:  # scalars to scalars: one pass
            for k, v in node.items():
                if not (_is_exactly(k, kt) and _is_exactly(v, vt)):
                    _check(k, kt, file, f"{path} key {k!r}")
                    _check(v, vt, file, f"{path}[{k!r}]")
            return node
        return {_rebuild(k, kt, file, path): _rebuild(v, vt, file, f"{path}[{k!r}]") for k, v in node.items()}
    return node


def _build(node: Obj, cls: type, file: Any, path: str) -> Any:
    if node.cls != cls.__qualname__:
        raise SchemaMismatchError(
            f"{file.where(path)} holds a {node.cls}, not a {cls.__qualname__}",
            kind="SchemaMismatch",
            file=file.path,
            entry=file.name,
            field=path,
        )
    if hasattr(cls, "__brine_from_state__"):
        if [k for k, _ in node.fields] != ["__state__"]:
            raise _corrupt(file, path, "a state object has one field, __state__")
        return cls.__brine_from_state__(_rebuild(node.fields[0][1], Any, file, f"{path}.__state__"))
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    if [k for k, _ in node.fields] != names:
        raise _corrupt(file, path, f"fields {[k for k, _ in node.fields]}, the schema says {names}")
    kwargs = {
        k: _rebuild(v, hints.get(k, Any), file, f"{path}.{k}" if path else k) for k, v in node.fields
    }
    return cls(**kwargs)


def plain_model(file: Any, name: str) -> Any:
    """Model ``name`` of the open :class:`brine.File` ``file`` as plain, read-only-in-spirit
    Python values, with no class to rebuild: a model saved from Python gives its fields as
    dicts (nested objects too; the class names are never looked up) and its arrays as views
    of the file; a model written by a Rust program is decoded through its stored schema text
    (the mapping of the spec reader's ``File.model``: structs as dicts, enums as
    ``{variant: payload}``, numeric vectors as read-only numpy views of the archive)."""
    from . import _to_numpy

    info = file.info(name)
    if info["kind"] != "model":
        raise WrongKindError(
            f"{file.path}: entry {name!r} is {info['kind']}, not model",
            kind="WrongKind",
            file=file.path,
            entry=name,
        )
    if SCHEMA_KEY in info["metadata"]:
        return _rebuild(file._file.value(name), Any, _Source(file, name), "")
    return file._file.decode_model(name, _to_numpy)


def load_model(
    source: Any,
    name: str,
    cls: type,
    *,
    migrate: Optional[Callable[[Dict[str, Any], str], Any]] = None,
) -> Any:
    """The model ``name`` of ``source`` (a path or an open :class:`brine.File`), rebuilt as
    an instance of ``cls``. Its arrays are read-only views into the file's mapping.

    If the stored schema differs from ``cls``'s, :class:`brine.SchemaMismatchError` is
    raised, unless ``migrate`` is given: it is then called with the stored fields (a dict,
    nested objects as dicts, arrays as arrays) and the stored schema text, and its result is
    returned."""
    from . import File

    file = source if isinstance(source, File) else File(source)
    info = file.info(name)
    if info["kind"] != "model":
        raise WrongKindError(
            f"{file.path}: entry {name!r} is {info['kind']}, not model",
            kind="WrongKind",
            file=file.path,
            entry=name,
        )
    stored = info["metadata"].get(SCHEMA_KEY)
    if stored is None:
        raise WrongKindError(
            f"{file.path}: model {name!r} was written by a Rust program as {info['type_name']}, "
            f"not from Python; read it without a class with File.model({name!r})",
            kind="WrongKind",
            file=file.path,
            entry=name,
        )
    expected = schema_of(cls)
    tree = file._file.value(name)
    source = _Source(file, name)
    if stored != expected:
        if migrate is not None:
            return migrate(_rebuild(tree, Any, source, ""), stored)
        raise SchemaMismatchError(
            f"{file.path}: model {name!r} was written as {stored.splitlines()[0][6:]} with another "
            f"schema than this program's {cls.__qualname__}; {_first_difference(stored, expected)}\n"
            f"stored schema:\n{stored}expected schema:\n{expected}",
            kind="SchemaMismatch",
            file=file.path,
            entry=name,
        )
    if not isinstance(tree, Obj):
        raise _corrupt(source, "", f"a {type(tree).__name__}, not an object")
    return _build(tree, cls, source, "")
