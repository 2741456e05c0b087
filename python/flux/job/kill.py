"""flux.job.cancel and kill."""

import errno
import signal

from flux.future import Future
from flux.job.JobID import JobID


class _CancelFuture(Future):
    def _decode(self, payload):
        errs = (payload or {}).get("errs") or []
        if errs:
            text = errs[0]
            if "not pending or running" in text:
                text = f"job {self._jobid} is inactive or unknown ({text})"
            return FileNotFoundError(errno.ENOENT, text)
        return None

    def get(self):
        value = super().get()
        if isinstance(value, OSError):
            raise OSError(value.errno, value.strerror)
        return value


def cancel_async(flux_handle, jobid, reason=None):  # pylint: disable=unused-argument
    """Cancel a pending or running job; the future's get() raises
    FileNotFoundError if the job is unknown or already inactive."""
    fut = _CancelFuture(flux_handle)
    fut._jobid = JobID(jobid)
    return flux_handle._call("job.cancel", {"ids": [int(fut._jobid)], "all": False}, future=fut)


def cancel(flux_handle, jobid, reason=None):
    """Cancel a job (see cancel_async)."""
    return cancel_async(flux_handle, jobid, reason).get()


def kill_async(flux_handle, jobid, signum=None):
    """Signal a running job. This instance delivers SIGTERM and, after the
    grace period, SIGKILL (a cancel); other signals raise OSError(ENOTSUP)."""
    if signum and signum not in (signal.SIGTERM, signal.SIGKILL):
        raise OSError(errno.ENOTSUP, f"signal {signum}: this instance can only terminate jobs (SIGTERM/SIGKILL)")
    return cancel_async(flux_handle, jobid)


def kill(flux_handle, jobid, signum=None):
    """Signal a running job (see kill_async)."""
    return kill_async(flux_handle, jobid, signum).get()


def job_raise_async(flux_handle, jobid, exc_type, severity=0, note=None):  # pylint: disable=unused-argument
    """A fatal (severity 0) exception cancels the job; others are not
    supported (OSError ENOTSUP)."""
    if severity != 0:
        raise OSError(errno.ENOTSUP, "only fatal (severity 0) job exceptions are supported")
    return cancel_async(flux_handle, jobid, note)


def job_raise(flux_handle, jobid, exc_type, severity=0, note=None):
    """See job_raise_async."""
    return job_raise_async(flux_handle, jobid, exc_type, severity, note).get()
