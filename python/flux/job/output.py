"""flux.job.job_output, output_watch, output_watch_lines: a job's captured
output.

This instance captures a job's output (when it is not sent to a file) and
hands it over when the job ends (job.attach), while the job is in its
history of recent jobs; so these calls deliver the output once the job has
ended, stdout then stderr, rather than as it is written. ``labelio`` is
accepted; the tasks' output is already merged in rank order.
"""

import errno
from typing import NamedTuple

from flux.job.JobID import JobID
from flux.job.wait import _attach

LOG_TRACE = 7
LOG_QUIET = -1


class JobOutput(NamedTuple):
    """A job's output: ``stdout``, ``stderr`` and ``log`` (str)."""

    stdout: str
    stderr: str
    log: str


def _decode(data):
    return data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else (data or "")


def _outcome(flux_handle, jobid, nowait):
    jobid = JobID(jobid)
    fut = _attach(flux_handle, jobid)
    if nowait:
        try:
            fut.wait_for(0.5)
        except TimeoutError:
            raise FileNotFoundError(errno.ENOENT, f"job {jobid}: its output is not available until it ends") from None
    try:
        return fut.get()
    except FileNotFoundError as exc:
        raise FileNotFoundError(errno.ENOENT, f"job {jobid}: {exc.strerror}") from None


def job_output(flux_handle, jobid, tasks="*", labelio=False, nowait=False, log_stderr_level=LOG_TRACE):
    """The job's output once it ends, as JobOutput(stdout, stderr, log).
    FileNotFoundError for an unknown job (or, with ``nowait``, one still
    running)."""
    # pylint: disable=unused-argument,too-many-arguments
    out = _outcome(flux_handle, jobid, nowait)
    stderr = _decode(out.stderr)
    if out.err:
        stderr += f"flux-job: job {JobID(jobid)}: {out.err}\n"
    return JobOutput(_decode(out.stdout), stderr, "")


def output_watch(flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE, nowait=False):
    """A generator of (stream, data) pairs: the job's stdout and stderr,
    once it ends."""
    # pylint: disable=unused-argument
    out = job_output(flux_handle, jobid, nowait=nowait)
    if out.stdout:
        yield "stdout", out.stdout
    if out.stderr:
        yield "stderr", out.stderr


def output_watch_lines(flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE, nowait=False,
                       keepends=False):
    """A generator of (stream, line) pairs (see output_watch)."""
    # pylint: disable=too-many-arguments
    for stream, data in output_watch(flux_handle, jobid, labelio, log_stderr_level, nowait):
        for line in data.splitlines(keepends):
            yield stream, line
