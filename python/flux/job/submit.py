"""flux.job.submit and submit_async."""

import errno

from flux import constants
from flux.future import Future
from flux.job import _wire_jobspec
from flux.job.JobID import JobID


def check_urgency(urgency):
    """Urgency must be an int in 0..31 (16 is the default, 0 holds)."""
    if not isinstance(urgency, int) or isinstance(urgency, bool):
        raise TypeError("urgency must be an integer")
    if not constants.FLUX_JOB_URGENCY_MIN <= urgency <= constants.FLUX_JOB_URGENCY_MAX:
        raise OSError(errno.EINVAL, f"urgency {urgency} is out of range: it must be 0 (hold) through 31")
    return urgency


def request_for(jobspec, urgency=constants.FLUX_JOB_URGENCY_DEFAULT):
    """(job map, environment dict or None) of the submit request for a
    Jobspec or its JSON; OSError(EINVAL)/TypeError when it cannot be run."""
    job, env = _wire_jobspec.translate(_wire_jobspec.load(jobspec))
    if check_urgency(urgency) != constants.FLUX_JOB_URGENCY_DEFAULT:
        job["urgency"] = urgency
    return job, env


def refusal(why):
    """The OSError for a job the instance refused: EAGAIN when its queue is
    full (retry later), else EINVAL."""
    why = why or "the instance refused the job"
    return OSError(errno.EAGAIN if "queue is full" in why else errno.EINVAL, why)


class SubmitFuture(Future):
    """The future of submit_async(): ``get_id()`` is the JobID."""

    def __init__(self, flux_handle, waitable=False):
        super().__init__(flux_handle)
        self._waitable = waitable

    def _decode(self, payload):
        ids = (payload or {}).get("ids") or [0]
        errs = (payload or {}).get("errs") or [""]
        if not ids[0]:
            return refusal(errs[0])
        if self._waitable:
            self._flux._waitable_add(ids[0])
        return JobID(ids[0])

    def get_id(self):
        """The job's ID; OSError if the instance refused the job."""
        value = self.get()
        if isinstance(value, OSError):
            raise OSError(value.errno, value.strerror)
        return value

    get_jobid = get_id


def submit_async(flux_handle, jobspec, urgency=constants.FLUX_JOB_URGENCY_DEFAULT, waitable=False,
                 debug=False, pre_signed=False, novalidate=False):  # pylint: disable=unused-argument
    """Submit a job without waiting: returns a SubmitFuture whose
    ``get_id()`` is the job's ID. ``jobspec`` is a Jobspec or its JSON;
    a bad one raises OSError(EINVAL) or TypeError here."""
    job, env = request_for(jobspec, urgency)
    if waitable:
        job["flags"] = "waitable"  # for instances that keep the flag (flux job wait)
    env_list = _wire_jobspec.env_list(env) if env is not None else []
    fut = SubmitFuture(flux_handle, waitable)
    return flux_handle._call("job.submit", {"env": env_list, "jobs": [job]}, future=fut)


def submit_get_id(future):
    """The ID of a submit_async() future."""
    if future is None:
        raise OSError(errno.EINVAL, "future must not be None/NULL")
    return future.get_id()


def submit(flux_handle, jobspec, urgency=constants.FLUX_JOB_URGENCY_DEFAULT, waitable=False, debug=False,
           pre_signed=False, novalidate=False):
    """Submit a job and return its JobID. ``waitable=True`` lets
    flux.job.wait() collect it."""
    return submit_async(flux_handle, jobspec, urgency, waitable, debug, pre_signed, novalidate).get_id()


