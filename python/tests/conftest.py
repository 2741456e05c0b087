"""pytest fixtures: the built flux binary and a running instance of it.

The tests drive the real binary (bin/flux from scripts/build, or
FLUX_TEST_BIN) as a user would: an instance started with `flux start`,
the package imported from python/ of this tree.
"""

import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
REPO = os.path.dirname(PYDIR)
sys.path.insert(0, PYDIR)


def _flux_bin():
    path = os.environ.get("FLUX_TEST_BIN") or os.path.join(REPO, "bin", "flux")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: run `bash scripts/build` first (or set FLUX_TEST_BIN)")
    return path


class Instance:
    """A `flux start` kept alive until stop(); ``uri`` is its FLUX_URI."""

    def __init__(self, flux, size=1, extra=()):
        env = dict(os.environ)
        env.pop("FLUX_URI", None)
        self.proc = subprocess.Popen(
            [flux, "start", f"--test-size={size}", *extra, "sh", "-c", 'echo "$FLUX_URI"; read x'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
        )
        self.uri = self.proc.stdout.readline().strip()
        if not self.uri.startswith("local://"):
            self.proc.kill()
            raise RuntimeError(f"flux start printed no URI (got {self.uri!r})")

    def kill(self):
        """End the instance abruptly (SIGKILL), as a crash or a lost node would."""
        self.proc.kill()
        self.proc.wait()

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def flux_bin():
    """The path of the flux binary under test."""
    return _flux_bin()


@pytest.fixture(scope="session")
def instance(flux_bin):
    """One instance for the session; FLUX_URI points at it."""
    inst = Instance(flux_bin)
    os.environ["FLUX_URI"] = inst.uri
    yield inst
    inst.stop()


@pytest.fixture
def h(instance):  # pylint: disable=redefined-outer-name,unused-argument
    """A fresh handle on the session's instance."""
    import flux  # pylint: disable=import-outside-toplevel

    handle = flux.Flux()
    yield handle
    handle.close()


@pytest.fixture
def private_instance(flux_bin):  # pylint: disable=redefined-outer-name
    """An instance of the test's own (for tests that stop it)."""
    inst = Instance(flux_bin)
    yield inst
    inst.stop()


def wait_until(pred, timeout=10.0):
    """Poll pred until true or timeout; returns its last value."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > deadline:
            return v
        time.sleep(0.02)
