"""flux.job.job_list, job_list_id, JobList: the instance's jobs as
flux-core's job-list service describes them."""

import errno

from flux import constants
from flux.future import Future
from flux.job.info import JobInfo, from_wire
from flux.job.JobID import JobID

_STATE_NAMES = {
    "depend": constants.FLUX_JOB_STATE_DEPEND, "priority": constants.FLUX_JOB_STATE_PRIORITY,
    "sched": constants.FLUX_JOB_STATE_SCHED, "run": constants.FLUX_JOB_STATE_RUN,
    "cleanup": constants.FLUX_JOB_STATE_CLEANUP, "inactive": constants.FLUX_JOB_STATE_INACTIVE,
    "pending": constants.FLUX_JOB_STATE_PENDING, "running": constants.FLUX_JOB_STATE_RUNNING,
    "active": constants.FLUX_JOB_STATE_ACTIVE,
}
_RESULT_NAMES = {
    "completed": constants.FLUX_JOB_RESULT_COMPLETED, "failed": constants.FLUX_JOB_RESULT_FAILED,
    "canceled": constants.FLUX_JOB_RESULT_CANCELED, "timeout": constants.FLUX_JOB_RESULT_TIMEOUT,
}


class JobListRPC(Future):
    """The future of job_list(): ``get()`` is ``{"jobs": [dict, ...]}``;
    ``get_jobs()`` the list, ``get_jobinfos()`` JobInfo objects."""

    def __init__(self, flux_handle, max_entries=1000, states=0, results=0, since=0.0, name=None, ids=None):
        super().__init__(flux_handle)
        self._filter = (max_entries, states, results, since, name, ids)

    def _decode(self, payload):
        max_entries, states, results, since, name, ids = self._filter
        jobs = []
        for row in (payload or {}).get("jobs") or []:
            d = from_wire(row)
            if ids is not None and d["id"] not in ids:
                continue
            if states and not d["state"] & states:
                continue
            if results and not d.get("result", 0) & results:
                continue
            if since and d["state"] == constants.FLUX_JOB_STATE_INACTIVE and d.get("t_inactive", 0) <= since:
                continue
            if name is not None and d["name"] != name:
                continue
            jobs.append(d)
            if max_entries and len(jobs) >= max_entries:
                break
        return {"jobs": jobs}

    def get_jobs(self):
        """The list of job dicts."""
        return self.get()["jobs"]

    def get_jobinfos(self):
        """The jobs as JobInfo objects."""
        return [JobInfo(d) for d in self.get_jobs()]


def job_list(flux_handle, max_entries=1000, attrs=(), userid=None, states=0, results=0, since=0.0,
             name=None, queue=None):  # pylint: disable=unused-argument,too-many-arguments
    """Active jobs and the instance's bounded history of inactive ones
    (newest first), filtered like flux-core's job-list: ``states`` and
    ``results`` bit masks, ``since`` a time, ``name``. ``attrs`` is
    accepted; every known attribute is returned."""
    if not isinstance(max_entries, int) or max_entries < 0:
        raise ValueError("max_entries must be an integer >= 0")
    fut = JobListRPC(flux_handle, max_entries, states, results, since, name)
    return flux_handle._call("job.list", {"all": True}, future=fut)


def job_list_inactive(flux_handle, since=0.0, max_entries=1000, attrs=(), name=None, queue=None):
    """Inactive jobs only."""
    return job_list(flux_handle, max_entries, attrs, states=constants.FLUX_JOB_STATE_INACTIVE, since=since,
                    name=name, queue=queue)


class JobListIdRPC(Future):
    """The future of job_list_id(): ``get()`` is ``{"job": dict}``."""

    def __init__(self, flux_handle, jobid):
        super().__init__(flux_handle)
        self._jobid = int(jobid)

    def _decode(self, payload):
        for row in (payload or {}).get("jobs") or []:
            if row.get("id") == self._jobid:
                return {"job": from_wire(row)}
        return _Missing(self._jobid)

    def get(self):
        value = super().get()
        if isinstance(value, _Missing):
            raise FileNotFoundError(errno.ENOENT, f"job {JobID(value.jobid)} is unknown (or left the history)")
        return value

    def get_job(self):
        """The job's dict."""
        return self.get()["job"]

    def get_jobinfo(self):
        """The job as a JobInfo."""
        return JobInfo(self.get_job())


class _Missing:  # pylint: disable=too-few-public-methods
    def __init__(self, jobid):
        self.jobid = jobid


def job_list_id(flux_handle, jobid, attrs=("all",)):  # pylint: disable=unused-argument
    """One job by ID; ``get()`` raises FileNotFoundError if unknown."""
    return flux_handle._call("job.list", {"all": True}, future=JobListIdRPC(flux_handle, JobID(jobid)))


def get_job(flux_handle, jobid):
    """One job as a dict, or None if unknown."""
    try:
        return job_list_id(flux_handle, jobid).get_jobinfo().to_dict(filtered=False)
    except FileNotFoundError:
        return None


class JobList:
    """Query jobs: ``JobList(h, filters=["running"], max_entries=...)``,
    then ``.jobs()`` for JobInfo objects."""

    def __init__(self, flux_handle, attrs=("all",), filters=(), ids=(), user=None, max_entries=1000,
                 since=0.0, name=None, queue=None):  # pylint: disable=unused-argument,too-many-arguments
        self.handle = flux_handle
        self.states = 0
        self.results = 0
        self.max_entries = max_entries
        self.since = since
        self.name = name
        self.ids = [JobID(i) for i in ids] if ids else None
        self.errors = []
        for fname in filters:
            for name_ in fname.split(","):
                self.add_filter(name_)

    def set_user(self, user):
        """Accepted for compatibility: every job here is the owner's."""
        return None

    def add_filter(self, fname):
        """Add a state or result filter by name (pending, running,
        inactive, completed, failed, canceled, timeout, ...)."""
        key = fname.lower()
        if key in _RESULT_NAMES:
            self.results |= _RESULT_NAMES[key]
            self.states |= constants.FLUX_JOB_STATE_INACTIVE
        elif key in _STATE_NAMES:
            self.states |= _STATE_NAMES[key]
        else:
            raise ValueError(f"Invalid filter specified: {fname}")

    def fetch_jobs(self):
        """The request's future."""
        fut = JobListRPC(self.handle, 0 if self.ids else self.max_entries, self.states, self.results,
                         self.since, self.name, set(int(i) for i in self.ids) if self.ids else None)
        return self.handle._call("job.list", {"all": True}, future=fut)

    def jobs(self):
        """The jobs, as JobInfo objects."""
        return self.fetch_jobs().get_jobinfos()
