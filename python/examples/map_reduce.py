#!/usr/bin/env python3
"""A workflow in the style of Parsl or Maestro, on flux-core's documented
API only: map N jobs through a FluxExecutor, react to each as it completes,
then reduce. Runs unchanged under flux-core and this project:

    flux start flux python map_reduce.py [N]
"""

import concurrent.futures
import os
import shutil
import sys
import tempfile

from flux.job import FluxExecutor, JobspecV1


def job(script, workdir):
    spec = JobspecV1.from_command(["sh", "-c", script])
    spec.cwd = workdir
    return spec


def main(n):
    workdir = tempfile.mkdtemp(prefix="map-reduce-")
    with FluxExecutor() as executor:
        maps = {executor.submit(job(f"echo $(( {i} * {i} )) > part.{i}", workdir)): i for i in range(n)}
        for fut in concurrent.futures.as_completed(maps):
            if fut.result() != 0:
                sys.exit(f"map {maps[fut]} (job {fut.jobid()}) failed with {fut.result()}")
        parts = " ".join(f"part.{i}" for i in range(n))
        reduce_job = executor.submit(job(f"cat {parts} | awk '{{s += $1}} END {{print s}}' > total", workdir))
        if reduce_job.result() != 0:
            sys.exit("reduce failed")
    with open(os.path.join(workdir, "total"), encoding="utf-8") as f:
        total = int(f.read())
    shutil.rmtree(workdir)
    print(f"sum of squares below {n}: {total}")
    return 0 if total == sum(i * i for i in range(n)) else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
