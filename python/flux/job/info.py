"""JobInfo: one job as flux-core's job-list describes it, with the computed
properties scripts use (state, result, returncode, runtime, ...)."""

import os

from flux import constants
from flux.job.JobID import JobID

_STATES = {
    constants.FLUX_JOB_STATE_NEW: ("NEW", "N"),
    constants.FLUX_JOB_STATE_DEPEND: ("DEPEND", "D"),
    constants.FLUX_JOB_STATE_PRIORITY: ("PRIORITY", "P"),
    constants.FLUX_JOB_STATE_SCHED: ("SCHED", "S"),
    constants.FLUX_JOB_STATE_RUN: ("RUN", "R"),
    constants.FLUX_JOB_STATE_CLEANUP: ("CLEANUP", "C"),
    constants.FLUX_JOB_STATE_INACTIVE: ("INACTIVE", "I"),
}
_RESULTS = {
    constants.FLUX_JOB_RESULT_COMPLETED: ("COMPLETED", "CD"),
    constants.FLUX_JOB_RESULT_FAILED: ("FAILED", "F"),
    constants.FLUX_JOB_RESULT_CANCELED: ("CANCELED", "CA"),
    constants.FLUX_JOB_RESULT_TIMEOUT: ("TIMEOUT", "TO"),
}


def statetostr(stateid, fmt="L"):
    """A state id's name (fmt "S": one letter)."""
    name = _STATES.get(stateid, ("(unknown)", "?"))
    return name[1] if fmt == "S" else name[0]


def resulttostr(resultid, fmt="L"):
    """A result id's name (fmt "S": abbreviated)."""
    name = _RESULTS.get(resultid, ("", ""))
    return name[1] if fmt == "S" else name[0]


class ExceptionInfo:  # pylint: disable=too-few-public-methods
    """A job's exception: occurred, severity, type, note."""

    def __init__(self, occurred, severity, _type, note):
        self.occurred = occurred
        self.severity = severity
        self.type = _type
        self.note = note


def _wire_state(row):
    """(state id, result id, waitstatus) of a job.list row."""
    state = row.get("state", "")
    if state == "pending":
        return constants.FLUX_JOB_STATE_SCHED, 0, None
    if state == "running":
        return constants.FLUX_JOB_STATE_RUN, 0, None
    status = row.get("status", 0) or 0
    ran = (row.get("start") or 0) > 0
    result = {
        "canceled": constants.FLUX_JOB_RESULT_CANCELED,
        "timeout": constants.FLUX_JOB_RESULT_TIMEOUT,
        "failed": constants.FLUX_JOB_RESULT_FAILED,
    }.get(state, constants.FLUX_JOB_RESULT_COMPLETED)
    return constants.FLUX_JOB_STATE_INACTIVE, result, ((status & 0xFF) << 8 if ran else None)


def _t(v):
    return float(v) if isinstance(v, (int, float)) and v > 0 else 0.0


def from_wire(row):
    """A flux-core job-list dict from one row of this instance's job.list."""
    state, result, waitstatus = _wire_state(row)
    req = row.get("req") or {}
    ntasks = req.get("n", 1) or 1
    d = {
        "id": row.get("id", 0),
        "userid": os.getuid(),
        "urgency": constants.FLUX_JOB_URGENCY_DEFAULT,
        "priority": constants.FLUX_JOB_URGENCY_DEFAULT,
        "state": state,
        "name": row.get("name", ""),
        "ntasks": ntasks,
        "ncores": ntasks * (req.get("c", 1) or 1),
        "nnodes": req.get("N") or len(str(row.get("ranks", "0")).split(",")),
        "t_submit": _t(row.get("submit")),
    }
    t_run, t_end = _t(row.get("start")), _t(row.get("end"))
    if t_run:
        d["t_run"] = t_run
    if row.get("ranks"):
        d["ranks"] = row["ranks"]
    if state == constants.FLUX_JOB_STATE_INACTIVE:
        d["t_cleanup"] = d["t_inactive"] = t_end
        d["result"] = result
        d["success"] = result == constants.FLUX_JOB_RESULT_COMPLETED
        d["exception_occurred"] = result in (constants.FLUX_JOB_RESULT_CANCELED, constants.FLUX_JOB_RESULT_TIMEOUT)
        if d["exception_occurred"]:
            d["exception_type"] = "cancel" if result == constants.FLUX_JOB_RESULT_CANCELED else "timeout"
            d["exception_severity"] = 0
            d["exception_note"] = ""
        if waitstatus is not None:
            d["waitstatus"] = waitstatus
    if row.get("why"):
        d["annotations"] = {"sched": {"reason_pending": row["why"]}}
    return d


class JobInfo:
    """One job. Attributes are the job-list keys (``id``, ``name``,
    ``t_submit``, ``ntasks`` ...) plus computed ones: ``state``,
    ``state_single``, ``result``, ``result_abbrev``, ``status``,
    ``returncode``, ``runtime``, ``exception``, ``success``."""

    defaults = {
        "t_depend": 0.0, "t_run": 0.0, "t_cleanup": 0.0, "t_inactive": 0.0, "duration": 0.0,
        "expiration": 0.0, "name": "", "cwd": "", "queue": "", "ntasks": "", "ncores": "", "nnodes": "",
        "priority": "", "ranks": "", "nodelist": "", "success": "", "result": "", "waitstatus": "",
        "exception_occurred": "", "exception_type": "", "exception_severity": "", "exception_note": "",
        "annotations": {}, "dependencies": [],
    }

    def __init__(self, info_resp):
        d = dict(self.defaults)
        d.update(info_resp)
        d["id"] = JobID(d["id"])
        d["state_id"] = d.pop("state", constants.FLUX_JOB_STATE_INACTIVE)
        d["result_id"] = d.pop("result", "")
        d["exception"] = ExceptionInfo(d["exception_occurred"], d["exception_severity"],
                                       d["exception_type"], d["exception_note"])
        self._d = d

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        try:
            return self._d[attr]
        except KeyError:
            raise AttributeError(f"invalid JobInfo attribute '{attr}'") from None

    @property
    def state(self):
        """DEPEND, PRIORITY, SCHED, RUN, CLEANUP or INACTIVE."""
        return statetostr(self.state_id)

    @property
    def state_single(self):
        """The state's one-letter name."""
        return statetostr(self.state_id, "S")

    @property
    def result(self):
        """COMPLETED, FAILED, CANCELED, TIMEOUT ("" while active)."""
        return resulttostr(self.result_id)

    @property
    def result_abbrev(self):
        """CD, F, CA, TO."""
        return resulttostr(self.result_id, "S")

    @property
    def status(self):
        """The result once inactive, else the state (as flux jobs shows)."""
        if self.state_id == constants.FLUX_JOB_STATE_INACTIVE and self.result_id:
            return self.result
        return "RUN" if self.state_id == constants.FLUX_JOB_STATE_RUN else self.state

    @property
    def returncode(self):
        """The highest task exit code; -signal; -128 for a job canceled
        before it ran; "" while active."""
        status = self.waitstatus
        if not isinstance(status, int):
            if self.result_id == constants.FLUX_JOB_RESULT_CANCELED:
                return -128
            if self.result_id == constants.FLUX_JOB_RESULT_FAILED:
                return 1
            return ""
        if os.WIFSIGNALED(status):
            return -os.WTERMSIG(status)
        return os.WEXITSTATUS(status)

    @property
    def runtime(self):
        """Seconds from start to end (or to now while running); 0.0 if it
        never ran."""
        import time  # pylint: disable=import-outside-toplevel

        if not self.t_run:
            return 0.0
        end = self.t_cleanup or (0.0 if self.state_id == constants.FLUX_JOB_STATE_INACTIVE else time.time())
        return max(0.0, end - self.t_run) if end else 0.0

    def to_dict(self, filtered=True):  # pylint: disable=unused-argument
        """The job as a plain dict (computed properties included)."""
        d = {k: v for k, v in self._d.items() if k not in ("exception",)}
        d.update(id=int(self.id), state=self.state, result=self.result, returncode=self.returncode,
                 runtime=self.runtime, status=self.status)
        return d

    def __repr__(self):
        return f"JobInfo(id={self.id.dec}, state={self.state}, result={self.result})"
