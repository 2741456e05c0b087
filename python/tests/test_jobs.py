"""flux.job calls against a running instance: submit, wait, result,
cancel, job_list, event_watch, and their errors."""

import errno
import os

import pytest

import flux
import flux.job
from flux.job import JobspecV1

EVENTS_RAN = ["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean"]


def spec(*cmd, **kw):
    return JobspecV1.from_command(list(cmd), **kw)


def test_submit_returns_jobid(h):
    jid = flux.job.submit(h, spec("true"))
    assert isinstance(jid, flux.job.JobID) and jid > 0
    assert jid.f58.startswith(("ƒ", "f")) and flux.job.JobID(jid.f58) == jid
    # a JSON string works as well as a Jobspec
    jid2 = flux.job.submit(h, spec("true").dumps())
    assert jid2 != jid
    assert flux.job.result(h, jid2).result == "COMPLETED"


def test_submit_async(h):
    futs = [flux.job.submit_async(h, spec("true")) for _ in range(20)]
    ids = [f.get_id() for f in futs]
    assert len(set(ids)) == 20
    assert flux.job.submit_get_id(futs[0]) == ids[0]


def test_wait_waitable(h):
    ok = flux.job.submit(h, spec("true"), waitable=True)
    bad = flux.job.submit(h, spec("false"), waitable=True)
    r = flux.job.wait(h, ok)
    assert r == (ok, True, b"") and r.jobid == ok and r.success is True
    r = flux.job.wait(h, bad)
    assert r.success is False and r.errstr == b"task(s) exited with exit code 1"
    with pytest.raises(ChildProcessError) as exc:
        flux.job.wait(h, ok)  # reaped
    assert exc.value.errno == errno.ECHILD


def test_wait_any(h):
    ids = {flux.job.submit(h, spec("sh", "-c", f"exit {i}"), waitable=True) for i in range(3)}
    got = {}
    for _ in range(3):
        r = flux.job.wait(h)
        got[r.jobid] = r.success
    assert set(got) == ids and sorted(got.values()) == [False, False, True]
    with pytest.raises(ChildProcessError, match="no more waitable jobs"):
        flux.job.wait(h)


def test_wait_signaled(h):
    jid = flux.job.submit(h, spec("sh", "-c", "kill -9 $$"), waitable=True)
    r = flux.job.wait(h, jid)
    assert r.success is False and r.errstr == b"task(s) Killed"
    info = flux.job.result(h, jid)
    assert info.returncode == 137 and info.waitstatus == 137 << 8


def test_result(h):
    jid = flux.job.submit(h, spec("sh", "-c", "exit 3"))
    info = flux.job.result(h, jid)
    assert info.id == jid and info.result == "FAILED" and info.returncode == 3
    assert info.t_run >= info.t_submit > 0 and info.runtime >= 0
    again = flux.job.result_async(h, jid).get_dict()  # any number of times
    assert again["result"] == flux.constants.FLUX_JOB_RESULT_FAILED and again["waitstatus"] == 3 << 8


def test_cancel_running_and_pending(h):
    jid = flux.job.submit(h, spec("sleep", "60"), waitable=True)
    flux.job.event_wait(h, jid, "start")
    flux.job.cancel(h, jid)
    r = flux.job.wait(h, jid)
    assert r.success is False and r.errstr.startswith(b"Fatal exception type=cancel")
    info = flux.job.result(h, jid)
    assert info.result == "CANCELED" and info.exception.type == "cancel"
    with pytest.raises(FileNotFoundError):
        flux.job.cancel(h, jid)  # inactive now


def test_kill(h):
    jid = flux.job.submit(h, spec("sleep", "60"))
    flux.job.event_wait(h, jid, "start")
    flux.job.kill(h, jid)
    assert flux.job.result(h, jid).result == "CANCELED"
    with pytest.raises(OSError) as exc:
        flux.job.kill(h, jid, 10)  # SIGUSR1: not supported here
    assert exc.value.errno == errno.ENOTSUP


def test_unknown_job(h):
    unknown = 2**63 + 12345  # a FLUID-sized id no job has
    with pytest.raises(ChildProcessError) as exc:
        flux.job.wait(h, unknown)
    assert exc.value.errno == errno.ECHILD
    with pytest.raises(FileNotFoundError):
        flux.job.result(h, unknown)
    with pytest.raises(FileNotFoundError):
        flux.job.cancel(h, unknown)
    with pytest.raises(FileNotFoundError):
        list(flux.job.event_watch(h, unknown))
    with pytest.raises(FileNotFoundError):
        flux.job.job_list_id(h, unknown).get()
    assert flux.job.get_job(h, unknown) is None


def test_bad_jobspecs(h):
    with pytest.raises(OSError) as exc:
        flux.job.submit(h, "{not json")
    assert exc.value.errno == errno.EINVAL and "invalid JSON" in str(exc.value)
    with pytest.raises(OSError) as exc:
        flux.job.submit(h, None)
    assert exc.value.errno == errno.EINVAL
    with pytest.raises(TypeError):
        flux.job.submit(h, 42)
    with pytest.raises(OSError) as exc:
        flux.job.submit(h, spec("true", num_tasks=100000))
    assert exc.value.errno == errno.EINVAL and "-n 100000" in str(exc.value)
    with pytest.raises(OSError) as exc:
        flux.job.submit(h, spec("true"), urgency=32)
    assert exc.value.errno == errno.EINVAL
    with pytest.raises(TypeError):
        flux.job.submit(h, spec("true"), urgency="high")


def test_command_not_found(h):
    jid = flux.job.submit(h, spec("/nonexistent/prog"), waitable=True)
    r = flux.job.wait(h, jid)
    assert r.success is False
    assert flux.job.result(h, jid).returncode != 0


def test_event_watch_order(h):
    jid = flux.job.submit(h, spec("true"))
    events = list(flux.job.event_watch(h, jid))
    assert [e.name for e in events] == EVENTS_RAN
    assert events[0].context["urgency"] == 16 and events[6].context["status"] == 0
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)
    # watching a pending job sees it start and finish
    jid = flux.job.submit(h, spec("sleep", "0.3"))
    assert flux.job.event_wait(h, jid, "clean").name == "clean"
    with pytest.raises(OSError) as exc:
        flux.job.event_wait(h, flux.job.submit(h, spec("true")), "nonexistent-event")
    assert exc.value.errno == errno.ENODATA


def test_event_wait_raises_job_exception(h):
    jid = flux.job.submit(h, spec("sleep", "60"))
    flux.job.event_wait(h, jid, "start")
    flux.job.cancel(h, jid)
    with pytest.raises(flux.job.JobException) as exc:
        flux.job.event_wait(h, jid, "finish")
    assert exc.value.type == "cancel" and exc.value.severity == 0


def test_job_list_and_joblist(h):
    jid = flux.job.submit(h, spec("true", name="listed-job"))
    flux.job.result(h, jid)
    jobs = flux.job.job_list(h).get()["jobs"]
    row = next(j for j in jobs if j["id"] == jid)
    assert row["name"] == "listed-job" and row["state"] == flux.constants.FLUX_JOB_STATE_INACTIVE
    infos = flux.job.JobList(h, filters=["completed"]).jobs()
    mine = [i for i in infos if i.id == jid]
    assert mine and mine[0].result == "COMPLETED" and mine[0].returncode == 0 and mine[0].state == "INACTIVE"
    assert flux.job.job_list_id(h, jid).get_jobinfo().name == "listed-job"
    running = flux.job.submit(h, spec("sleep", "60"))
    flux.job.event_wait(h, running, "start")
    active = flux.job.JobList(h, filters=["running"]).jobs()
    assert [i.id for i in active if i.id == running] and all(i.state == "RUN" for i in active)
    flux.job.cancel(h, running)
    with pytest.raises(ValueError):
        flux.job.JobList(h, filters=["bogus"])


def test_job_environment_cwd_and_tasks(h, tmp_path):
    js = spec("sh", "-c", 'echo "$GREETING $FLUX_TASK_RANK" > out.$FLUX_TASK_RANK', num_tasks=2,
              environment={"GREETING": "hi", "PATH": os.environ["PATH"]}, cwd=str(tmp_path))
    jid = flux.job.submit(h, js)
    assert flux.job.result(h, jid).result == "COMPLETED"
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["hi 0\n", "hi 1\n"]
    row = flux.job.job_list_id(h, jid).get_job()
    assert row["ntasks"] == 2


def test_duration_is_time_limit(h):
    jid = flux.job.submit(h, spec("sleep", "30", duration=0.3))
    info = flux.job.result(h, jid)
    assert info.result == "TIMEOUT" and info.exception.type == "timeout"


def test_fallback_codec(flux_bin, instance):
    """Without python3-msgpack the built-in codec speaks the same wire."""
    import subprocess  # pylint: disable=import-outside-toplevel

    code = ("import flux, flux.job as j; from flux import _msgpack as m; assert not m.NATIVE; h = flux.Flux(); "
            "i = j.submit(h, j.JobspecV1.from_command(['sh','-c','exit 4']), waitable=True); "
            "print(j.wait(h, i).errstr.decode()); print(j.result(h, i).returncode)")
    env = dict(os.environ, FLUX_PYTHON_NO_MSGPACK="1", FLUX_URI=instance.uri)
    out = subprocess.run([flux_bin, "python", "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["task(s) exited with exit code 4", "4"]


def test_lost_instance_fails_wait_and_event_watch(private_instance):
    h = flux.Flux(private_instance.uri)
    jid = flux.job.submit(h, spec("sleep", "60"), waitable=True)
    flux.job.event_wait(h, jid, "start")
    watcher = flux.job.event_watch_async(h, jid)
    for _ in range(6):  # submit ... start
        watcher.get_event()
    import threading  # pylint: disable=import-outside-toplevel

    threading.Timer(0.3, private_instance.kill).start()
    with pytest.raises(OSError):
        flux.job.wait(h, jid)
    with pytest.raises(OSError):
        watcher.get_event()
    with pytest.raises(OSError):
        flux.job.submit(h, spec("true"))


def test_async_callbacks_in_the_reactor(h):
    """The callback style (RADICAL-Pilot's): submit_async().then(),
    event_watch_async().then(), h.reactor_run()."""
    seen = {}

    def on_event(fut, jid):
        ev = fut.get_event()
        seen.setdefault(jid, []).append(None if ev is None else ev.name)

    def on_submit(fut):
        jid = fut.get_id()
        flux.job.event_watch_async(fut.get_flux(), jid).then(on_event, jid)

    for _ in range(3):
        flux.job.submit_async(h, spec("true")).then(on_submit)
    assert h.reactor_run() == 0
    assert len(seen) == 3
    for names in seen.values():
        assert names[0] == "submit" and names[-2:] == ["clean", None] and "finish" in names


def test_job_output(h):
    jid = flux.job.submit(h, spec("sh", "-c", "echo one; echo two; echo oops >&2", num_tasks=1))
    out = flux.job.job_output(h, jid)
    assert out.stdout == "one\ntwo\n" and out.stderr == "oops\n" and out.log == ""
    assert list(flux.job.output_watch_lines(h, jid)) == [("stdout", "one"), ("stdout", "two"), ("stderr", "oops")]
    with pytest.raises(FileNotFoundError):
        flux.job.job_output(h, 2**62 + 7)
    running = flux.job.submit(h, spec("sleep", "60"))
    flux.job.event_wait(h, running, "start")
    with pytest.raises(FileNotFoundError):
        flux.job.job_output(h, running, nowait=True)
    flux.job.cancel(h, running)


def test_nodes_across_brokers(flux_bin):
    """-N2 through the API on a two-broker instance: one task per broker."""
    from conftest import Instance  # pylint: disable=import-outside-toplevel

    inst = Instance(flux_bin, size=2)
    try:
        h2 = flux.Flux(inst.uri)
        jid = flux.job.submit(h2, spec("true", num_tasks=2, num_nodes=2))
        assert flux.job.result(h2, jid).result == "COMPLETED"
        row = flux.job.job_list_id(h2, jid).get_job()
        assert row["ranks"] == "0,1" and row["nnodes"] == 2 and row["ntasks"] == 2
        assert h2.attr_get("size") == "2"
        h2.close()
    finally:
        inst.stop()


def test_executor_with_a_different_environment_per_job(instance):
    with flux.job.FluxExecutor() as ex:
        futs = [ex.submit(spec("sh", "-c", f'test "$N" = {i}', environment=dict(os.environ, N=str(i))))
                for i in range(60)]
    assert [f.result() for f in futs] == [0] * 60
