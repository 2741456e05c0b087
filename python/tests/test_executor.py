"""flux.job.FluxExecutor: futures for jobs, 1,000 of them, a workflow DAG,
and what happens when things go wrong."""

import concurrent.futures as cf
import errno
import os
import threading
import time

import pytest

import flux.job
from flux.job import FluxExecutor, JobspecV1
from conftest import wait_until


def spec(*cmd, **kw):
    return JobspecV1.from_command(list(cmd), **kw)


def test_result_jobid_and_callbacks(instance):
    seen = {"jobid": [], "events": [], "done": []}
    with FluxExecutor() as ex:
        fut = ex.submit(spec("sh", "-c", "exit 5"))
        fut.add_jobid_callback(lambda f: seen["jobid"].append(f.jobid()))
        for name in ("submit", "start", "finish", "clean"):
            fut.add_event_callback(name, lambda f, ev: seen["events"].append(ev.name))
        fut.add_done_callback(lambda f: seen["done"].append(f.result()))
        assert fut.result(timeout=60) == 5
        jid = fut.jobid()
        assert isinstance(jid, flux.job.JobID) and seen["jobid"] == [jid]
        late = []
        fut.add_event_callback("start", lambda f, ev: late.append(ev.timestamp))  # replayed
        assert len(late) == 1
        with pytest.raises(ValueError):
            fut.add_event_callback("no-such-event", print)
    assert seen["done"] == [5]
    assert seen["events"] == ["submit", "start", "finish", "clean"]


def test_exceptions_on_futures(instance):
    h = flux.Flux()
    with FluxExecutor() as ex:
        canceled = ex.submit(spec("sleep", "60"))
        started = threading.Event()
        canceled.add_event_callback("start", lambda f, ev: started.set())
        assert started.wait(30)
        flux.job.cancel(h, canceled.jobid())
        too_big = ex.submit(spec("true", num_tasks=100000))
        bad = ex.submit("{not json")
        bad_type = ex.submit(17)
        timeout = ex.submit(spec("sleep", "30", duration=0.2))
        with pytest.raises(flux.job.JobException) as exc:
            canceled.result(60)
        assert exc.value.type == "cancel" and exc.value.severity == 0
        with pytest.raises(flux.job.JobException) as exc:
            too_big.result(60)
        assert exc.value.type == "alloc" and "100000" in exc.value.note
        with pytest.raises(OSError) as exc:
            bad.result(60)
        assert exc.value.errno == errno.EINVAL
        with pytest.raises(OSError):
            bad.jobid(60)
        with pytest.raises(TypeError):
            bad_type.result(60)
        with pytest.raises(flux.job.JobException) as exc:
            timeout.result(60)
        assert exc.value.type == "timeout"
    h.close()


def test_attach(instance):
    h = flux.Flux()
    jid = flux.job.submit(h, spec("sh", "-c", "sleep 0.2; exit 2"))
    with FluxExecutor() as ex:
        fut = ex.attach(jid)
        assert fut.result(60) == 2 and fut.jobid() == jid
        unknown = ex.attach(2**62 + 1)
        with pytest.raises(ValueError, match="does not match any job"):
            unknown.result(60)
    h.close()


def test_shutdown_and_cancel_futures(instance):
    ex = FluxExecutor()
    futs = [ex.submit(spec("true")) for _ in range(50)]
    ex.shutdown(wait=False, cancel_futures=True)
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(spec("true"))
    ex.shutdown(wait=True)
    for f in futs:
        assert f.cancelled() or f.result() == 0
    with pytest.raises(ValueError):
        FluxExecutor(threads=0)


def test_executor_runs_1000_jobs(instance):
    start = time.time()
    with FluxExecutor(threads=2) as ex:
        futs = [ex.submit(spec("true")) for _ in range(1000)]
        done, not_done = cf.wait(futs, timeout=240)
    assert not not_done
    assert all(f.result() == 0 for f in futs)
    assert len({f.jobid() for f in futs}) == 1000
    print(f"1000 jobs in {time.time() - start:.2f}s")


def test_workflow_dag_map_then_reduce(instance, tmp_path):
    """A workflow tool's shape: map jobs write partial results; as each
    finishes its output is checked and a per-item follow-up job is chained
    (from a done-callback); once every map future completes, one reduce job
    combines them."""
    env = dict(os.environ)
    n = 24
    with FluxExecutor() as ex:
        maps = {
            ex.submit(spec("sh", "-c", f"echo $(( {i} * {i} )) > sq.{i}", environment=env, cwd=str(tmp_path))): i
            for i in range(n)
        }
        chained = []
        lock = threading.Lock()

        def chain(fut, i):
            if fut.result() == 0:  # the future is done: no wait
                f2 = ex.submit(spec("sh", "-c", f"test -s sq.{i} && touch ok.{i}", environment=env,
                                    cwd=str(tmp_path)))
                with lock:
                    chained.append(f2)

        for fut, i in maps.items():
            fut.add_done_callback(lambda f, i=i: chain(f, i))
        order = []
        for fut in cf.as_completed(maps, timeout=120):
            assert fut.result() == 0
            order.append(maps[fut])
        assert sorted(order) == list(range(n))
        reduce_job = ex.submit(spec("sh", "-c", f"cat {' '.join(f'sq.{i}' for i in range(n))} "
                                    "| awk '{s += $1} END {print s}' > total", environment=env, cwd=str(tmp_path)))
        assert reduce_job.result(60) == 0
        while True:
            with lock:
                if len(chained) == n:
                    break
            time.sleep(0.01)
        assert all(f.result(60) == 0 for f in list(chained))
    assert int((tmp_path / "total").read_text()) == sum(i * i for i in range(n))
    assert len(list(tmp_path.glob("ok.*"))) == n


def test_waiting_inside_callback_is_an_error(instance):
    errors = []
    with FluxExecutor() as ex:
        slow = ex.submit(spec("sleep", "0.5"))

        def cb(fut):
            try:
                slow.result()
            except RuntimeError as exc:
                errors.append(str(exc))

        ex.submit(spec("true")).add_done_callback(cb)
    assert errors == ["Cannot wait for future from inside callback"]


def test_lost_instance_fails_futures(private_instance):
    ex = FluxExecutor(handle_args=(private_instance.uri,))
    futs = [ex.submit(spec("sleep", "60")) for _ in range(4)]
    futs[0].jobid(30)
    private_instance.kill()
    for f in futs:
        with pytest.raises(OSError):
            f.result(30)
    with pytest.raises(RuntimeError, match="broken"):
        ex.submit(spec("true"))
    ex.shutdown()


def test_instance_stopping_cancels_executor_jobs(private_instance):
    ex = FluxExecutor(handle_args=(private_instance.uri,))
    fut = ex.submit(spec("sleep", "60"))
    fut.jobid(30)
    private_instance.stop()
    with pytest.raises((flux.job.JobException, OSError)):
        fut.result(30)
    ex.shutdown()


def test_no_instance_executor():
    ex = FluxExecutor(handle_args=("local:///nonexistent/x",))
    try:
        fut = ex.submit(spec("true"))
    except RuntimeError:
        pass  # the executor thread already found no instance
    else:
        with pytest.raises(FileNotFoundError):
            fut.result(30)
    assert wait_until(ex._broken.is_set)
    with pytest.raises(RuntimeError, match="broken"):
        ex.submit(spec("true"))
    ex.shutdown()
