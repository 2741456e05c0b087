"""flux.Flux: connecting, RPC, errors when no instance is reachable."""

import errno
import json

import pytest

import flux
from flux import constants


def test_rpc_get_and_get_str(h):
    fut = h.rpc("resource.list")
    res = fut.get()
    assert isinstance(res, dict) and res["all"]["ranks"], res
    assert json.loads(fut.get_str()) == res
    assert fut.is_ready()


def test_rpc_json_string_payload(h):
    jobs = h.rpc("job.list", '{"all": true}').get()
    assert "jobs" in jobs


def test_rpc_unknown_topic_raises_enosys(h):
    with pytest.raises(OSError) as exc:
        h.rpc("no.such.service", {}).get()
    assert exc.value.errno == errno.ENOSYS
    assert "no.such.service" in str(exc.value)


def test_rpc_bad_arguments(h):
    with pytest.raises(TypeError):
        h.rpc(5)
    with pytest.raises(OSError) as exc:
        h.rpc("job.list", "{not json")
    assert exc.value.errno == errno.EINVAL


def test_then_and_reactor_run(h):
    got = []
    h.rpc("resource.list").then(lambda f, tag: got.append((tag, f.get()["pending"])), "a")
    h.rpc("resource.list").then(lambda f: got.append(("b", f.get()["running"])))
    assert h.reactor_run() == 0
    assert sorted(t for t, _ in got) == ["a", "b"]


def test_streaming_rpc(h):
    fut = h.rpc("job.results", {}, flags=constants.FLUX_RPC_STREAMING)
    first = fut.get()
    assert first["watcher"] > 0
    fut.stop()


def test_no_instance_at_uri():
    with pytest.raises(FileNotFoundError) as exc:
        flux.Flux("local:///nonexistent/dir/local")
    assert exc.value.errno == errno.ENOENT
    assert "Unable to connect to Flux" in str(exc.value)


def test_no_flux_uri(monkeypatch):
    monkeypatch.delenv("FLUX_URI", raising=False)
    with pytest.raises(FileNotFoundError) as exc:
        flux.Flux()
    assert "FLUX_URI is not set" in str(exc.value)


def test_unsupported_uri_scheme():
    with pytest.raises(OSError) as exc:
        flux.Flux("ssh://host/tmp/x")
    assert exc.value.errno == errno.EINVAL


def test_lost_instance_fails_pending_calls(private_instance):
    h = flux.Flux(private_instance.uri)
    fut = h.rpc("job.results", {}, flags=constants.FLUX_RPC_STREAMING)
    fut.get()
    fut.reset()
    private_instance.stop()
    with pytest.raises(OSError):
        fut.wait_for(20)
        fut.get()
    with pytest.raises(OSError):
        h.rpc("resource.list").get()


def test_wait_for_timeout(h):
    fut = h.rpc("job.results", {}, flags=constants.FLUX_RPC_STREAMING)
    fut.get()
    fut.reset()
    with pytest.raises(TimeoutError):
        fut.wait_for(0.05)
    fut.stop()


def test_event_subscribe_send_recv(h):
    h.event_subscribe("mytopic")
    h.event_send("mytopic.x", {"k": 1}).get()
    ev = h.event_recv(timeout=10)
    assert ev["topic"] == "mytopic.x" and ev["payload"] == {"k": 1}


def test_attr_get(h):
    assert h.attr_get("size") == "1" and h.attr_get("rank") == "0"
    assert h.attr_get("local-uri") == h.uri and h.get_rank() == 0
    with pytest.raises(FileNotFoundError):
        h.attr_get("no-such-attribute")


def test_event_recv_gets_only_subscribed_topics(h):
    import flux.job  # pylint: disable=import-outside-toplevel

    h.event_subscribe("other")
    jid = flux.job.submit(h, flux.job.JobspecV1.from_command(["true"]))
    list(flux.job.event_watch(h, jid))  # subscribes this handle to job.state internally
    h.event_send("other.topic").get()
    assert h.event_recv(timeout=10)["topic"] == "other.topic"
