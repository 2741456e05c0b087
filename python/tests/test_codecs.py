"""Seeded random checks of the two parsers the package has: job ID text and
the built-in msgpack codec (against python3-msgpack, the reference)."""

import os
import random

import pytest

try:
    import msgpack
except ImportError:  # the built-in codec still runs everything else
    if os.environ.get("FLUX_TEST_STRICT"):
        raise
    msgpack = None

from flux import _msgpack
from flux.job import JobID
from flux.job.JobID import id_encode


def test_jobid_round_trips():
    rng = random.Random(19)
    for _ in range(5000):
        v = rng.choice([rng.getrandbits(rng.randint(1, 64)), rng.randint(0, 2**20)])
        for enc in ("dec", "hex", "dothex", "kvs", "f58", "f58plain"):
            assert JobID(id_encode(v, enc)) == v, (v, enc)


def test_jobid_garbage_is_valueerror():
    rng = random.Random(58)
    alphabet = "0123456789abcdefxABCDEFƒf.job-_ "
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        try:
            v = JobID(text)
        except ValueError:
            continue
        assert 0 <= v < 2**64


def _random_value(rng, depth=0):
    kinds = ["nil", "bool", "int", "float", "str", "bin"] + (["list", "map"] if depth < 4 else [])
    k = rng.choice(kinds)
    if k == "nil":
        return None
    if k == "bool":
        return rng.random() < 0.5
    if k == "int":
        return rng.choice([rng.randint(-40, 200), rng.randint(-(2**63), 2**64 - 1), rng.randint(-70000, 70000)])
    if k == "float":
        return rng.uniform(-1e9, 1e9)
    if k == "str":
        return "".join(rng.choice("aƒ\u00e9z09 ") for _ in range(rng.choice([0, 5, 40, 300, 70000 if depth == 0 else 33])))
    if k == "bin":
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 3, 300])))
    if k == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.choice([0, 2, 17]))]
    return {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.choice([0, 3, 20]))}


@pytest.mark.skipif(msgpack is None, reason="!!! python3-msgpack is not installed: no reference to compare with")
def test_builtin_codec_matches_msgpack():
    rng = random.Random(7)
    for _ in range(300):
        v = _random_value(rng)
        mine = _msgpack._py_packb(v)
        assert msgpack.unpackb(mine, raw=False, strict_map_key=False) == v
        assert _msgpack._py_unpackb(msgpack.packb(v, use_bin_type=True)) == v
        assert _msgpack._py_unpackb(mine) == v


def test_builtin_codec_rejects_truncated_and_trailing_bytes():
    data = _msgpack._py_packb({"a": [1, 2, "three"]})
    with pytest.raises(ValueError):
        _msgpack._py_unpackb(data[:-1])
    with pytest.raises(ValueError):
        _msgpack._py_unpackb(data + b"\x00")
    with pytest.raises(TypeError):
        _msgpack._py_packb(object())
