"""Jobspec (RFC 14) and its version 1 (RFC 25), built and checked as
flux-core's bindings do: the same factories, properties and exception types
(TypeError for a wrong type, ValueError for a wrong value).

The instance runs what RFC 25 describes: resources as ``slot`` (optionally
inside ``node``) with ``core`` and ``gpu`` children, tasks with
``per_slot`` or ``total`` counts, and ``attributes.system`` ``duration``,
``cwd``, ``environment``, ``job.name`` and ``shell.options`` (``output``,
``pmi``). flux/job/_wire_jobspec.py translates it into the submit request.
"""

import collections
import collections.abc as abc
import datetime
import json
import math
import numbers
import os
import re

_FSD = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([smhd]?)\s*$")
_FSD_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_fsd(text):
    """Seconds in a Flux Standard Duration: ``30``, ``1.5m``, ``2h``, ``1d``,
    ``inf``. ValueError for anything else."""
    if not isinstance(text, str):
        raise TypeError("duration string must be a str")
    if text.strip() in ("inf", "infinity", "INF"):
        return float("inf")
    m = _FSD.match(text)
    if not m:
        raise ValueError(f"invalid Flux standard duration '{text}'")
    return float(m.group(1)) * _FSD_UNIT[m.group(2)]


def _set_tree(d, dotted, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        nxt = d.get(k)
        if not isinstance(nxt, abc.MutableMapping):
            nxt = {}
            d[k] = nxt
        d = nxt
    d[keys[-1]] = value


def _get_tree(d, dotted):
    for k in dotted.split("."):
        if not isinstance(d, abc.Mapping) or k not in d:
            raise KeyError(dotted)
        d = d[k]
    return d


def _attr_key(key):
    """Attribute keys are relative to ``attributes``; a key not naming a
    section goes under ``system`` (flux-core's rule)."""
    if key.startswith("attributes."):
        return key[len("attributes."):]
    if key.startswith(("system.", "user.")):
        return key
    return "system." + key


def _check_count(count, what):
    if isinstance(count, bool) or not isinstance(count, (int, abc.Mapping)):
        raise TypeError("count must be an int or mapping")
    if isinstance(count, abc.Mapping):
        if "min" not in count:
            raise ValueError("min must be in range")
        for key in ("min", "max", "operand"):
            if key in count:
                if not isinstance(count[key], int) or isinstance(count[key], bool):
                    raise TypeError(f"{key} must be an int")
                if count[key] < 1:
                    raise ValueError(f"{key} must be > 0")
        if "max" in count and count["max"] < count["min"]:
            raise ValueError("max must be >= min")
        return
    if count < 1 and what in ("node", "slot", "core"):
        raise ValueError("node, slot, or core count must be > 0")
    if count < 0:
        raise ValueError("count must be >= 0")


def _check_resource(res):
    if not isinstance(res, abc.Mapping):
        raise TypeError("resource must be a mapping")
    if "type" not in res:
        raise ValueError("type is a required key for resources")
    if not isinstance(res["type"], str):
        raise TypeError("type must be a string")
    if "count" not in res:
        raise ValueError("count is a required key for resources")
    _check_count(res["count"], res["type"])
    for key in ("unit", "label", "id"):
        if key in res and not isinstance(res[key], str):
            raise TypeError(f"{key} must be a string")
    if "exclusive" in res and not isinstance(res["exclusive"], bool):
        raise TypeError("exclusive must be a boolean")
    if res["type"] == "slot" and "label" not in res:
        raise ValueError("slots must have labels")
    children = res.get("with", [])
    if isinstance(children, (str, bytes)) or not isinstance(children, abc.Sequence):
        raise TypeError("with must be a sequence")
    for child in children:
        _check_resource(child)


def _check_task(task):
    if not isinstance(task, abc.Mapping):
        raise TypeError("task must be a mapping")
    for key in ("command", "slot", "count"):
        if key not in task:
            raise ValueError(f"Missing key ({key})")
    count = task["count"]
    if not isinstance(count, abc.Mapping):
        raise TypeError("count must be a mapping")
    if len(count) != 1:
        raise ValueError("count must have exactly one key set")
    if not set(count) & {"per_slot", "per_resource", "total"}:
        raise ValueError("count per_slot, per_resource, or total must be set")
    for key in ("per_slot", "total"):
        if key in count:
            if not isinstance(count[key], int) or isinstance(count[key], bool):
                raise TypeError(f"count {key} must be an int")
            if count[key] < 1:
                raise ValueError(f"count {key} must be > 0")
    if not isinstance(task["slot"], str):
        raise TypeError("slot must be a string")
    if "attributes" in task and not isinstance(task["attributes"], abc.Mapping):
        raise TypeError("attributes must be a mapping")
    command = task["command"]
    if isinstance(command, (str, bytes)) or not isinstance(command, abc.Sequence):
        raise TypeError("command must be a list of strings")
    if len(command) == 0:
        raise TypeError("command array cannot have length of zero")
    if not all(isinstance(a, str) for a in command):
        raise TypeError("command must be a list of strings")


class Jobspec:
    """A jobspec: ``resources``, ``tasks``, ``attributes``, ``version``."""

    def __init__(self, resources, tasks, attributes=None, version=1):
        if isinstance(resources, (str, bytes)) or not isinstance(resources, abc.Sequence):
            raise TypeError("resources must be a sequence")
        if isinstance(tasks, (str, bytes)) or not isinstance(tasks, abc.Sequence):
            raise TypeError("tasks must be a sequence")
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, abc.Mapping):
            raise TypeError("attributes must be a mapping")
        if not isinstance(version, int) or isinstance(version, bool):
            raise TypeError("version must be an integer")
        if version < 1:
            raise ValueError("version must be >= 1")
        for res in resources:
            _check_resource(res)
        for task in tasks:
            _check_task(task)
        system = attributes.get("system", {})
        if "dependencies" in system and not isinstance(system["dependencies"], abc.Sequence):
            raise TypeError("attributes.system.dependencies must be a list")
        self.jobspec = {
            "resources": [dict(r) for r in resources],
            "tasks": [dict(t) for t in tasks],
            "attributes": json.loads(json.dumps(attributes)),
            "version": version,
        }

    # -- construction from text ------------------------------------------

    @classmethod
    def from_json(cls, text):
        """Build from a JSON string (what ``dumps()`` writes)."""
        return cls(**json.loads(text))

    # -- sections --------------------------------------------------------

    @property
    def resources(self):
        """The resources section (a list)."""
        return self.jobspec["resources"]

    @property
    def tasks(self):
        """The tasks section (a list)."""
        return self.jobspec["tasks"]

    @property
    def attributes(self):
        """The attributes section (a dict)."""
        return self.jobspec["attributes"]

    @property
    def version(self):
        """The jobspec version."""
        return self.jobspec["version"]

    # -- attributes ------------------------------------------------------

    def getattr(self, key):
        """An attribute by dotted key (``system.cwd``, ``user.x``; a key
        without section means ``system.``); KeyError if unset."""
        return _get_tree(self.jobspec["attributes"], _attr_key(key))

    def setattr(self, key, val):
        """Set an attribute by dotted key (see getattr)."""
        try:
            json.dumps(val)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"failed to set {key} to {val}: {exc}") from None
        _set_tree(self.jobspec["attributes"], _attr_key(key), val)

    def setattr_shell_option(self, key, val):
        """Set ``attributes.system.shell.options.<key>``."""
        self.setattr("system.shell.options." + key, val)

    @property
    def duration(self):
        """The time limit in seconds (0 = none)."""
        try:
            return self.getattr("system.duration")
        except KeyError:
            return 0

    @duration.setter
    def duration(self, duration):
        if isinstance(duration, datetime.timedelta):
            seconds = duration.total_seconds()
        elif isinstance(duration, str):
            seconds = parse_fsd(duration)
        elif isinstance(duration, numbers.Number) and not isinstance(duration, bool):
            seconds = float(duration)
        else:
            raise TypeError("duration must be an int, float, string, or timedelta")
        if seconds < 0:
            raise ValueError("duration must not be negative")
        if math.isnan(seconds) or math.isinf(seconds):
            raise ValueError("duration must be a normal, finite value")
        self.setattr("system.duration", seconds)

    @property
    def cwd(self):
        """The working directory, or None."""
        try:
            return self.getattr("system.cwd")
        except KeyError:
            return None

    @cwd.setter
    def cwd(self, cwd):
        if isinstance(cwd, os.PathLike):
            cwd = os.fspath(cwd)
        if not isinstance(cwd, str):
            raise ValueError("cwd must be a string")
        self.setattr("system.cwd", cwd)

    @property
    def environment(self):
        """The environment (a dict), or None."""
        try:
            return self.getattr("system.environment")
        except KeyError:
            return None

    @environment.setter
    def environment(self, environ):
        if not isinstance(environ, abc.Mapping):
            raise ValueError("environment must be a mapping")
        self.setattr("system.environment", dict(environ))

    @property
    def queue(self):
        """The queue name, or None."""
        try:
            return self.getattr("system.queue")
        except KeyError:
            return None

    @queue.setter
    def queue(self, queue):
        if not isinstance(queue, str):
            raise TypeError("queue must be a string")
        self.setattr("system.queue", queue)

    def _io_path(self, stream):
        try:
            return self.getattr(f"system.shell.options.{stream}.path")
        except KeyError:
            return None

    def _set_io_path(self, stream, path):
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError(f"{stream} path must be a string or os.PathLike")
        self.setattr_shell_option(f"{stream}.type", "file")
        self.setattr_shell_option(f"{stream}.path", path)

    @property
    def output(self):
        """The stdout file path template, or None."""
        return self._io_path("output.stdout")

    @output.setter
    def output(self, path):
        self._set_io_path("output.stdout", path)

    @property
    def error(self):
        """The stderr file path template, or None."""
        return self._io_path("output.stderr")

    @error.setter
    def error(self, path):
        self._set_io_path("output.stderr", path)

    @property
    def input(self):
        """The stdin file path, or None."""
        return self._io_path("input.stdin")

    @input.setter
    def input(self, path):
        self._set_io_path("input.stdin", path)

    # -- output ----------------------------------------------------------

    def dumps(self, **kwargs):
        """The jobspec as a JSON string (json.dumps keyword arguments)."""
        return json.dumps(self.jobspec, **kwargs)

    def __iter__(self):
        """Walk the resource tree: (type, count) of every resource."""

        def walk(resources):
            for res in resources:
                yield res["type"], res["count"]
                yield from walk(res.get("with", []))

        return walk(self.resources)

    def resource_counts(self):
        """Total count of each resource type over the whole request."""
        totals = collections.Counter()

        def walk(resources, mult):
            for res in resources:
                count = res["count"]
                count = count["min"] if isinstance(count, abc.Mapping) else count
                totals[res["type"]] += mult * count
                walk(res.get("with", []), mult * count)

        walk(self.resources, 1)
        return dict(totals)

    def __repr__(self):
        return f"{type(self).__name__}(**{self.dumps()})"

    def __str__(self):
        return self.dumps()



class JobspecV1(Jobspec):
    """Version 1 jobspec (RFC 25). ``from_command`` builds one from a
    command and the flux run/submit counts."""

    def __init__(self, resources, tasks, attributes=None, version=1):
        if version != 1:
            raise ValueError("version must be 1")
        super().__init__(resources, tasks, attributes, version)
        system = self.attributes.get("system")
        if system is None:
            raise ValueError("attributes.system is a required key")
        if not isinstance(system, abc.Mapping):
            raise ValueError("attributes.system must be a mapping")
        if "duration" not in system:
            raise ValueError("attributes.system.duration is a required key")
        if not isinstance(system["duration"], numbers.Number) or isinstance(system["duration"], bool):
            raise ValueError("attributes.system.duration must be a number")
        for task in self.tasks:
            if set(task["count"]).isdisjoint({"per_slot", "total"}):
                raise ValueError("count per_slot or total must be set")
        if len(self.tasks) != 1:
            raise ValueError("jobspec must have exactly one task")
        if len(self.resources) != 1:
            raise ValueError("jobspec must have exactly one top-level resource")

    @staticmethod
    def _resource(rtype, count, children=None, exclusive=False):
        if children is not None and (isinstance(children, str) or not isinstance(children, abc.Sequence)):
            raise TypeError("child resource must None or a sequence")
        if count < 1:
            raise ValueError("resource count must be > 0")
        res = {"type": rtype, "count": count}
        if children:
            res["with"] = list(children)
        if exclusive:
            res["exclusive"] = True
        return res

    @classmethod
    def _slot(cls, count, children):
        res = cls._resource("slot", count, children)
        res["label"] = "task"
        return res

    def _extra(self, duration=None, environment=None, env_expand=None, cwd=None, rlimits=None, name=None,
               input=None, output=None, error=None, label_io=False, unbuffered=False, queue=None, bank=None):
        # pylint: disable=redefined-builtin,too-many-arguments
        if duration is not None:
            self.duration = duration
        self.environment = dict(os.environ) if environment is None else environment
        if env_expand is not None:
            if not isinstance(env_expand, abc.Mapping):
                raise ValueError("env_expand must be a mapping")
            self.setattr_shell_option("env-expand", dict(env_expand))
        if cwd is not None:
            self.cwd = cwd
        if rlimits is not None:
            if not isinstance(rlimits, abc.Mapping):
                raise ValueError("rlimits must be a mapping")
            self.setattr_shell_option("rlimit", dict(rlimits))
        if name is not None:
            self.setattr("job.name", name)
        if input is not None:
            self.input = input
        if output is not None and output not in ("none", "kvs"):
            self.output = output
            if label_io:
                self.setattr_shell_option("output.stdout.label", True)
        if error is not None and error not in ("none", "kvs"):
            self.error = error
            if label_io:
                self.setattr_shell_option("output.stderr.label", True)
        if unbuffered:
            self.setattr_shell_option("output.stdout.buffer.type", "none")
        if queue is not None:
            self.queue = queue
        if bank is not None:
            self.setattr("bank", bank)
        return self

    @classmethod
    def from_command(cls, command, num_tasks=1, cores_per_task=1, gpus_per_task=None, num_nodes=None,
                     exclusive=False, **kwargs):
        """A jobspec running ``command`` (a list of strings) as ``num_tasks``
        tasks of ``cores_per_task`` cores (and ``gpus_per_task`` GPUs),
        spread over ``num_nodes`` nodes (``exclusive``: whole nodes).
        Keyword arguments: duration, environment (default: os.environ),
        env_expand, cwd, rlimits, name, input, output, error, label_io,
        unbuffered, queue, bank."""
        if not isinstance(num_tasks, int) or isinstance(num_tasks, bool) or num_tasks < 1:
            raise ValueError("task count must be a integer >= 1")
        if not isinstance(cores_per_task, int) or isinstance(cores_per_task, bool) or cores_per_task < 1:
            raise ValueError("cores per task must be an integer >= 1")
        if gpus_per_task is not None and (not isinstance(gpus_per_task, int) or gpus_per_task < 0):
            raise ValueError("gpus per task must be an integer >= 0")
        if num_nodes is not None:
            if not isinstance(num_nodes, int) or isinstance(num_nodes, bool) or num_nodes < 1:
                raise ValueError("node count must be an integer >= 1 (if set)")
            if num_nodes > num_tasks:
                raise ValueError("node count must not be greater than task count")
        elif exclusive:
            raise ValueError("exclusive can only be set with a node count")
        children = [cls._resource("core", cores_per_task)]
        if gpus_per_task:
            children.append(cls._resource("gpu", gpus_per_task))
        if num_nodes is None:
            count = {"per_slot": 1}
            resources = cls._slot(num_tasks, children)
        else:
            count = {"per_slot": 1} if num_tasks % num_nodes == 0 else {"total": num_tasks}
            slot = cls._slot(-(-num_tasks // num_nodes), children)
            resources = cls._resource("node", num_nodes, [slot], exclusive)
        tasks = [{"command": list(command) if _is_cmd(command) else command, "slot": "task", "count": count}]
        return cls([resources], tasks, {"system": {"duration": 0}})._extra(**kwargs)

    @classmethod
    def per_resource(cls, command, ncores=None, nnodes=None, per_resource_type=None, per_resource_count=None,
                     gpus_per_node=None, exclusive=False, **kwargs):
        """A jobspec asking for ``ncores`` cores or ``nnodes`` nodes with
        ``per_resource_count`` tasks per ``per_resource_type`` (node or
        core); keyword arguments as from_command."""
        # pylint: disable=too-many-arguments,too-many-branches
        if (per_resource_type is None) != (per_resource_count is None):
            raise ValueError("per_resource_type and per_resource_count must be given together")
        if per_resource_type is not None:
            if per_resource_type not in ("node", "core"):
                raise ValueError(f"Invalid per_resource_type='{per_resource_type}' specified")
            if not isinstance(per_resource_count, int) or per_resource_count < 1:
                raise ValueError("per_resource_count must be >= 1")
        if ncores is not None and (not isinstance(ncores, int) or ncores < 1):
            raise ValueError("ncores must be an integer >= 1")
        if nnodes is not None and (not isinstance(nnodes, int) or nnodes < 1):
            raise ValueError("nnodes must be an integer >= 1")
        if nnodes is None and exclusive:
            raise ValueError("exclusive can only be set with a node count")
        if gpus_per_node and not nnodes:
            raise ValueError("gpus_per_node must be specified with nnodes")
        if nnodes and ncores:
            if ncores % nnodes:
                raise ValueError("number of cores must be evenly divisible by node count")
            nslots, size = 1, ncores // nnodes
        elif ncores:
            nslots, size = ncores, 1
        elif nnodes:
            if not exclusive:
                raise ValueError("Specifying nnodes also requires ncores or exclusive")
            nslots, size = 1, 1
        else:
            raise ValueError("must specify node or core count with per_resource")
        children = [cls._resource("core", size)]
        if gpus_per_node:
            children.append(cls._resource("gpu", gpus_per_node))
        res = cls._slot(nslots, children)
        if nnodes:
            res = cls._resource("node", nnodes, [res], exclusive)
        attributes = {"system": {"duration": 0}}
        if per_resource_type:
            _set_tree(attributes, "system.shell.options.per-resource",
                      {"type": per_resource_type, "count": per_resource_count})
        tasks = [{"command": list(command) if _is_cmd(command) else command, "slot": "task",
                  "count": {"per_slot": 1}}]
        return cls([res], tasks, attributes)._extra(**kwargs)


def _is_cmd(command):
    return not isinstance(command, (str, bytes)) and isinstance(command, abc.Sequence)


def validate_jobspec(jobspec, require_version=None):
    """Check a jobspec (a JSON string); returns (True, None) or raises the
    error flux-core's validator would (ValueError, TypeError)."""
    data = json.loads(jobspec) if isinstance(jobspec, (str, bytes)) else jobspec
    version = data.get("version")
    if require_version == 1 or version == 1:
        JobspecV1(**data)
    else:
        Jobspec(**data)
    return True, None
