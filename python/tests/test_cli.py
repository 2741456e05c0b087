"""flux python, flux env, the package's place next to the binary, and a
script written for flux-core's API run unchanged."""

import os
import shutil
import subprocess

from conftest import PYDIR, REPO, Instance

COMPAT_OUT = """submitted True True
wait ok True
wait bad False task(s) exited with exit code 1
result FAILED 1
two tasks COMPLETED
canceled CANCELED
events submit clean True
ValueError for num_tasks=0
OSError for bad JSON, errno 22
executor 10 10 10
executor JobException cancel
"""


def run(argv, **kw):
    env = kw.pop("env", None)
    if env is None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FLUX_URI")}
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, **kw)


def test_flux_python_finds_the_package(flux_bin):
    out = run([flux_bin, "python", "-c", "import flux, sys; print(flux.__file__); sys.exit(3)"])
    assert out.returncode == 3  # the script's own status
    assert out.stdout.strip() == os.path.join(PYDIR, "flux", "__init__.py")


def test_flux_env(flux_bin):
    out = run([flux_bin, "env"])
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert f'export PYTHONPATH="{PYDIR}"' in lines
    assert any(line.startswith("export PATH=") and os.path.dirname(flux_bin) in line for line in lines)
    out = run([flux_bin, "env", "sh", "-c", 'echo "$PYTHONPATH"; exit 4'])
    assert out.returncode == 4 and out.stdout.strip() == PYDIR
    out = run([flux_bin, "env", "/nonexistent/cmd"])
    assert out.returncode == 127 and "command not found" in out.stderr


def test_installed_layout(flux_bin, tmp_path):
    """<prefix>/bin/flux finds <prefix>/lib/flux/python; without it flux
    python says where it looked."""
    (tmp_path / "bin").mkdir()
    shutil.copy(flux_bin, tmp_path / "bin" / "flux")
    exe = str(tmp_path / "bin" / "flux")
    out = run([exe, "python", "-c", "pass"])
    assert out.returncode == 2 and "cannot find the flux Python package" in out.stderr
    lib = tmp_path / "lib" / "flux" / "python"
    shutil.copytree(os.path.join(PYDIR, "flux"), lib / "flux")
    out = run([exe, "python", "-c", "import flux; print(flux.__file__)"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(lib / "flux" / "__init__.py")
    out = run([exe, "env"])
    assert f'export PYTHONPATH="{lib}"' in out.stdout.splitlines()


def test_jobs_can_use_the_api_on_their_instance(flux_bin, tmp_path):
    """A task started by the instance imports flux (PYTHONPATH came with
    the environment) and submits a job to its own instance."""
    inner = ("import flux, flux.job as j; h = flux.Flux(); "
             "i = j.submit(h, j.JobspecV1.from_command(['true']), waitable=True); "
             "print('inner', j.wait(h, i).success)")
    outer = ("import flux, flux.job as j, sys; "
             f"js = j.JobspecV1.from_command([sys.executable, '-c', {inner!r}]); "
             "js.output = 'inner.out'; js.cwd = '.'; import os; js.cwd = os.getcwd(); h = flux.Flux(); i = j.submit(h, js); "
             "print(j.result(h, i).returncode); print(open('inner.out').read().strip())")
    inst = Instance(flux_bin)
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
        env["FLUX_URI"] = inst.uri
        out = run([flux_bin, "python", "-c", outer], env=env, cwd=str(tmp_path))
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["0", "inner", "True"]
    finally:
        inst.stop()


def test_flux_core_script_runs_unchanged(flux_bin):
    script = os.path.join(REPO, "python", "examples", "compat.py")
    out = run([flux_bin, "start", "--test-size=2", flux_bin, "python", script])
    assert out.returncode == 0, out.stderr
    assert out.stdout == COMPAT_OUT


def test_map_reduce_example(flux_bin):
    script = os.path.join(REPO, "python", "examples", "map_reduce.py")
    out = run([flux_bin, "start", flux_bin, "python", script, "40"])
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"sum of squares below 40: {sum(i * i for i in range(40))}\n"
