"""pickle's workflow, the safe way: fit a model, save it, load it in a fresh interpreter and
predict; then see what a changed class gets.

    python3 python/examples/iris_model.py [OUT_DIR]

Fits a softmax regression on the iris data shipped in examples/data/iris.csv (numpy only),
saves it with brine.save_model, then starts a new Python process that loads it with
brine.load_model and predicts the held-out flowers; both processes' predictions must be equal.
"""

from __future__ import annotations

import csv
import pathlib
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

import brine

IRIS = pathlib.Path(__file__).resolve().parents[2] / "examples" / "data" / "iris.csv"


@dataclass
class Softmax:
    """A softmax regression over standardized features."""

    __brine_version__ = 1
    classes: list[str]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    bias: npt.NDArray[np.float64]
    epochs: int = 0
    notes: dict[str, str] = field(default_factory=dict)

    def predict(self, x: np.ndarray) -> list[str]:
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return [self.classes[i] for i in np.argmax(z, axis=1)]


def load_iris():
    with open(IRIS, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[k]) for k in ("sepalLength", "sepalWidth", "petalLength", "petalWidth")] for r in rows])
    y = [r["species"] for r in rows]
    return x, y


def fit(x, y, epochs=500, rate=0.5) -> Softmax:
    classes = sorted(set(y))
    t = np.eye(len(classes))[[classes.index(c) for c in y]]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    xs = (x - mean) / scale
    w = np.zeros((x.shape[1], len(classes)))
    b = np.zeros(len(classes))
    for _ in range(epochs):
        z = xs @ w + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        w -= rate * xs.T @ (p - t) / len(x)
        b -= rate * (p - t).mean(axis=0)
    return Softmax(classes, mean, scale, w, b, epochs, {"data": "iris.csv"})


def split(x, y):
    held = np.arange(len(x)) % 5 == 0
    return x[~held], [c for c, h in zip(y, held) if not h], x[held]


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    path = out / "iris-model.brine"
    if len(sys.argv) > 2 and sys.argv[2] == "--predict":
        # The fresh process: no training, only the file and this module's class.
        model = brine.load_model(path, "softmax", Softmax)
        print(",".join(model.predict(split(*load_iris())[2])))
        return
    x, y = load_iris()
    train_x, train_y, test_x = split(x, y)
    model = fit(train_x, train_y)
    brine.save_model(path, "softmax", model)
    here = model.predict(test_x)
    there = subprocess.run(
        [sys.executable, __file__, str(out), "--predict"], capture_output=True, text=True, check=True
    ).stdout.strip().split(",")
    print(f"saved {path} ({path.stat().st_size} bytes); fresh process predicts "
          f"{sum(a == b for a, b in zip(here, there))}/{len(here)} held-out flowers as this one")
    assert here == there, (here, there)

    @dataclass
    class Changed:  # the same class after an edit: a field renamed
        classes: list[str]
        mean: npt.NDArray[np.float64]
        scale: npt.NDArray[np.float64]
        coef: npt.NDArray[np.float64]
        bias: npt.NDArray[np.float64]
        epochs: int = 0
        notes: dict[str, str] = field(default_factory=dict)

    Changed.__qualname__ = "Softmax"
    Changed.__brine_version__ = 1
    try:
        brine.load_model(path, "softmax", Changed)
    except brine.SchemaMismatchError as e:
        print("reading it as the changed class is refused:\n  " + str(e).splitlines()[0])
    else:
        raise AssertionError("a changed class was not refused")


if __name__ == "__main__":
    main()
