"""How a job ended, as flux-core describes it: the wait status, the result
(COMPLETED, FAILED, CANCELED, TIMEOUT), the exception, and the eventlog.

The instance reports a job's end as a JobResult (broker/api.go): status
(exit code, or 128+signal as a job shell reports it), signal, timeout,
canceled, start and end times, and err for a launch failure or a lost
rank. Everything here is derived from that, plus the submit time and
urgency when known.
"""

import os
import signal

from flux import constants
from flux.eventlog import EventLogEvent


class Outcome:  # pylint: disable=too-many-instance-attributes
    """A job's end, decoded from a JobResult map."""

    def __init__(self, r):
        self.id = r.get("id", 0)
        self.status = r.get("status", 0) or 0
        self.signal = r.get("signal", 0) or 0
        self.timeout = bool(r.get("timeout"))
        self.canceled = bool(r.get("canceled"))
        self.err = r.get("err", "") or ""
        self.start = _time(r.get("start"))
        self.end = _time(r.get("end")) or self.start
        self.host = r.get("host", "")
        self.stdout = r.get("stdout") or b""
        self.stderr = r.get("stderr") or b""
        # A job canceled while pending ends with start == end (broker's Killed).
        self.ran = not (self.canceled and self.start == self.end) and not (self.err and self.start == self.end)

    @property
    def waitstatus(self):
        """wait(2) status of the job shell: its exit code << 8 (None if the
        job never ran)."""
        return (self.status & 0xFF) << 8 if self.ran else None

    @property
    def exception(self):
        """(type, note) of the job's fatal exception, or None."""
        if self.canceled:
            return ("cancel", "")
        if self.timeout:
            return ("timeout", "resource allocation expired")
        if self.err:
            return ("exec", self.err)
        return None

    @property
    def result_id(self):
        """FLUX_JOB_RESULT_*."""
        if self.canceled:
            return constants.FLUX_JOB_RESULT_CANCELED
        if self.timeout:
            return constants.FLUX_JOB_RESULT_TIMEOUT
        if self.status != 0 or self.err:
            return constants.FLUX_JOB_RESULT_FAILED
        return constants.FLUX_JOB_RESULT_COMPLETED

    @property
    def success(self):
        """True when every task exited 0 and no exception was raised."""
        return self.result_id == constants.FLUX_JOB_RESULT_COMPLETED

    @property
    def errstr(self):
        """flux-core's job wait error text ("" on success)."""
        exc = self.exception
        if exc is not None:
            return f"Fatal exception type={exc[0]} {exc[1]}"
        if self.status == 0:
            return ""
        if self.signal or self.status > 128:
            sig = self.signal or self.status - 128
            try:
                name = signal.strsignal(sig) or f"signal {sig}"
            except ValueError:
                name = f"signal {sig}"
            return f"task(s) {name}"
        return f"task(s) exited with exit code {self.status}"

    @property
    def executor_result(self):
        """What a FluxExecutor future resolves to: the exit status, or
        -signal when the job shell itself was signaled (never, here)."""
        ws = self.waitstatus
        if ws is None:
            return None
        if os.WIFSIGNALED(ws):
            return -os.WTERMSIG(ws)
        return os.WEXITSTATUS(ws)

    def result_dict(self, t_submit=None):
        """The payload flux-core's job result returns."""
        d = {"id": self.id, "t_submit": t_submit if t_submit else self.start}
        exc = self.exception
        d["exception_occurred"] = exc is not None
        if exc is not None:
            d.update(exception_type=exc[0], exception_note=exc[1], exception_severity=0)
        if self.ran:
            d.update(t_run=self.start, t_cleanup=self.end, waitstatus=self.waitstatus)
        d["result"] = self.result_id
        return d

    def end_events(self, started):
        """The events after start (or after priority, if the job never
        started): exception, finish, release, free, clean."""
        evs = []
        exc = self.exception
        if exc is not None:
            evs.append(event(self.end, "exception", type=exc[0], severity=0, note=exc[1], userid=os.getuid()))
        if self.ran and started:
            evs.append(event(self.end, "finish", status=self.waitstatus))
            evs.append(event(self.end, "release", ranks="all", final=True))
            evs.append(event(self.end, "free"))
        evs.append(event(self.end, "clean"))
        return evs


def _time(v):
    if isinstance(v, (int, float)) and v > 0:
        return float(v)
    return 0.0


def event(timestamp, name, **context):
    """An EventLogEvent."""
    return EventLogEvent({"timestamp": timestamp, "name": name, "context": context})


def submit_events(t_submit, urgency=constants.FLUX_JOB_URGENCY_DEFAULT, flags=0):
    """submit, validate, depend, priority: what every accepted job logs."""
    return [
        event(t_submit, "submit", userid=os.getuid(), urgency=urgency, flags=flags, version=1),
        event(t_submit, "validate"),
        event(t_submit, "depend"),
        event(t_submit, "priority", priority=urgency),
    ]


def start_events(t_start):
    """alloc and start."""
    return [event(t_start, "alloc"), event(t_start, "start")]
