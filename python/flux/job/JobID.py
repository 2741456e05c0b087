"""Job IDs: RFC 19 FLUIDs (64-bit) and their encodings.

A JobID is an int that prints as F58 (``ƒ4fr``) and accepts every encoding
flux-core's ``flux_job_id_parse()`` does except words and emoji: decimal,
``0x`` hex, dotted hex (``0000.0000.0000.3039``), ``job.`` + dotted hex
(kvs), and F58 with the ``ƒ`` or the ASCII ``f`` prefix.
"""

import locale
import os
import sys

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_MAX = (1 << 64) - 1
F58_PREFIX = "\u0192"  # ƒ


def _utf8_ok():
    """ƒ when the locale can show it (flux-core's rule), unless
    FLUX_F58_FORCE_ASCII is set."""
    if os.environ.get("FLUX_F58_FORCE_ASCII"):
        return False
    if sys.flags.utf8_mode:
        return True
    enc = (locale.getpreferredencoding(False) or "").lower().replace("-", "")
    return enc == "utf8"


def _f58(value, prefix):
    if value == 0:
        return prefix + _B58[0]
    digits = []
    while value:
        value, rem = divmod(value, 58)
        digits.append(_B58[rem])
    return prefix + "".join(reversed(digits))


def _check(value):
    if value < 0 or value > _MAX:
        raise OverflowError(f"{value} does not fit a 64-bit job ID")
    return value


def id_parse(jobid_str):
    """Parse any supported encoding into an int; ValueError if it is none."""
    if isinstance(jobid_str, bytes):
        jobid_str = jobid_str.decode("utf-8", "replace")
    if not isinstance(jobid_str, str):
        raise TypeError("job ID must be a string or an int")
    s = jobid_str.strip()
    try:
        if s.startswith("job."):
            s = s[4:]
            if s.count(".") != 3:
                raise ValueError
        if s.count(".") == 3:
            parts = s.split(".")
            if any(len(p) != 4 for p in parts):
                raise ValueError
            return _check(int("".join(parts), 16))
        if s.startswith(F58_PREFIX) or (s.startswith("f") and len(s) > 1):
            body = s[1:]
            if not body or any(c not in _B58_INDEX for c in body):
                raise ValueError
            value = 0
            for c in body:
                value = value * 58 + _B58_INDEX[c]
            return _check(value)
        if s.lower().startswith("0x"):
            return _check(int(s[2:], 16))
        if s.isascii() and s.isdigit():
            return _check(int(s, 10))
    except (ValueError, OverflowError):
        pass
    raise ValueError(f"{jobid_str} is not a valid Flux jobid")


def id_encode(jobid, encoding="f58"):
    """Encode an int job ID: dec, hex, dothex, kvs, f58, f58plain."""
    value = _check(int(jobid))
    if encoding == "dec":
        return str(value)
    if encoding == "hex":
        return hex(value)
    if encoding in ("dothex", "kvs"):
        h = f"{value:016x}"
        text = ".".join(h[i : i + 4] for i in range(0, 16, 4))
        return "job." + text if encoding == "kvs" else text
    if encoding == "f58":
        return _f58(value, F58_PREFIX if _utf8_ok() else "f")
    if encoding == "f58plain":
        return _f58(value, "f")
    raise ValueError(f"job ID encoding {encoding!r} is not supported; use dec, hex, dothex, kvs, f58 or f58plain")


class JobID(int):
    """A job ID: an int (usable wherever one is) built from an int or any
    supported encoding, with ``.dec``, ``.hex``, ``.dothex``, ``.kvs``,
    ``.f58`` and ``.f58plain``; ``str()`` gives F58."""

    def __new__(cls, value):
        if isinstance(value, JobID):
            orig = value.orig_str
            jobid = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            jobid = _check(value)
            orig = str(value)
        else:
            jobid = id_parse(value)
            orig = str(value)
        self = super().__new__(cls, jobid)
        self.orig_str = orig
        return self

    def encode(self, encoding="dec"):
        """This ID in another encoding."""
        return id_encode(self, encoding)

    @property
    def dec(self):
        """Decimal."""
        return self.encode("dec")

    @property
    def f58(self):
        """RFC 19 F58 (``ƒ`` prefix, or ``f`` where ƒ cannot be shown)."""
        return self.encode("f58")

    @property
    def f58plain(self):
        """F58 with the ASCII ``f`` prefix."""
        return self.encode("f58plain")

    @property
    def hex(self):
        """``0x`` hexadecimal."""
        return self.encode("hex")

    @property
    def dothex(self):
        """Dotted hexadecimal, four groups of four digits."""
        return self.encode("dothex")

    @property
    def kvs(self):
        """The job's KVS directory name (``job.`` + dotted hex)."""
        return self.encode("kvs")

    @property
    def orig(self):
        """The value this JobID was made from, as a string."""
        return self.orig_str

    def __str__(self):
        return self.encode("f58")

    def __repr__(self):
        return f"JobID({self.dec})"

    def __reduce__(self):
        return (JobID, (int(self),))
