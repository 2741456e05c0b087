"""Translation of an RFC 14/25 jobspec into the instance's submit request
(broker/api.go Jobspec): a request of nodes, tasks, cores and GPUs per
task, the command, environment, cwd, time limit, output file and name.

Shapes the instance cannot run are refused with OSError(EINVAL) naming
what to change, as flux-core refuses an invalid jobspec at submit.
"""

import collections.abc as abc
import errno
import json

from flux.job.Jobspec import Jobspec

URGENCY_DEFAULT = 16


def _bad(text):
    return OSError(errno.EINVAL, "jobspec: " + text)


def _count(res):
    count = res.get("count")
    if isinstance(count, abc.Mapping):
        count = count.get("min")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise _bad(f"{res.get('type')} count must be a non-negative integer")
    return count


def _slot_shape(slot):
    cores = gpus = 0
    for child in slot.get("with", []):
        kind = child.get("type")
        if kind == "core":
            cores += _count(child)
        elif kind == "gpu":
            gpus += _count(child)
        else:
            raise _bad(f"a slot may hold core and gpu resources, not {kind!r}")
    if cores < 1:
        raise _bad("a slot must hold at least one core")
    return cores, gpus


def load(jobspec):
    """The jobspec as a dict, from a Jobspec, a JSON string or bytes."""
    if jobspec is None:
        raise OSError(errno.EINVAL, "jobspec must not be None/NULL")
    if isinstance(jobspec, Jobspec):
        return jobspec.jobspec
    if isinstance(jobspec, (bytes, bytearray)):
        jobspec = bytes(jobspec).decode("utf-8", "replace")
    if isinstance(jobspec, str):
        try:
            data = json.loads(jobspec)
        except ValueError as exc:
            raise OSError(errno.EINVAL, f"jobspec: invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise _bad("must be a JSON object")
        return data
    raise TypeError("jobspec must be a Jobspec or string (either binary or unicode)")


def translate(spec):
    """Return (job, environment) for a jobspec dict: ``job`` is the submit
    request's job map without its environment, ``environment`` a dict
    (None when the jobspec has none)."""
    # pylint: disable=too-many-branches,too-many-locals
    if spec.get("version") != 1:
        raise _bad("only version 1 jobspecs are supported")
    resources, tasks = spec.get("resources"), spec.get("tasks")
    if not isinstance(resources, list) or len(resources) != 1:
        raise _bad("resources must be a list of exactly one node or slot")
    if not isinstance(tasks, list) or len(tasks) != 1 or not isinstance(tasks[0], abc.Mapping):
        raise _bad("tasks must be a list of exactly one task")
    top = resources[0]
    if not isinstance(top, abc.Mapping):
        raise _bad("a resource must be a mapping")
    req = {"N": 0, "n": 0, "c": 0, "g": 0}
    if top.get("type") == "node":
        nodes = _count(top)
        inner = top.get("with", [])
        if len(inner) != 1 or inner[0].get("type") != "slot":
            raise _bad("a node must hold exactly one slot")
        slot = inner[0]
        slots = nodes * _count(slot)
        req["N"] = nodes
        if top.get("exclusive"):
            req["x"] = True
    elif top.get("type") == "slot":
        slot = top
        slots = _count(slot)
    else:
        raise _bad(f"the top resource must be a node or a slot, not {top.get('type')!r}")
    cores, gpus = _slot_shape(slot)
    task = tasks[0]
    command = task.get("command")
    if isinstance(command, (str, bytes)) or not isinstance(command, list) or not command:
        raise _bad("tasks[0].command must be a non-empty list of strings")
    if not all(isinstance(a, str) for a in command):
        raise _bad("tasks[0].command must be a list of strings")
    count = task.get("count", {})
    if "per_slot" in count:
        per = count["per_slot"]
        if not isinstance(per, int) or per < 1:
            raise _bad("count.per_slot must be an integer >= 1")
        ntasks = slots * per
        if cores % per or gpus % per:
            raise _bad(f"{per} tasks per slot cannot share a slot of {cores} cores evenly")
        cores, gpus = cores // per, gpus // per
    elif "total" in count:
        ntasks = count["total"]
        if not isinstance(ntasks, int) or ntasks < 1:
            raise _bad("count.total must be an integer >= 1")
    else:
        raise _bad("tasks[0].count needs per_slot or total")
    req["n"], req["c"], req["g"] = ntasks, cores, gpus
    if req.get("x"):
        # -N alone (whole nodes): the instance spreads the node's cores
        req["c"], req["g"] = 0, 0
    job = {"req": req, "argv": list(command)}
    attrs = spec.get("attributes", {}) or {}
    system = attrs.get("system", {}) or {}
    duration = system.get("duration", 0) or 0
    if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
        raise _bad("attributes.system.duration must be a number >= 0")
    if duration:
        job["t"] = int(round(duration * 1e9))
    cwd = system.get("cwd")
    if cwd is not None:
        if not isinstance(cwd, str):
            raise _bad("attributes.system.cwd must be a string")
        job["cwd"] = cwd
    name = (system.get("job") or {}).get("name")
    job["name"] = name if isinstance(name, str) and name else command[0].rsplit("/", 1)[-1]
    options = (system.get("shell") or {}).get("options") or {}
    out = (options.get("output") or {}).get("stdout") or {}
    if out.get("type") == "file" and isinstance(out.get("path"), str):
        job["output"] = out["path"]
        if out.get("label"):
            job["label"] = True
    err = (options.get("output") or {}).get("stderr") or {}
    if err.get("type") == "file" and isinstance(err.get("path"), str):
        job["error"] = err["path"]  # stderr's own file (instances that know the key)
    pmi = options.get("pmi")
    if pmi is not None:
        job["pmi"] = "off" if pmi in ("off", "none", False) else "on"
    env = system.get("environment")
    if env is not None and not isinstance(env, abc.Mapping):
        raise _bad("attributes.system.environment must be a mapping")
    return job, env


def env_list(env):
    """A dict environment as the KEY=VALUE list the wire carries."""
    return [f"{k}={v}" for k, v in env.items()]
