"""Futures, as flux-core's bindings have them: ``get()`` blocks for the
value (raising the error an error response carries), ``wait_for(timeout)``,
``is_ready()``, ``then(callback)`` (called from ``h.reactor_run()``) and,
for streams, ``reset()`` to move on to the next response.

Responses arrive on the connection's reader thread; a future only stores
them, so a user's callback never runs on that thread.
"""

import collections
import errno
import json
import threading

from flux._wire import response_error

_NOTHING = object()


class Future:
    """A value (or error) that arrives later. Streaming futures hold a
    queue of values: ``get()`` returns the first, ``reset()`` drops it."""

    def __init__(self, flux_handle, streaming=False):
        self._flux = flux_handle
        self._streaming = streaming
        self._cond = threading.Condition()
        self._items = collections.deque()  # (value, exc)
        self._ended = False  # the final response (or an error) arrived
        self._then = None
        self.tag = 0

    # -- filled by the reader thread ------------------------------------

    def _fulfill(self, value=None, exc=None, final=True):
        with self._cond:
            self._items.append((value, exc))
            if final:
                self._ended = True
            self._cond.notify_all()
            then = self._then
        if then is not None and self._flux is not None:
            self._flux._ready(self)

    def _on_response(self, msg, exc):
        """Connection callback: one response (or the transport error)."""
        if exc is not None:
            self._fulfill(exc=exc, final=True)
            return
        err = response_error(msg)
        if self._streaming and err is not None and err.errno == errno.ENODATA:
            self._fulfill(_NOTHING, None, final=True)  # end of stream
            return
        more = bool((msg.get("flags", 0) or 0) & 4)
        value = None
        if err is None:
            try:
                value = self._decode(msg.get("payload"))
            except Exception as exc:  # pylint: disable=broad-except
                err = exc  # a payload this client cannot read fails the call, not the connection
        self._fulfill(value, err, final=err is not None or not more)

    def _decode(self, payload):  # pylint: disable=no-self-use
        return payload

    # -- the flux-core surface ------------------------------------------

    def is_ready(self):
        """True when a value (or an error) is waiting."""
        with self._cond:
            return bool(self._items)

    def wait_for(self, timeout=-1.0):
        """Block until ready; ``timeout`` < 0 waits forever. Raises
        TimeoutError (an OSError with ETIMEDOUT) when it runs out."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._items, None if timeout is None or timeout < 0 else timeout)
        if not ok:
            raise OSError(errno.ETIMEDOUT, "Connection timed out")
        return self

    def get(self):
        """The value, once it arrives; an error response raises OSError
        (FileNotFoundError for ENOENT, ...). A stream that ended returns
        None."""
        self.wait_for()
        with self._cond:
            value, exc = self._items[0]
        if exc is not None:
            raise OSError(exc.errno, exc.strerror) if isinstance(exc, OSError) else exc
        return None if value is _NOTHING else value

    def reset(self):
        """Streams: drop the value returned by get(), so the next get()
        waits for the next response."""
        with self._cond:
            if self._items and not (self._ended and len(self._items) == 1):
                self._items.popleft()

    def then(self, callback, *args, timeout=-1.0, **kwargs):  # pylint: disable=unused-argument
        """Call ``callback(future, *args, **kwargs)`` from ``reactor_run()``
        when the value (or each value of a stream) arrives."""
        if self._flux is None:
            raise OSError(errno.EINVAL, "future has no Flux handle to run its callback")
        with self._cond:
            self._then = (callback, args, kwargs)
            ready = len(self._items)  # one call per value already here
        self._flux._watch(self)
        for _ in range(ready):
            self._flux._ready(self)
        return self

    def get_flux(self):
        """The Flux handle this future belongs to."""
        return self._flux

    def stop(self):
        """Stop receiving a stream's responses."""
        if self._flux is not None and self.tag:
            self._flux._conn.forget(self.tag)
        self._fulfill(_NOTHING, None, final=True)

    def _done(self):
        """The final value has arrived (the reactor stops watching once its
        callback has been called for it)."""
        with self._cond:
            return self._ended

    def _run_then(self):
        then = self._then
        if then is None:
            return
        callback, args, kwargs = then
        callback(self, *args, **kwargs)


class RPC(Future):
    """The future of ``h.rpc(topic, payload)``: ``get()`` returns the
    response payload (a dict for a JSON object), ``get_str()`` its JSON."""

    def get_str(self):
        """The payload encoded as a JSON string (None without payload)."""
        value = self.get()
        return None if value is None else json.dumps(value)

    def get_flux(self):
        return self._flux


class WaitAllFuture:  # pylint: disable=too-few-public-methods
    """Several futures waited for together."""

    def __init__(self, children=None):
        self.children = list(children or [])

    def push(self, child, name=None):  # pylint: disable=unused-argument
        """Add one more future."""
        self.children.append(child)

    def get(self):
        """Wait for every child and return their values in order."""
        return [c.get() for c in self.children]
