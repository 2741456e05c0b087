"""The wire protocol of overlay/PROTOCOL.md, spoken from Python.

A frame is a 4-byte big-endian length and one msgpack map, the envelope:
``type`` (1 request, 2 response, 4 event), ``topic``, ``src``, ``dst``,
``tag`` (a response carries its request's tag), ``flags`` (1 streaming,
2 noresponse, 4 more), ``errnum``/``errstr`` and ``payload``.

A :class:`Connection` owns one unix socket. One reader thread receives
every frame and hands each response to the callback registered under its
tag (net/rpc's shape); a lost connection fails every pending call at once,
so nothing waits forever on an instance that went away.
"""

import errno
import os
import socket
import struct
import threading
import traceback

from flux import _msgpack

REQUEST = 1
RESPONSE = 2
EVENT = 4

FLAG_STREAMING = 1
FLAG_NORESPONSE = 2
FLAG_MORE = 4

ANY_RANK = -1
MAX_FRAME = 16 << 20
_LEN = struct.Struct(">I")


def parse_uri(uri):
    """Return the socket path of a ``local://`` URI (or a bare path)."""
    if not isinstance(uri, str):
        raise TypeError("uri must be a string, not " + type(uri).__name__)
    if uri.startswith("local://"):
        path = uri[len("local://"):]
    elif "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise OSError(
            errno.EINVAL,
            f"Unable to connect to Flux: {scheme}:// URIs are not supported; "
            "use the local:// URI of the instance (FLUX_URI inside it)",
        )
    else:
        path = uri
    if not path.startswith("/"):
        raise OSError(errno.EINVAL, f"Unable to connect to Flux: {uri}: the socket path must be absolute")
    return path


class Connection:
    """One connection to an instance: send requests, route responses by tag.

    ``on_event(msg)`` receives event messages and ``on_lost(exc)`` is told
    once when the connection ends; both run on the reader thread and must
    not block.
    """

    def __init__(self, uri, on_event=None, on_lost=None):
        path = parse_uri(uri)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except FileNotFoundError:
            sock.close()
            raise FileNotFoundError(
                errno.ENOENT,
                f"Unable to connect to Flux: broker socket {path} was not found "
                "(is FLUX_URI stale? start an instance with `flux start`)",
            ) from None
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"Unable to connect to Flux at {uri}: {exc.strerror}") from None
        self.uri = uri
        self._sock = sock
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()  # guards _pending, _next_tag, _error
        self._pending = {}  # tag -> (callback, streaming)
        self._next_tag = 0
        self._error = None
        self._on_event = on_event
        self._on_lost = on_lost
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, name="flux-reader", daemon=True)
        self._reader.start()

    # -- sending -------------------------------------------------------

    def request(self, topic, payload=None, callback=None, streaming=False, nodeid=ANY_RANK):
        """Send a request; ``callback(msg, exc)`` runs on the reader thread
        for each response (several for a streaming request), or once with
        ``msg=None`` and the exception when the connection is lost. Without
        a callback no response is expected. Returns the tag."""
        env = {"type": REQUEST, "topic": topic, "src": ANY_RANK, "dst": nodeid}
        if payload is not None:
            env["payload"] = payload
        with self._lock:
            if self._error is not None:
                raise self._error_copy()
            if callback is None:
                tag = 0
                env["flags"] = FLAG_NORESPONSE
            else:
                tag = self._free_tag()
                self._pending[tag] = (callback, streaming)
                if streaming:
                    env["flags"] = FLAG_STREAMING
        env["tag"] = tag
        try:
            self._send(env)
        except OSError as exc:
            with self._lock:
                mine = self._pending.pop(tag, None) is not None
            if mine:
                raise OSError(exc.errno or errno.ECONNRESET, f"lost the connection to the instance: {exc}") from None
        return tag

    def _free_tag(self):
        while True:
            self._next_tag = (self._next_tag + 1) & 0xFFFFFFFF
            if self._next_tag != 0 and self._next_tag not in self._pending:
                return self._next_tag

    def forget(self, tag):
        """Stop routing responses of a call to its callback (the tag stays
        reserved until its final response, as PROTOCOL.md asks)."""
        with self._lock:
            if tag in self._pending:
                self._pending[tag] = (_drop, self._pending[tag][1])

    def _send(self, env):
        body = _msgpack.packb(env)
        if len(body) > MAX_FRAME:
            raise OSError(errno.EMSGSIZE, f"message of {len(body)} bytes is larger than the 16 MiB frame limit")
        data = _LEN.pack(len(body)) + body
        with self._send_lock:
            self._sock.sendall(data)

    # -- receiving -----------------------------------------------------

    def _read_loop(self):
        exc = None
        try:
            sock = self._sock
            buf = b""
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionResetError(errno.ECONNRESET, "the instance closed the connection")
                buf = buf + chunk if buf else chunk
                off = 0
                while len(buf) - off >= 4:
                    (n,) = _LEN.unpack_from(buf, off)
                    if n > MAX_FRAME:
                        raise OSError(errno.EPROTO, f"frame of {n} bytes exceeds the 16 MiB limit")
                    if len(buf) - off < 4 + n:
                        break
                    msg = _msgpack.unpackb(buf[off + 4 : off + 4 + n])
                    off += 4 + n
                    self._dispatch(msg)
                buf = buf[off:]
        except BaseException as e:  # pylint: disable=broad-except
            exc = e
        self._fail_all(exc)

    def _dispatch(self, msg):
        mtype = msg.get("type")
        if mtype == RESPONSE:
            tag = msg.get("tag", 0)
            flags = msg.get("flags", 0) or 0
            with self._lock:
                entry = self._pending.get(tag)
                if entry is None:
                    return
                final = not entry[1] or not flags & FLAG_MORE or msg.get("errnum", 0)
                if final:
                    del self._pending[tag]
            try:
                entry[0](msg, None)
            except Exception:  # pylint: disable=broad-except
                # a callback's bug must not take the connection down
                traceback.print_exc()
        elif mtype == EVENT:
            if self._on_event is not None:
                try:
                    self._on_event(msg)
                except Exception:  # pylint: disable=broad-except
                    traceback.print_exc()
        elif mtype == REQUEST:
            tag = msg.get("tag", 0)
            if tag and not (msg.get("flags", 0) or 0) & FLAG_NORESPONSE:
                resp = {"type": RESPONSE, "topic": msg.get("topic", ""), "src": ANY_RANK,
                        "dst": msg.get("src", ANY_RANK), "tag": tag, "errnum": errno.ENOSYS,
                        "errstr": "a Python client serves no requests"}
                try:
                    self._send(resp)
                except OSError:
                    pass

    def _fail_all(self, exc):
        if self._closed:
            err = OSError(errno.ECONNRESET, "the connection to the instance was closed")
        elif isinstance(exc, OSError) and exc.errno:
            err = OSError(exc.errno, f"lost the connection to the instance: {exc.strerror or exc}")
        else:
            err = OSError(errno.ECONNRESET, f"lost the connection to the instance: {exc}")
        with self._lock:
            self._error = err
            pending = self._pending
            self._pending = {}
        for callback, _ in pending.values():
            try:
                callback(None, err)
            except Exception:  # pylint: disable=broad-except
                pass
        if self._on_lost is not None:
            try:
                self._on_lost(err)
            except Exception:  # pylint: disable=broad-except
                pass

    def _error_copy(self):
        return OSError(self._error.errno, self._error.strerror)

    @property
    def error(self):
        """The exception that ended the connection, or None while it is up."""
        return self._error

    def close(self):
        """Close the socket; pending calls fail with ECONNRESET."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if threading.current_thread() is not self._reader:
            self._reader.join(5)
        self._sock.close()


def _drop(_msg, _exc):
    pass


def response_error(msg):
    """The OSError an error response stands for (the subclass its errno
    selects, e.g. FileNotFoundError for ENOENT), or None."""
    num = msg.get("errnum", 0)
    if not num:
        return None
    text = msg.get("errstr") or os.strerror(num)
    return OSError(num, text)
