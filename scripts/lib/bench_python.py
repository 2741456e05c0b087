"""Helpers of scripts/bench-python, run with `flux python` inside an instance.

  executor N [THREADS]   submit N `true` jobs through flux.job.FluxExecutor
                         and wait for every future; exit 1 if any failed;
                         BENCH_PY_ELAPSED=FILE gets the seconds from the
                         executor's creation to its last result
  idle                   wait until the instance has no pending or running job
"""

import os
import sys
import time

import flux
import flux.job


def executor(n, threads=1):
    js = flux.job.JobspecV1.from_command(["true"])
    t0 = time.time()
    with flux.job.FluxExecutor(threads=threads) as ex:
        futs = [ex.submit(js) for _ in range(n)]
    elapsed = time.time() - t0
    out = os.environ.get("BENCH_PY_ELAPSED")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(f"{elapsed:.3f}\n")
    bad = sum(1 for f in futs if f.result() != 0)
    if bad:
        print(f"bench_python: {bad} of {n} jobs failed", file=sys.stderr)
        sys.exit(1)


def idle():
    h = flux.Flux()
    while True:
        r = h.rpc("resource.list").get()
        if r.get("pending", 0) == 0 and r.get("running", 0) == 0:
            return
        time.sleep(0.005)


if __name__ == "__main__":
    if sys.argv[1] == "executor":
        executor(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    elif sys.argv[1] == "idle":
        idle()
    else:
        sys.exit(f"bench_python: unknown mode {sys.argv[1]}")
