"""Shared helpers of the Python package's tests."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
VECTORS = REPO / "spec" / "vectors"
# The DataFrames of every pandas dtype the CLI's interop test uses, shared rather than copied.
sys.path.insert(0, str(REPO / "cli" / "tests" / "interop"))


def brine_binary() -> pathlib.Path:
    """The `brine` command: $BRINE_BIN, else the one `cargo test` built, else built now."""
    if os.environ.get("BRINE_BIN"):
        return pathlib.Path(os.environ["BRINE_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target / "debug" / "brine"
    if not binary.exists():
        if shutil.which("cargo") is None:
            pytest.fail("the brine command is not built and cargo is not on PATH")
        subprocess.run(["cargo", "build", "-q", "-p", "brine-cli"], cwd=REPO, check=True)
    return binary


@pytest.fixture(scope="session")
def cli():
    binary = brine_binary()

    def run(*args, check=True):
        return subprocess.run(
            [str(binary), *map(str, args)], capture_output=True, text=True, check=check
        )

    return run
