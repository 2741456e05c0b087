"""flux.job.JobID: RFC 19 encodings, FLUID-sized values, bad input."""

import pytest

from flux.job import JobID, id_encode, id_parse

CASES = [
    (0, "ƒ1", "0x0", "0000.0000.0000.0000"),
    (12345, "ƒ4fr", "0x3039", "0000.0000.0000.3039"),
    (9344909312, "ƒFEn6y5", "0x22d000000", "0000.0002.2d00.0000"),
    (2**64 - 1, "ƒjpXCZedGfVQ", "0xffffffffffffffff", "ffff.ffff.ffff.ffff"),
]


@pytest.mark.parametrize("value,f58,hexa,dothex", CASES)
def test_encodings(value, f58, hexa, dothex, monkeypatch):
    monkeypatch.delenv("FLUX_F58_FORCE_ASCII", raising=False)
    jid = JobID(value)
    assert isinstance(jid, int) and jid == value
    assert (jid.f58, jid.hex, jid.dothex, jid.dec) == (f58, hexa, dothex, str(value))
    assert jid.f58plain == "f" + f58[1:]
    assert jid.kvs == "job." + dothex
    assert str(jid) == f58 and repr(jid) == f"JobID({value})"
    for text in (f58, "f" + f58[1:], hexa, dothex, "job." + dothex, str(value)):
        assert JobID(text) == value, text
        assert id_parse(text) == value
        assert JobID(text).orig == text
    assert id_encode(value, "dothex") == dothex


def test_ascii_fallback(monkeypatch):
    monkeypatch.setenv("FLUX_F58_FORCE_ASCII", "1")
    assert JobID(12345).f58 == "f4fr"
    assert str(JobID(12345)) == "f4fr"


def test_jobid_of_jobid_and_hash():
    a = JobID("ƒ4fr")
    b = JobID(a)
    assert b == 12345 and b.orig == "ƒ4fr"
    assert {a: 1}[12345] == 1


@pytest.mark.parametrize("bad", ["zzz", "", "ƒ", "ƒ0", "0xg", "1.2.3", "0000.0000.3039", "-1", "12 34", "²"])
def test_bad_text_is_valueerror(bad):
    with pytest.raises(ValueError) as exc:
        JobID(bad)
    assert "is not a valid Flux jobid" in str(exc.value)


def test_out_of_range():
    with pytest.raises(OverflowError):
        JobID(-1)
    with pytest.raises(OverflowError):
        JobID(2**64)
    with pytest.raises(ValueError):
        JobID("ƒjpXCZedGfVR")  # 2**64
    with pytest.raises(ValueError):
        id_encode(5, "emoji-nope")
