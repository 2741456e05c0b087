"""JobspecV1: factories, properties and the exceptions flux-core raises."""

import datetime
import json

import pytest

from flux.job import Jobspec, JobspecV1
from flux.job import _wire_jobspec


def test_from_command_shape():
    js = JobspecV1.from_command(["hostname"], num_tasks=4, cores_per_task=2, gpus_per_task=1)
    d = json.loads(js.dumps())
    assert d["version"] == 1
    assert d["resources"] == [{"type": "slot", "count": 4, "label": "task",
                               "with": [{"type": "core", "count": 2}, {"type": "gpu", "count": 1}]}]
    assert d["tasks"] == [{"command": ["hostname"], "slot": "task", "count": {"per_slot": 1}}]
    assert d["attributes"]["system"]["duration"] == 0
    assert "PATH" in d["attributes"]["system"]["environment"]


def test_from_command_nodes():
    js = JobspecV1.from_command(["x"], num_tasks=3, num_nodes=2, exclusive=True)
    node = js.resources[0]
    assert node["type"] == "node" and node["count"] == 2 and node["exclusive"] is True
    assert node["with"][0]["count"] == 2  # ceil(3/2) slots per node
    assert js.tasks[0]["count"] == {"total": 3}


def test_properties():
    js = JobspecV1.from_command(["x"], environment={"A": "1"}, cwd="/tmp", duration="2m", name="nm")
    assert js.environment == {"A": "1"} and js.cwd == "/tmp" and js.duration == 120.0
    js.duration = datetime.timedelta(seconds=5)
    assert js.duration == 5.0
    js.duration = 1.5
    js.setattr_shell_option("output.stdout.label", True)
    assert js.getattr("system.shell.options.output.stdout.label") is True
    assert js.getattr("job.name") == "nm"
    js.setattr("user.tag", {"k": [1]})
    assert js.attributes["user"]["tag"] == {"k": [1]}
    js.output = "out.{{id}}"
    assert js.output == "out.{{id}}"
    with pytest.raises(KeyError):
        js.getattr("system.nope")


def test_round_trip_through_json():
    js = JobspecV1.from_command(["a", "b"], num_tasks=2)
    again = JobspecV1(**json.loads(js.dumps()))
    assert again.jobspec == js.jobspec
    assert Jobspec.from_json(js.dumps()).tasks == js.tasks


@pytest.mark.parametrize("kwargs,exc", [
    ({"num_tasks": 0}, ValueError),
    ({"num_tasks": "2"}, ValueError),
    ({"cores_per_task": 0}, ValueError),
    ({"gpus_per_task": -1}, ValueError),
    ({"num_nodes": 0}, ValueError),
    ({"num_nodes": 3, "num_tasks": 2}, ValueError),
    ({"exclusive": True}, ValueError),
])
def test_from_command_bad_values(kwargs, exc):
    with pytest.raises(exc):
        JobspecV1.from_command(["x"], **kwargs)


def test_bad_command_types():
    with pytest.raises(TypeError, match="list of strings"):
        JobspecV1.from_command("hostname")
    with pytest.raises(TypeError, match="length of zero"):
        JobspecV1.from_command([])
    with pytest.raises(TypeError):
        JobspecV1.from_command(["x", 5])


def test_bad_setters():
    js = JobspecV1.from_command(["x"])
    with pytest.raises(ValueError, match="negative"):
        js.duration = -1
    with pytest.raises(TypeError):
        js.duration = [1]
    with pytest.raises(ValueError):
        js.duration = "soon"
    with pytest.raises(ValueError):
        js.duration = float("inf")
    with pytest.raises(ValueError, match="cwd must be a string"):
        js.cwd = 5
    with pytest.raises(ValueError, match="environment must be a mapping"):
        js.environment = 5
    with pytest.raises(TypeError):
        js.setattr("x", object())


def test_bad_constructor_args():
    with pytest.raises(TypeError):
        JobspecV1("notalist", [])
    with pytest.raises(ValueError, match="version must be 1"):
        JobspecV1([], [], {"system": {"duration": 0}}, version=2)
    with pytest.raises(ValueError, match="duration is a required key"):
        JobspecV1([{"type": "slot", "count": 1, "label": "task", "with": [{"type": "core", "count": 1}]}],
                  [{"command": ["x"], "slot": "task", "count": {"per_slot": 1}}], {"system": {}})
    with pytest.raises(ValueError, match="slots must have labels"):
        JobspecV1([{"type": "slot", "count": 1}], [{"command": ["x"], "slot": "task", "count": {"per_slot": 1}}],
                  {"system": {"duration": 0}})


def test_translation_to_submit_request():
    js = JobspecV1.from_command(["sim", "-x"], num_tasks=4, cores_per_task=2, num_nodes=2, duration=90,
                                environment={"K": "V"}, cwd="/w", name="sim", output="o.{{id}}", label_io=True)
    job, env = _wire_jobspec.translate(js.jobspec)
    assert job["req"] == {"N": 2, "n": 4, "c": 2, "g": 0}
    assert job["argv"] == ["sim", "-x"] and job["cwd"] == "/w" and job["name"] == "sim"
    assert job["t"] == 90 * 10**9 and job["output"] == "o.{{id}}" and job["label"] is True
    assert env == {"K": "V"}
    # per_slot > 1: tasks share the slot's cores evenly
    spec = js.jobspec
    spec["resources"] = [{"type": "slot", "count": 2, "label": "task", "with": [{"type": "core", "count": 4}]}]
    spec["tasks"][0]["count"] = {"per_slot": 2}
    job, _ = _wire_jobspec.translate(spec)
    assert job["req"] == {"N": 0, "n": 4, "c": 2, "g": 0}


def test_translation_refuses_what_cannot_run():
    js = JobspecV1.from_command(["x"])
    spec = js.jobspec
    spec["resources"] = [{"type": "core", "count": 1}]
    with pytest.raises(OSError, match="node or a slot"):
        _wire_jobspec.translate(spec)
    with pytest.raises(OSError, match="invalid JSON"):
        _wire_jobspec.load("{nope")
    with pytest.raises(TypeError):
        _wire_jobspec.load(3.5)
