"""flux.Flux: a handle on one instance, over its local socket (FLUX_URI)."""

import collections
import errno
import fnmatch
import json
import os
import threading

from flux import _msgpack, constants
from flux._wire import ANY_RANK, Connection
from flux.future import RPC, Future


def _default_uri():
    uri = os.environ.get("FLUX_URI")
    if not uri:
        raise FileNotFoundError(
            errno.ENOENT,
            "Unable to connect to Flux: FLUX_URI is not set; run this inside an instance "
            "(flux start ..., or a job of one) or pass the instance's local:// URI",
        )
    return uri


def _nodeid(nodeid):
    if nodeid in (constants.FLUX_NODEID_ANY, None):
        return ANY_RANK
    if not isinstance(nodeid, int) or nodeid < 0:
        raise TypeError("nodeid must be a rank (an int >= 0) or FLUX_NODEID_ANY")
    if nodeid == constants.FLUX_NODEID_UPSTREAM:
        raise OSError(errno.EINVAL, "FLUX_NODEID_UPSTREAM is not supported; address rank 0 or FLUX_NODEID_ANY")
    return nodeid


def _payload(payload):
    """A request body from what flux-core accepts: a mapping or other JSON
    value, a JSON string, or JSON bytes; None for no payload."""
    if payload is None:
        return None
    if isinstance(payload, (bytes, bytearray)):
        payload = payload.decode("utf-8")
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise OSError(errno.EINVAL, f"payload is not valid JSON: {exc}") from None
    return payload


class Flux:
    """A handle on a Flux instance.

    ``Flux()`` connects to the instance named by ``FLUX_URI``; ``Flux(url)``
    to another ``local://`` URI. No instance there raises
    FileNotFoundError (an OSError with ENOENT). The handle may be shared by
    threads. A lost connection fails every pending future with OSError.
    """

    def __init__(self, url=None, flags=0, handle=None, uri=None):  # pylint: disable=unused-argument
        if handle is not None:
            raise OSError(errno.EINVAL, "wrapping a C flux_t handle is not supported by this implementation")
        url = url if url is not None else uri
        self.uri = _default_uri() if url is None else url
        self._events = collections.deque()
        self._event_cond = threading.Condition()
        self._cb_cond = threading.Condition()
        self._ready_q = collections.deque()  # futures with a then() callback and a value
        self._watching = set()  # futures with then() still expecting values
        self._stop = False
        self._conn = Connection(self.uri, on_event=self._on_event, on_lost=self._on_lost)

    # -- RPC ------------------------------------------------------------

    def rpc(self, topic, payload=None, nodeid=constants.FLUX_NODEID_ANY, flags=0):
        """Send a request and return its future; ``.get()`` is the response
        payload. ``flags=FLUX_RPC_STREAMING`` expects several responses."""
        if not isinstance(topic, str) or not topic:
            raise TypeError("topic must be a non-empty string")
        streaming = bool(flags & constants.FLUX_RPC_STREAMING)
        fut = RPC(self, streaming=streaming)
        body = _payload(payload)
        if flags & constants.FLUX_RPC_NORESPONSE:
            self._conn.request(topic, body, None, nodeid=_nodeid(nodeid))
            fut._fulfill(None)
            return fut
        fut.tag = self._conn.request(topic, body, fut._on_response, streaming=streaming, nodeid=_nodeid(nodeid))
        return fut

    def _call(self, topic, payload=None, future=None, streaming=False):
        """Internal: a request whose future is ``future`` (a Future subclass
        instance that decodes the payload), or a plain Future."""
        fut = future if future is not None else Future(self, streaming=streaming)
        fut.tag = self._conn.request(topic, payload, fut._on_response, streaming=fut._streaming)
        return fut

    # -- events ---------------------------------------------------------

    def event_subscribe(self, topic):
        """Receive events whose topic starts with ``topic`` (flux-core
        matches by prefix) or matches it as a glob."""
        pattern = topic if any(c in topic for c in "*?[") else topic + "*"
        with self._event_cond:
            self._user_patterns = tuple(self._user_patterns) + (pattern,)
        self._call("event.subscribe", {"patterns": [pattern]}).get()

    def event_unsubscribe(self, topic):  # pylint: disable=unused-argument
        """Accepted for compatibility; events of the topic keep arriving."""
        return None

    def event_send(self, topic, payload=None):
        """Publish an event with an optional JSON-like payload."""
        body = {"topic": topic}
        if payload is not None:
            body["payload"] = _msgpack.packb(_payload(payload))
        return self._call("event.pub", body)

    def event_recv(self, topic=None, timeout=None):
        """Return the next event received (after event_subscribe) as a dict
        with ``topic`` and ``payload``; with ``topic``, only such events."""
        with self._event_cond:
            while True:
                for i, ev in enumerate(self._events):
                    if topic is None or ev["topic"].startswith(topic):
                        del self._events[i]
                        return ev
                if self._conn.error is not None:
                    raise OSError(self._conn.error.errno, self._conn.error.strerror)
                if not self._event_cond.wait(timeout):
                    raise OSError(errno.ETIMEDOUT, "Connection timed out")

    def _on_event(self, msg):
        ev = {"topic": msg.get("topic", ""), "payload": msg.get("payload")}
        for hook in list(self._event_hooks()):
            hook(ev)
        with self._event_cond:
            # only what the user subscribed to is queued (event_watch's own
            # job.state subscription is not)
            if any(fnmatch.fnmatchcase(ev["topic"], p) for p in self._user_patterns):
                self._events.append(ev)
                while len(self._events) > 65536:  # bounded: the oldest go first
                    self._events.popleft()
            self._event_cond.notify_all()

    _hooks = ()
    _user_patterns = ()

    def _event_hooks(self):
        return self._hooks

    def _add_event_hook(self, fn):
        with self._event_cond:
            self._hooks = tuple(self._hooks) + (fn,)

    def _remove_event_hook(self, fn):
        with self._event_cond:
            self._hooks = tuple(h for h in self._hooks if h is not fn)

    def _on_lost(self, exc):  # pylint: disable=unused-argument
        with self._event_cond:
            self._event_cond.notify_all()
        with self._cb_cond:
            self._cb_cond.notify_all()

    # -- the reactor ----------------------------------------------------

    def _watch(self, fut):
        with self._cb_cond:
            self._watching.add(fut)

    def _ready(self, fut):
        with self._cb_cond:
            self._ready_q.append(fut)
            fut._deliveries = getattr(fut, "_deliveries", 0) + 1
            self._cb_cond.notify_all()

    def reactor_run(self, reactor=None, flags=0):  # pylint: disable=unused-argument
        """Run ``then()`` callbacks, once per value that arrives (a stream's
        last call sees its end), until no future with a callback is left or
        reactor_stop() is called. Returns the number still active (0 when
        all are done)."""
        self._stop = False
        while True:
            with self._cb_cond:
                while not self._ready_q and self._watching and not self._stop:
                    if self._conn.error is not None:
                        break
                    self._cb_cond.wait(0.5)
                if self._stop:
                    return len(self._watching)
                if not self._ready_q:
                    return len(self._watching)
                fut = self._ready_q.popleft()
                fut._deliveries -= 1
            if fut not in self._watching:
                continue
            fut._run_then()
            with self._cb_cond:
                if fut._done() and fut._deliveries == 0:
                    self._watching.discard(fut)

    def reactor_stop(self, reactor=None):  # pylint: disable=unused-argument
        """Make reactor_run() return after the current callback."""
        with self._cb_cond:
            self._stop = True
            self._cb_cond.notify_all()

    def reactor_stop_error(self, reactor=None):
        """As reactor_stop()."""
        self.reactor_stop(reactor)

    def _waitable_add(self, jobid):
        import importlib  # pylint: disable=import-outside-toplevel

        # flux.job.wait is also the name of a function in flux.job
        importlib.import_module("flux.job.wait")._add_waitable(self, jobid)

    # -- misc -----------------------------------------------------------

    def get_rank(self):
        """The rank of the broker this handle is connected to (always 0:
        clients connect to their instance's rank 0 socket)."""
        return 0

    def attr_get(self, attr_name):
        """The broker attributes a client can know here: ``rank``, ``size``
        (the instance's brokers), ``local-uri``, ``parent-uri`` (when it is a
        child instance); others raise FileNotFoundError."""
        if attr_name == "size":
            return str(len(self._call("resource.list").get()["all"]["ranks"]))
        known = {"rank": "0", "local-uri": self.uri, "parent-uri": os.environ.get("FLUX_PARENT_URI")}
        if known.get(attr_name) is None:
            raise FileNotFoundError(errno.ENOENT, f"attribute {attr_name} is not known to this client")
        return known[attr_name]

    def close(self):
        """Close the connection; pending futures fail with OSError."""
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        conn = getattr(self, "_conn", None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-except
                pass
