"""Models from Python: dataclasses and state classes saved and rebuilt, class changes refused
with their diff, hostile model bytes refused, nothing imported from a file."""

import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt
import pytest

import brine
from brine.models import Obj
from conftest import REPO


@dataclass
class Leaf:
    value: float
    counts: npt.NDArray[np.int64]


@dataclass
class Everything:
    __brine_version__ = 3
    none: None
    flag: bool
    small: int
    big: int
    real: float
    text: str
    raw: bytes
    numbers: list[int]
    pair: tuple[str, float]
    many: tuple[int, ...]
    table: dict[str, list[float]]
    keyed: Dict[int, str]
    maybe: Optional[Leaf]
    leaves: List[Leaf]
    by_name: dict[str, Leaf]
    weights: npt.NDArray[np.float32]
    anything: Any
    bf: np.ndarray = field(default_factory=lambda: np.zeros(0))


def everything():
    return Everything(
        none=None,
        flag=True,
        small=-7,
        big=2**63 - 1,
        real=float("nan"),
        text="Grüße 🦀",
        raw=b"\x00\xff",
        numbers=[1, 2, 3],
        pair=("a", 0.5),
        many=(1, 2, 3, 4),
        table={"x": [0.1, -0.0], "": []},
        keyed={1: "one", -2: "minus two"},
        maybe=Leaf(1.5, np.arange(3)),
        leaves=[Leaf(0.0, np.zeros(2, np.int64)), Leaf(-1.0, np.arange(5))],
        by_name={"k": Leaf(2.0, np.ones(1, np.int64))},
        weights=np.linspace(0, 1, 1000, dtype=np.float32).reshape(10, 100),
        anything={"nested": [1, (2, b"3")], "leaf": Leaf(9.0, np.arange(2))},
        bf=np.arange(6, dtype=np.float64).reshape(2, 3)[:, ::2],  # strided: copied to C order
    )


def check_everything(got, want):
    assert type(got) is Everything
    for f in dataclasses.fields(Everything):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if f.name == "real":
            assert np.isnan(a)
        elif f.name == "anything":
            assert a["nested"] == b["nested"]
            # Under `Any` there is no class to build: the fields come back as a dict.
            assert a["leaf"]["value"] == 9.0 and np.array_equal(a["leaf"]["counts"], [0, 1])
        elif isinstance(b, np.ndarray):
            assert np.array_equal(a, b) and a.dtype == b.dtype
        elif isinstance(b, Leaf) or (isinstance(b, list) and b and isinstance(b[0], Leaf)):
            for x, y in zip(b if isinstance(b, list) else [b], a if isinstance(a, list) else [a]):
                assert type(y) is Leaf and x.value == y.value and np.array_equal(x.counts, y.counts)
        elif f.name == "by_name":
            assert type(a["k"]) is Leaf and a["k"].value == 2.0
        else:
            assert a == b and type(a) is type(b), f.name


@pytest.mark.parametrize("compress", [None, "zstd"])
def test_every_field_type_round_trips(tmp_path, compress):
    path = tmp_path / "m.brine"
    want = everything()
    brine.save_model(path, "model", want, compress=compress)
    with brine.open(path) as f:
        info = f.info("model")
        assert info["kind"] == "model" and info["type_name"] == "Value" and info["version"] == 3
        assert info["metadata"]["brine.python.schema"] == brine.schema_of(Everything)
        lo, hi = f.mapped_range()
        got = f.model("model", Everything)
        check_everything(got, want)
        if compress is None:
            address = got.weights.__array_interface__["data"][0]
            assert lo <= address < hi and not got.weights.flags.writeable
    check_everything(brine.load_model(path, "model", Everything), want)


def test_models_beside_arrays_and_frames_and_the_rust_value_type(tmp_path, cli):
    path = tmp_path / "m.brine"
    with brine.Writer(path) as w:
        w.put_array("x", np.arange(3))
        w.put_model("leaf", Leaf(1.0, np.arange(4)))
    with brine.open(path) as f:
        assert list(f) == ["leaf", "leaf/counts", "x"]
        assert f.kind("leaf") == "model"
        plain = f["leaf"]  # no class given: the fields as plain values
        assert list(plain) == ["value", "counts"] and plain["value"] == 1.0
        np.testing.assert_array_equal(plain["counts"], np.arange(4))
    # The brine command (the Rust reader) validates the Value archive and shows its schema.
    cli("verify", path)
    listed = cli("inspect", path).stdout
    assert "leaf: Value, python class Leaf (fingerprint 0x" in listed, listed
    described = json.loads(cli("inspect", "--json", path).stdout)
    leaf = next(e for e in described["entries"] if e["name"] == "leaf")
    assert leaf["python_class"] == "Leaf"
    assert leaf["python_schema"] == brine.schema_of(Leaf)
    assert leaf["python_fingerprint"] == f"{brine.models._brine.fingerprint(brine.schema_of(Leaf)):#018x}"
    shown = cli("schema", path, "leaf").stdout
    assert "Value = enum {" in shown
    assert "python class schema:\nroot: Leaf\nLeaf = dataclass { value: float, counts: ndarray[int64] }" in shown


class Counter:
    """A class with an explicit state protocol instead of dataclass fields."""

    __brine_version__ = 1

    def __init__(self, counts):
        self.counts = counts

    def __brine_state__(self):
        return {"counts": self.counts}

    @classmethod
    def __brine_from_state__(cls, state):
        return cls(state["counts"])


def test_state_protocol(tmp_path):
    brine.save_model(tmp_path / "c.brine", "c", Counter({"a": 3, "b": np.arange(3)}))
    got = brine.load_model(tmp_path / "c.brine", "c", Counter)
    assert got.counts["a"] == 3 and np.array_equal(got.counts["b"], [0, 1, 2])
    assert brine.schema_of(Counter) == "root: Counter\nCounter = state version 1\n"


@dataclass
class Model:
    __brine_version__ = 1
    name: str
    weights: npt.NDArray[np.float32]
    inner: Leaf


def changed(**changes):
    """`Model` after an edit, under the same class name."""
    fields = {"name": str, "weights": npt.NDArray[np.float32], "inner": Leaf}
    order = changes.pop("order", list(fields))
    fields.update(changes.pop("types", {}))
    for old, new in changes.pop("rename", {}).items():
        fields[new] = fields.pop(old)
        order = [new if n == old else n for n in order]
    for n in changes.pop("remove", []):
        del fields[n]
        order.remove(n)
    for n, t in changes.pop("add", {}).items():
        fields[n] = t
        order.append(n)
    cls = dataclasses.make_dataclass(changes.pop("cls", "Model"), [(n, fields[n]) for n in order])
    cls.__qualname__ = cls.__name__
    if "version" in changes:
        cls.__brine_version__ = changes.pop("version")
    else:
        cls.__brine_version__ = 1
    return cls


@dataclass
class OtherLeaf:
    value: float
    counts: npt.NDArray[np.int32]


OtherLeaf.__qualname__ = "Leaf"

CHANGES = {
    "field added": dict(add={"extra": int}),
    "field removed": dict(remove=["inner"]),
    "field renamed": dict(rename={"weights": "coef"}),
    "fields reordered": dict(order=["weights", "name", "inner"]),
    "type changed": dict(types={"weights": npt.NDArray[np.float64]}),
    "nested class changed": dict(types={"inner": OtherLeaf}),
    "class renamed": dict(cls="Model2"),
    "version bumped": dict(version=2),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_changed_class_is_refused_with_its_diff(tmp_path, change):
    path = tmp_path / "m.brine"
    brine.save_model(path, "m", Model("n", np.ones(3, np.float32), Leaf(1.0, np.arange(2))))
    # The unchanged class reads it.
    assert brine.load_model(path, "m", Model).name == "n"
    new = changed(**dict(CHANGES[change]))
    with pytest.raises(brine.SchemaMismatchError) as e:
        brine.load_model(path, "m", new)
    text = str(e.value)
    assert e.value.kind == "SchemaMismatch" and e.value.entry == "m" and str(path) in text
    assert "first difference at line" in text
    assert brine.schema_of(Model) in text and brine.schema_of(new) in text


def test_migrate_accepts_a_known_older_version(tmp_path):
    path = tmp_path / "m.brine"
    brine.save_model(path, "m", Model("n", np.ones(3, np.float32), Leaf(1.0, np.arange(2))))
    New = changed(rename={"weights": "coef"}, version=2)

    def migrate(fields, stored_schema):
        assert "version 1" in stored_schema
        return New(name=fields["name"], coef=fields["weights"], inner=Leaf(**fields["inner"]))

    got = brine.load_model(path, "m", New, migrate=migrate)
    assert type(got) is New and np.array_equal(got.coef, np.ones(3))


@pytest.mark.parametrize(
    "value, path",
    [
        ({1, 2}, "numbers"),
        (lambda: 0, "numbers"),
        (np.zeros(2, dtype=object), "numbers"),
        ([1, object()], "numbers[1]"),
        (2**64, "numbers"),
    ],
)
def test_values_outside_the_allowed_set_are_refused_naming_the_field(tmp_path, value, path):
    @dataclass
    class Bad:
        numbers: Any

    with pytest.raises((brine.InvalidInputError, TypeError, ValueError)) as e:
        brine.save_model(tmp_path / "b.brine", "bad", Bad(value))
    assert path in str(e.value)
    assert not (tmp_path / "b.brine").exists()


def test_deep_trees_are_refused_at_save(tmp_path):
    deep: Any = 0
    for _ in range(300):
        deep = [deep]

    @dataclass
    class Deep:
        tree: Any

    with pytest.raises(ValueError, match="nested more than 256 levels"):
        brine.save_model(tmp_path / "d.brine", "d", Deep(deep))


@dataclass
class Holder:
    tree: Any


def spec_reader():
    sys.path.insert(0, str(REPO / "spec" / "reader-python"))
    import brine_reader

    return brine_reader


def deep_list_file(tmp_path, levels):
    """A file whose model is a valid `Value` archive of lists nested `levels` deep, which
    brine's Python writer refuses to make: the archive of a saved model of the same length is
    overwritten in place (found by the spec reader) with the chain `List([List([... None ...])])`, built as rkyv lays
    `Value` out (24-byte values; `List`'s tag 6, its vector's relative pointer at +4 and its
    length at +8; children before parents, the root last)."""
    path = tmp_path / "deep.brine"
    brine.save_model(path, "m", Holder(bytes(24 * levels + 64)))
    data = bytearray(path.read_bytes())
    section = spec_reader().File(str(path))._section_list[0]
    start, end = section.offset, section.offset + section.length
    base = end - 24 * (levels + 1)
    assert base >= start
    data[start:end] = bytes(end - start)
    for i in range(1, levels + 1):
        at = base + 24 * i
        data[at] = 6
        data[at + 4 : at + 8] = (-28).to_bytes(4, "little", signed=True)
        data[at + 8 : at + 12] = (1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def nesting(tree):
    depth = 0
    while isinstance(tree, (dict, list, tuple)):
        tree = next(iter(tree.values())) if isinstance(tree, dict) else tree[0]
        depth += 1
    return depth


def test_deep_trees_in_a_file_are_refused_at_load(tmp_path):
    """A model nested deeper than the 256 levels of SCHEMA.md ("Value", rule 3) is refused by
    every Python path with a brine error, never a RecursionError or a crash; the Rust decoder
    reads it (its limit is in pointers) and its tree is as deep as crafted."""
    path = deep_list_file(tmp_path, 300)
    with brine.open(path) as f:
        for read in (lambda: f.model("m"), lambda: f["m"], lambda: brine.load_model(f, "m", Holder)):
            with pytest.raises(brine.CorruptFileError, match="nests more than 256 levels deep") as e:
                read()
            assert e.value.file == str(path) and e.value.entry == "m"
        # Through the stored schema text: {"List": ([...],)} per level, then {"None": None}.
        assert nesting(f._file.decode_model("m", brine._to_numpy)) == 3 * 300 + 1
    # Deeper than Python code could walk: refused in the conversion, not in Python's stack.
    with brine.open(deep_list_file(tmp_path, 600)) as f:
        with pytest.raises(brine.CorruptFileError, match="more than 1000 levels deep"):
            f._file.decode_model("m", brine._to_numpy)
    # Deeper than the reader's pointer limit: refused by the core, as a limit.
    with brine.open(deep_list_file(tmp_path, 600), max_model_depth=500) as f:
        with pytest.raises(brine.LimitExceededError):
            f._file.decode_model("m", brine._to_numpy)
        with pytest.raises(brine.LimitExceededError):
            f.model("m")


def test_a_model_without_its_class_reads_as_plain_values(tmp_path):
    """`f.model(name)` with no class: a Python model's fields as dicts, its arrays as views of
    the file; no class is looked up."""
    path = tmp_path / "m.brine"
    want = everything()
    brine.save_model(path, "model", want)
    with brine.open(path) as f:
        plain = f["model"]
        assert isinstance(plain, dict) and list(plain) == [x.name for x in dataclasses.fields(Everything)]
        assert plain["text"] == want.text and plain["raw"] == want.raw and plain["big"] == want.big
        assert plain["pair"] == want.pair and plain["keyed"] == want.keyed
        assert plain["maybe"]["value"] == want.maybe.value
        assert isinstance(plain["leaves"][0], dict) and plain["leaves"][0]["value"] == want.leaves[0].value
        np.testing.assert_array_equal(plain["maybe"]["counts"], want.maybe.counts)
        lo, hi = f.mapped_range()
        address = plain["weights"].__array_interface__["data"][0]
        assert lo <= address < hi and not plain["weights"].flags.writeable
        np.testing.assert_array_equal(plain["weights"], want.weights)
        with pytest.raises(TypeError, match="migrate needs a class"):
            f.model("model", migrate=lambda fields, schema: fields)


def test_a_file_naming_a_module_causes_no_import(tmp_path):
    path = tmp_path / "evil.brine"
    schema = brine.schema_of(Leaf)
    w = brine.Writer(path)
    # A tree whose object names a module and class that exist nowhere.
    tree = Obj("evil_module_that_must_not_load.Payload", [("value", 1.0), ("counts", [1])])
    w._writer.put_value("m", tree, None, 3, None, {"brine.python.schema": schema})
    w.finish()
    with pytest.raises(brine.SchemaMismatchError, match="field \\(root\\) holds a evil_module_that_must_not_load.Payload"):
        brine.load_model(path, "m", Leaf)
    assert "evil_module_that_must_not_load" not in sys.modules


def test_hostile_model_bytes_raise_brine_errors_only(tmp_path):
    path = tmp_path / "m.brine"
    brine.save_model(path, "m", everything())
    data = path.read_bytes()
    import random

    rng = random.Random(7)
    bad = tmp_path / "bad.brine"
    kinds = {}
    for trial in range(300):
        mutated = bytearray(data)
        if trial % 6 == 0:
            mutated = mutated[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 3)):
                mutated[rng.randrange(len(data) - 8192, len(data))] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(mutated))
        try:
            got = brine.load_model(bad, "m", Everything)
        except brine.Error as e:  # anything else escapes and fails the test
            assert str(bad) in str(e)
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
            continue
        try:
            check_everything(got, everything())
        except Exception:  # the comparison's own failure: a flip the format cannot see
            kinds["changed data"] = kinds.get("changed data", 0) + 1
    assert sum(v for k, v in kinds.items() if k != "changed data") > 150, kinds


def test_the_iris_example_predicts_the_same_in_a_fresh_process(tmp_path):
    out = subprocess.run(
        [sys.executable, str(REPO / "python" / "examples" / "iris_model.py"), str(tmp_path)],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "fresh process predicts 30/30 held-out flowers as this one" in out
    assert "reading it as the changed class is refused" in out


@dataclass
class Scale:
    mean: list[float]
    extra: Any


@dataclass
class Softmax:
    __brine_version__ = 1
    classes: list[str]
    weights: npt.NDArray[np.float64]
    bias: npt.NDArray[np.float64]
    epochs: int
    rate: float
    notes: dict[str, str]
    shape: tuple[int, ...]
    seed: Optional[int]
    frozen: bool
    tag: bytes
    inner: Scale


def test_the_golden_python_model_vector(tmp_path):
    """spec/vectors/model-value, written by the Rust API, rebuilt from Python."""
    path = REPO / "spec" / "vectors" / "model-value.brine"
    with brine.open(path) as f:
        assert f.info("softmax")["metadata"]["brine.python.schema"] == brine.schema_of(Softmax)
        m = f.model("softmax", Softmax)
        lo, hi = f.mapped_range()
    assert m.classes == ["setosa", "versicolor", "virginica"] and m.epochs == 500 and m.rate == 0.1
    assert m.weights.shape == (4, 3) and m.weights[3, 2] == 11 / 8 - 0.75
    assert lo <= m.weights.__array_interface__["data"][0] < hi
    assert list(m.bias) == [0.5, -0.25, 0.0]
    assert m.notes == {"data": "a string of more than eight bytes"}
    assert m.shape == (4, -(2**63)) and m.seed is None and m.frozen is True and m.tag == b"\x00\xff\x07"
    assert type(m.inner) is Scale and str(m.inner.mean[0]) == "-0.0" and np.isnan(m.inner.mean[1])
    assert m.inner.extra == {1: [], None: ()}
    # Saving the same model from Python gives the same schema and tree (the arrays aside).
    brine.save_model(tmp_path / "again.brine", "softmax", m)
    with brine.open(tmp_path / "again.brine") as g, brine.open(path) as f:
        assert g.info("softmax")["metadata"] == f.info("softmax")["metadata"]
        assert repr(g._file.value("softmax")) == repr(f._file.value("softmax"))
