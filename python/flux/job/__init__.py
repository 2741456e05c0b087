"""flux.job: submit, wait, result, cancel, list and watch jobs; JobspecV1,
JobID and FluxExecutor, with flux-core's names and behaviour."""

from flux.job.Jobspec import Jobspec, JobspecV1, validate_jobspec
from flux.job.JobID import JobID, id_encode, id_parse
from flux.job.kill import cancel, cancel_async, job_raise, job_raise_async, kill, kill_async
from flux.job.submit import submit, submit_async, submit_get_id
from flux.job.info import JobInfo
from flux.job.list import JobList, get_job, job_list, job_list_id, job_list_inactive
from flux.job.wait import JobWaitResult, result, result_async, wait, wait_async, wait_get_status
from flux.job.event import (
    MAIN_EVENTS,
    EventLogEvent,
    JobEventWatchFuture,
    JobException,
    event_wait,
    event_watch,
    event_watch_async,
)
from flux.job.executor import FluxExecutor, FluxExecutorFuture
from flux.job.output import JobOutput, job_output, output_watch, output_watch_lines

__all__ = [
    "Jobspec", "JobspecV1", "validate_jobspec", "JobID", "id_encode", "id_parse", "cancel", "cancel_async",
    "job_raise", "job_raise_async", "kill", "kill_async", "submit", "submit_async", "submit_get_id", "JobInfo",
    "JobList", "get_job", "job_list", "job_list_id", "job_list_inactive", "JobWaitResult", "result",
    "result_async", "wait", "wait_async", "wait_get_status", "MAIN_EVENTS", "EventLogEvent",
    "JobEventWatchFuture", "JobException", "event_wait", "event_watch", "event_watch_async", "FluxExecutor",
    "FluxExecutorFuture", "JobOutput", "job_output", "output_watch", "output_watch_lines",
]
