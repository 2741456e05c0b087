"""msgpack for the wire: Debian's python3-msgpack when it is installed, else
a small pure-Python codec for the subset the protocol uses (nil, bool,
int, float, str, bin, array, map and the timestamp extension), so that the
package also works under an interpreter without msgpack, only slower.

Both read timestamps (msgpack ext -1, Go's time.Time) as float seconds.
"""

import os
import struct

try:
    if os.environ.get("FLUX_PYTHON_NO_MSGPACK"):  # tests of the built-in codec
        raise ImportError("FLUX_PYTHON_NO_MSGPACK is set")
    import msgpack as _mp

    def packb(obj):
        return _mp.packb(obj, use_bin_type=True)

    def unpackb(data):
        return _mp.unpackb(data, raw=False, timestamp=1, strict_map_key=False)

    NATIVE = True
except ImportError:  # pragma: no cover - exercised by tests with FLUX_PYTHON_NO_MSGPACK
    NATIVE = False


def _header(out, n, fix, fix_max, c8, c16, c32):
    """Appends the length header of a str, bin, array or map of n items:
    the fix form (fix | n) below fix_max, else the 8-, 16- or 32-bit form.
    A type without a fix form (bin) or 8-bit form (array, map) passes None."""
    if fix is not None and n < fix_max:
        out.append(struct.pack("B", fix | n))
    elif c8 is not None and n < 1 << 8:
        out.append(c8 + struct.pack("B", n))
    elif n < 1 << 16:
        out.append(c16 + struct.pack(">H", n))
    else:
        out.append(c32 + struct.pack(">I", n))


def _pack(obj, out):
    if obj is None:
        out.append(b"\xc0")
    elif obj is True:
        out.append(b"\xc3")
    elif obj is False:
        out.append(b"\xc2")
    elif isinstance(obj, int):
        if 0 <= obj < 128:
            out.append(struct.pack("B", obj))
        elif -32 <= obj < 0:
            out.append(struct.pack("b", obj))
        elif 0 <= obj < 1 << 64:
            out.append(b"\xcf" + struct.pack(">Q", obj))
        elif -(1 << 63) <= obj < 0:
            out.append(b"\xd3" + struct.pack(">q", obj))
        else:
            raise OverflowError("integer out of msgpack range")
    elif isinstance(obj, float):
        out.append(b"\xcb" + struct.pack(">d", obj))
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        _header(out, len(b), 0xA0, 32, b"\xd9", b"\xda", b"\xdb")
        out.append(b)
    elif isinstance(obj, (bytes, bytearray)):
        _header(out, len(obj), None, 0, b"\xc4", b"\xc5", b"\xc6")
        out.append(bytes(obj))
    elif isinstance(obj, (list, tuple)):
        _header(out, len(obj), 0x90, 16, None, b"\xdc", b"\xdd")
        for v in obj:
            _pack(v, out)
    elif isinstance(obj, dict):
        _header(out, len(obj), 0x80, 16, None, b"\xde", b"\xdf")
        for k, v in obj.items():
            _pack(k, out)
            _pack(v, out)
    else:
        raise TypeError(f"cannot serialize {type(obj).__name__}")


def _timestamp(data):
    if len(data) == 4:
        return float(struct.unpack(">I", data)[0])
    if len(data) == 8:
        (v,) = struct.unpack(">Q", data)
        return (v & 0x3FFFFFFFF) + (v >> 34) / 1e9
    nsec, sec = struct.unpack(">Iq", data)
    return sec + nsec / 1e9


class _Reader:
    def __init__(self, data):
        self.b = bytes(data)
        self.i = 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("msgpack: truncated data")
        v = self.b[self.i : self.i + n]
        self.i += n
        return v

    def unpack(self, fmt):
        s = struct.Struct(fmt)
        return s.unpack(self.take(s.size))[0]

    def value(self):  # pylint: disable=too-many-return-statements,too-many-branches
        c = self.take(1)[0]
        if c < 0x80:
            return c
        if c >= 0xE0:
            return c - 0x100
        if 0x80 <= c <= 0x8F:
            return self.map(c & 0x0F)
        if 0x90 <= c <= 0x9F:
            return [self.value() for _ in range(c & 0x0F)]
        if 0xA0 <= c <= 0xBF:
            return self.take(c & 0x1F).decode("utf-8")
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if c in simple:
            return simple[c]
        ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q",
                0xCA: ">f", 0xCB: ">d"}
        if c in ints:
            return self.unpack(ints[c])
        lens = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}
        if c in (0xC4, 0xC5, 0xC6):
            return self.take(self.unpack(lens[c]))
        if c in (0xD9, 0xDA, 0xDB):
            return self.take(self.unpack(lens[c])).decode("utf-8")
        if c in (0xDC, 0xDD):
            return [self.value() for _ in range(self.unpack(">H" if c == 0xDC else ">I"))]
        if c in (0xDE, 0xDF):
            return self.map(self.unpack(">H" if c == 0xDE else ">I"))
        fixext = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
        if c in fixext or c in (0xC7, 0xC8, 0xC9):
            n = fixext.get(c) or self.unpack({0xC7: ">B", 0xC8: ">H", 0xC9: ">I"}[c])
            typ = self.unpack(">b")
            data = self.take(n)
            return _timestamp(data) if typ == -1 else data
        raise ValueError(f"msgpack: unknown type byte 0x{c:02x}")

    def map(self, n):
        d = {}
        for _ in range(n):
            k = self.value()
            d[k] = self.value()
        return d


def _py_packb(obj):
    out = []
    _pack(obj, out)
    return b"".join(out)


def _py_unpackb(data):
    r = _Reader(data)
    v = r.value()
    if r.i != len(r.b):
        raise ValueError("msgpack: extra bytes after the value")
    return v


if not NATIVE:
    packb = _py_packb
    unpackb = _py_unpackb
