"""flux.job.event_watch, event_wait, JobException.

The instance keeps no per-job eventlog; the events flux-core's main
eventlog has (RFC 21) are derived from what the instance reports: the job's
row in job.list (submit time, state), its job.state transitions (running)
and its end (job.attach). The names, order and context keys are flux-core's:
submit, validate, depend, priority, alloc, start, [exception], finish,
release, free, clean.
"""

import errno
import threading

from flux.eventlog import EventLogEvent
from flux.future import _NOTHING, Future
from flux.job import _outcome
from flux.job.JobID import JobID

MAIN_EVENTS = frozenset(
    {"submit", "validate", "depend", "priority", "flux-restart", "urgency", "alloc", "free", "start",
     "release", "finish", "clean", "debug", "exception"}
)


class JobException(Exception):
    """A fatal (or not) exception event of a job: ``type``, ``note``,
    ``severity`` (0 = fatal) and ``timestamp``."""

    def __init__(self, event):
        self.timestamp = event.timestamp
        self.type = event.context["type"]
        self.note = event.context["note"]
        self.severity = event.context["severity"]
        super().__init__()

    def __str__(self):
        return f"job.exception: type={self.type}: {self.note}"


class JobEventWatchFuture(Future):
    """A stream of a job's events: ``get_event()`` returns the next
    EventLogEvent, or None once the eventlog is complete."""

    def __init__(self, flux_handle, jobid):
        super().__init__(flux_handle, streaming=True)
        self.jobid = JobID(jobid)
        self._lock = threading.Lock()  # guards the fields below (reader thread and caller)
        self._row = None  # the job.list row, once known
        self._outcome = None
        self._started = False
        self._start_time = 0.0
        self._finished = False
        self._pending_run = 0.0  # a running transition seen before the row

    def _emit(self, events):
        for ev in events:
            self._fulfill(ev, None, final=False)

    def _begin(self):
        h = self._flux
        _subscribe_states(h)
        h._add_event_hook(self._on_state)
        h._call("job.list", {"all": True}, future=_Callback(h, self._on_list))
        h._call("job.attach", {"id": int(self.jobid)}, future=_Callback(h, self._on_attach))

    def _on_list(self, payload, exc):
        with self._lock:
            if self._finished:
                return
            if exc is not None:
                self._finish_error(exc)
                return
            row = next((r for r in (payload or {}).get("jobs") or [] if r.get("id") == int(self.jobid)), None)
            if row is None:
                self._finish_error(FileNotFoundError(errno.ENOENT, "No such file or directory"))
                return
            self._row = row
            t_submit = row.get("submit") or 0.0
            self._emit(_outcome.submit_events(t_submit if t_submit > 0 else 0.0))
            if row.get("state") == "running" or self._pending_run:
                start = row.get("start") or self._pending_run
                self._emit(_outcome.start_events(start if start and start > 0 else t_submit))
                self._started = True
            if self._outcome is not None:
                self._end()

    def _on_state(self, ev):
        if ev["topic"] != "job.state":
            return
        for t in (ev.get("payload") or {}).get("transitions") or []:
            if t.get("id") == int(self.jobid) and t.get("state") == "running":
                import time  # pylint: disable=import-outside-toplevel

                with self._lock:
                    if self._row is None:
                        self._pending_run = time.time()
                    elif not self._started and not self._finished:
                        self._emit(_outcome.start_events(time.time()))
                        self._started = True

    def _on_attach(self, payload, exc):
        with self._lock:
            if self._finished:
                return
            if exc is not None:
                self._finish_error(exc)
                return
            self._outcome = _outcome.Outcome(payload or {})
            if self._row is not None:
                self._end()

    def _end(self):
        out = self._outcome
        if out.ran and not self._started:
            self._emit(_outcome.start_events(out.start))
            self._started = True
        self._emit(out.end_events(self._started))
        self._finished = True
        self._flux._remove_event_hook(self._on_state)
        self._fulfill(_NOTHING, None, final=True)

    def _finish_error(self, exc):
        self._finished = True
        self._flux._remove_event_hook(self._on_state)
        self._fulfill(None, exc, final=True)

    def get_event(self, autoreset=True):
        """The next event (blocking), or None at the end of the eventlog.
        FileNotFoundError for an unknown job."""
        self.wait_for()
        with self._cond:
            value, exc = self._items[0]
            if value is _NOTHING or exc is not None:
                pass
            elif autoreset:
                self._items.popleft()
        if exc is not None:
            raise OSError(exc.errno, exc.strerror) if isinstance(exc, OSError) else exc
        return None if value is _NOTHING else value

    def cancel(self, stop=False):  # pylint: disable=unused-argument
        """Stop watching."""
        with self._lock:
            if not self._finished:
                self._finished = True
                self._flux._remove_event_hook(self._on_state)
                self._fulfill(_NOTHING, None, final=True)


class _Callback(Future):
    """A request whose response goes to fn(payload, exc) on the reader
    thread (internal; fn must not block)."""

    def __init__(self, flux_handle, fn):
        super().__init__(flux_handle)
        self._fn = fn

    def _on_response(self, msg, exc):
        if exc is None:
            from flux._wire import response_error  # pylint: disable=import-outside-toplevel

            exc = response_error(msg)
        self._fn(None if exc is not None else msg.get("payload"), exc)


def _subscribe_states(h):
    if getattr(h, "_states_subscribed", False):
        return
    h._states_subscribed = True
    h._call("event.subscribe", {"patterns": ["job.state"]}).get()


def event_watch_async(flux_handle, jobid, eventlog="eventlog"):
    """Watch a job's main eventlog; returns a JobEventWatchFuture."""
    if eventlog != "eventlog":
        raise OSError(errno.ENOTSUP, f"eventlog {eventlog!r}: only the main eventlog is available")
    fut = JobEventWatchFuture(flux_handle, jobid)
    fut._begin()
    return fut


def event_watch(flux_handle, jobid, eventlog="eventlog"):
    """A generator of a job's events until its eventlog is complete
    (``clean``); FileNotFoundError for an unknown job."""
    watcher = event_watch_async(flux_handle, jobid, eventlog)
    event = watcher.get_event()
    while event is not None:
        yield event
        event = watcher.get_event()


def event_wait(flux_handle, jobid, name, eventlog="eventlog", raiseJobException=True):
    """Wait for the job's event ``name`` and return it; JobException if a
    fatal exception comes first (with raiseJobException), OSError(ENODATA)
    if the eventlog ends without it."""
    # pylint: disable=invalid-name
    for event in event_watch(flux_handle, jobid, eventlog):
        if event.name == name:
            return event
        if raiseJobException and event.name == "exception" and event.context["severity"] == 0:
            raise JobException(event)
    raise OSError(errno.ENODATA, f"eventlog ended before event='{name}'")


__all__ = ["EventLogEvent", "JobException", "MAIN_EVENTS", "event_watch", "event_watch_async", "event_wait"]
