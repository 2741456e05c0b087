#!/usr/bin/env python3
"""A script written for flux-core's documented Python API only; it runs
unchanged under flux-core (flux start flux python compat.py) and under this
project's instance (the same command). It prints one line per check and
exits 0 when every check holds.
"""

import concurrent.futures
import sys

import flux
import flux.job
from flux.job import FluxExecutor, JobspecV1

h = flux.Flux()

# submit + wait (waitable jobs)
ok = flux.job.submit(h, JobspecV1.from_command(["true"]), waitable=True)
bad = flux.job.submit(h, JobspecV1.from_command(["false"]), waitable=True)
print("submitted", ok.f58 == str(ok), flux.job.JobID(ok.f58) == ok)
print("wait ok", flux.job.wait(h, ok).success)
status = flux.job.wait(h, bad)
print("wait bad", status.success, status.errstr.decode())

# result of any job, a second time too
info = flux.job.result(h, bad)
print("result", info.result, info.returncode)

# a job with a time limit, an environment and two tasks
js = JobspecV1.from_command(["sh", "-c", "exit 0"], num_tasks=2, cores_per_task=1)
js.duration = "1m"
js.environment = {"PATH": "/usr/bin:/bin"}
js.setattr_shell_option("output.stdout.label", False)
print("two tasks", flux.job.result(h, flux.job.submit(h, js)).result)

# cancel a pending or running job
long = flux.job.submit(h, JobspecV1.from_command(["sleep", "60"]))
flux.job.event_wait(h, long, "start")
flux.job.cancel(h, long)
print("canceled", flux.job.result(h, long).result)

# the eventlog of a finished job
names = [ev.name for ev in flux.job.event_watch(h, ok)]
print("events", names[0], names[-1], "start" in names and "finish" in names)

# bad input gets flux-core's exception types
try:
    JobspecV1.from_command(["true"], num_tasks=0)
except ValueError:
    print("ValueError for num_tasks=0")
try:
    flux.job.submit(h, "{not json")
except OSError as exc:
    print("OSError for bad JSON, errno", exc.errno)

# FluxExecutor: futures resolve to exit statuses
with FluxExecutor() as executor:
    futures = [executor.submit(JobspecV1.from_command(["sh", "-c", f"exit {i % 3}"])) for i in range(30)]
    statuses = sorted(f.result() for f in concurrent.futures.as_completed(futures))
    print("executor", statuses.count(0), statuses.count(1), statuses.count(2))
    fut = executor.submit(JobspecV1.from_command(["sleep", "60"]))
    fut.add_jobid_callback(lambda f: flux.job.cancel(flux.Flux(), f.jobid()))
    try:
        fut.result()
    except flux.job.JobException as exc:
        print("executor JobException", exc.type)

sys.exit(0)
