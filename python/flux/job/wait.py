"""flux.job.wait (jobs submitted with waitable=True) and flux.job.result
(any job, any number of times).

Both ride on the instance's job.attach, which answers when the job ends
(at once for a job in its history of recent jobs). The waitable set lives
in the handle that submitted the jobs: wait() with no job ID waits for any
of them, and each is reaped once, as in flux-core. Unlike flux-core, a job
submitted without waitable=True (or through another handle) can still be
waited for by its ID.
"""

import collections
import errno
import threading

from flux import constants
from flux.future import Future
from flux.job._outcome import Outcome
from flux.job.info import JobInfo
from flux.job.JobID import JobID

JobWaitResult = collections.namedtuple("JobWaitResult", "jobid, success, errstr")

_REAPED_MAX = 65536


class _Attach(Future):
    """job.attach: the job's Outcome once it ends."""

    def _decode(self, payload):
        return Outcome(payload or {})

    def _fulfill(self, value=None, exc=None, final=True):
        super()._fulfill(value, exc, final)
        cond = getattr(self._flux, "_wait_cond", None)
        if cond is not None:
            with cond:
                cond.notify_all()


def _attach(flux_handle, jobid):
    return flux_handle._call("job.attach", {"id": int(jobid)}, future=_Attach(flux_handle))


def _state(h):
    """The handle's waitable bookkeeping, made on first use."""
    st = getattr(h, "_wait_state", None)
    if st is None:
        st = h._wait_state = {"jobs": {}, "reaped": collections.OrderedDict()}
        h._wait_cond = threading.Condition()
    return st


def _add_waitable(h, jobid):
    st = _state(h)
    with h._wait_cond:
        st["jobs"][int(jobid)] = None


def _echild(text="invalid job id, or job may be inactive and not waitable"):
    return ChildProcessError(errno.ECHILD, text)


class JobWaitFuture:
    """The future of wait_async(): ``get_status()`` is a JobWaitResult."""

    def __init__(self, flux_handle, jobid):
        self._h = flux_handle
        self._jobid = jobid
        self._result = None

    def _reap(self, jobid, outcome_future):
        st = _state(self._h)
        with self._h._wait_cond:
            st["jobs"].pop(jobid, None)
            st["reaped"][jobid] = True
            while len(st["reaped"]) > _REAPED_MAX:
                st["reaped"].popitem(last=False)
        try:
            out = outcome_future.get()
        except FileNotFoundError:
            raise _echild() from None
        return JobWaitResult(jobid, out.success, out.errstr.encode())

    def get_status(self):
        """Block until the job ends; ChildProcessError (ECHILD) for an
        unknown job, one already reaped, or no waitable job left."""
        if self._result is not None:
            return self._result
        h = self._h
        st = _state(h)
        # Requests are sent without holding _wait_cond: the reader thread
        # takes it to record waitable submissions, and must never wait on us.
        if self._jobid != constants.FLUX_JOBID_ANY:
            jobid = int(self._jobid)
            with h._wait_cond:
                if jobid in st["reaped"]:
                    raise _echild()
                fut = st["jobs"].get(jobid)
            if fut is None:
                fut = _attach(h, jobid)
                with h._wait_cond:
                    fut = st["jobs"].setdefault(jobid, None) or fut
                    st["jobs"][jobid] = fut
            fut.wait_for()
            self._result = self._reap(jobid, fut)
            return self._result
        with h._wait_cond:
            if not st["jobs"]:
                raise _echild("there are no more waitable jobs")
            todo = [j for j, f in st["jobs"].items() if f is None]
        started = {j: _attach(h, j) for j in todo}
        with h._wait_cond:
            for jobid, fut in started.items():
                if st["jobs"].get(jobid, 0) is None:
                    st["jobs"][jobid] = fut
            while True:
                ready = [(j, f) for j, f in st["jobs"].items() if f is not None and f.is_ready()]
                if ready:
                    break
                if not st["jobs"]:
                    raise _echild("there are no more waitable jobs")
                h._wait_cond.wait(1.0)
        jobid, fut = ready[0]
        self._result = self._reap(jobid, fut)
        return self._result

    get = get_status


def wait_async(flux_handle, jobid=constants.FLUX_JOBID_ANY):
    """Wait for a job to end, asynchronously (see wait)."""
    return JobWaitFuture(flux_handle, jobid if jobid == constants.FLUX_JOBID_ANY else JobID(jobid))


def wait_get_status(future):
    """The JobWaitResult of a wait_async() future."""
    if future is None:
        raise OSError(errno.EINVAL, "future must not be None/NULL")
    return future.get_status()


def wait(flux_handle, jobid=constants.FLUX_JOBID_ANY):
    """Wait for a job to end and reap it: returns JobWaitResult(jobid,
    success, errstr). Without ``jobid``, any job this handle submitted with
    waitable=True."""
    return wait_async(flux_handle, jobid).get_status()


class JobResultFuture:
    """The future of result_async(): ``get_dict()`` is flux-core's result
    payload, ``get_info()`` a JobInfo with id, result, returncode,
    waitstatus, t_submit, t_run, t_cleanup, runtime."""

    def __init__(self, flux_handle, jobid):
        self._jobid = JobID(jobid)
        self._fut = _attach(flux_handle, self._jobid)

    def is_ready(self):
        """True once the job has ended."""
        return self._fut.is_ready()

    def wait_for(self, timeout=-1.0):
        """Block until the job ends (TimeoutError after ``timeout`` s)."""
        self._fut.wait_for(timeout)
        return self

    def get_dict(self):
        """The result payload as a dict."""
        try:
            out = self._fut.get()
        except FileNotFoundError as exc:
            raise FileNotFoundError(errno.ENOENT, f"job {self._jobid}: {exc.strerror}") from None
        return out.result_dict()

    def get_info(self):
        """The result as a JobInfo."""
        d = self.get_dict()
        d["state"] = constants.FLUX_JOB_STATE_INACTIVE
        return JobInfo(d)

    get = get_dict


def result_async(flux_handle, jobid, flags=0):  # pylint: disable=unused-argument
    """The job's result once it ends, asynchronously (see result)."""
    return JobResultFuture(flux_handle, jobid)


def result(flux_handle, jobid, flags=0):
    """Wait for a job to end and return its result as a JobInfo (works for
    any job, also ones that already ended while in the instance's history,
    any number of times). FileNotFoundError for an unknown job."""
    return result_async(flux_handle, jobid, flags).get_info()
