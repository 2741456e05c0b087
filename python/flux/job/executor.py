"""flux.job.FluxExecutor: a concurrent.futures-style executor whose
futures are jobs.

Each executor thread owns one connection and one job.results stream opened
with "report starts". It submits whatever the user queued since its last
pass as one batch (the environment is sent once per run of jobs that share
it), and the instance pushes starts and results back on the stream, so a
future costs no request of its own after submission. Responses arrive on
the connection's reader thread, which only queues them for the executor
thread: futures are completed, and callbacks run, on the executor thread
(as in flux-core), never on the reader.

Bounds: submit() never blocks (as flux-core's does not); queued jobspecs
wait in the executor's deque until its thread takes them, at most BATCH per
request; the instance refuses jobs beyond its scheduler queue (1,048,576)
with EAGAIN, which fails those futures with OSError(EAGAIN). The inbox holds
one wake-up at a time plus the instance's responses.

Differences from flux-core, by design of this instance: jobs submitted
through an executor are tied to its connection (as a capacitor's lines
are): if the Python process dies, its unfinished jobs are canceled. A lost
connection fails every pending future with OSError instead of hanging.
"""

import collections
import concurrent.futures
import errno
import itertools
import logging
import queue
import threading
import time
import weakref

from flux import constants
from flux.core.handle import Flux
from flux.eventlog import EventLogEvent
from flux.job import _outcome, _wire_jobspec
from flux.future import _NOTHING
from flux.job.event import MAIN_EVENTS, JobEventWatchFuture, JobException
from flux.job.JobID import JobID
from flux.job.submit import refusal, request_for

_LOG = logging.getLogger(__name__)

#: Jobs per submit request: bounds one message (the frame limit is 16 MiB)
#: and the time a batch holds the instance's loop.
BATCH = 1024


class FluxExecutorFuture(concurrent.futures.Future):
    """A future for one job: ``result()`` is its highest task exit status
    (or ``-signum``); a fatal job exception (cancel, timeout, launch
    failure, unsatisfiable request) sets a JobException; an invalid jobspec
    an OSError or ValueError. ``jobid()`` blocks for the job's ID."""

    EVENTS = MAIN_EVENTS

    def __init__(self, owning_thread_id, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The future's own condition (an RLock) guards the fields below, but
        # is never notified by them: concurrent.futures' result() takes any
        # wake-up as the end of its wait. The job ID has its own Event.
        self._owning_thread_id = owning_thread_id
        self._jobid = None
        self._jobid_exc = None
        self._jobid_set = False
        self._jobid_event = threading.Event()
        self._jobid_callbacks = []
        self._events_occurred = None  # name -> [(ts, ctx)], made on first event
        self._event_callbacks = None  # name -> [callback]

    # -- job ID ----------------------------------------------------------

    def _set_jobid(self, jobid, exc=None):
        with self._condition:
            if self._jobid_set:
                raise RuntimeError("invalid state: jobid already set")
            self._jobid, self._jobid_exc, self._jobid_set = jobid, exc, True
            callbacks = list(self._jobid_callbacks) if exc is None else ()
        self._jobid_event.set()
        for cb in callbacks:
            self._invoke(cb)

    def jobid(self, timeout=None):
        """The job's ID (a JobID), once submitted; TimeoutError after
        ``timeout`` seconds; the submission's exception if it failed."""
        if not self._jobid_event.wait(timeout):
            raise concurrent.futures.TimeoutError()
        if self._jobid_exc is not None:
            raise self._jobid_exc
        return self._jobid

    def add_jobid_callback(self, callback):
        """Call ``callback(future)`` once the job ID is known (at once if it
        is). Returns self."""
        with self._condition:
            self._jobid_callbacks.append(callback)
            known = self._jobid_set and self._jobid_exc is None
        if known:
            self._invoke(callback)
        return self

    def _invoke(self, callback, *args):
        try:
            callback(self, *args)
        except Exception:  # pylint: disable=broad-except
            _LOG.exception("exception calling callback for %r", self)

    # -- waiting ----------------------------------------------------------

    def _check_thread(self):
        if not self.done() and threading.get_ident() == self._owning_thread_id:
            raise RuntimeError("Cannot wait for future from inside callback")

    def result(self, timeout=None):
        self._check_thread()
        return super().result(timeout)

    def exception(self, timeout=None):
        self._check_thread()
        return super().exception(timeout)

    def set_exception(self, exception):
        if not self._jobid_set:
            self._set_jobid(None, exception)
        return super().set_exception(exception)

    def cancel(self, *args, **kwargs):  # pylint: disable=arguments-differ
        """Cancel the future if the executor has not taken it yet."""
        if self.cancelled():
            return True
        cancelled = super().cancel(*args, **kwargs)
        if cancelled and not self._jobid_set:
            self._set_jobid(None, concurrent.futures.CancelledError())
        return cancelled

    # -- events ----------------------------------------------------------

    def add_event_callback(self, event, callback):
        """Call ``callback(future, EventLogEvent)`` for each occurrence of
        ``event`` (one of EVENTS), also for ones that already occurred."""
        if event not in self.EVENTS:
            raise ValueError(event)
        with self._condition:
            if self._event_callbacks is None:
                self._event_callbacks = collections.defaultdict(list)
            self._event_callbacks[event].append(callback)
            past = list((self._events_occurred or {}).get(event, ()))
        for ts, ctx in past:
            self._invoke(callback, EventLogEvent({"timestamp": ts, "name": event, "context": dict(ctx)}))
        return self

    def _set_event(self, log_entry):
        """Record an event (an EventLogEvent) and run its callbacks."""
        self._record(log_entry.name, log_entry.timestamp, log_entry.context)

    def _record(self, name, ts, ctx):
        if name not in self.EVENTS:
            raise ValueError(name)
        with self._condition:
            if self._events_occurred is None:
                self._events_occurred = collections.defaultdict(list)
            self._events_occurred[name].append((ts, ctx))
            callbacks = list(self._event_callbacks[name]) if self._event_callbacks else ()
        for cb in callbacks:
            self._invoke(cb, EventLogEvent({"timestamp": ts, "name": name, "context": dict(ctx)}))


class _Submit:  # pylint: disable=too-few-public-methods
    def __init__(self, args, kwargs, future):
        self.args, self.kwargs, self.future = args, kwargs, future


class _Attach:  # pylint: disable=too-few-public-methods
    def __init__(self, jobid, future):
        self.jobid, self.future = jobid, future


class _Job:  # pylint: disable=too-few-public-methods
    __slots__ = ("future", "urgency", "flags", "t_submit", "started")

    def __init__(self, future, urgency, flags):
        self.future, self.urgency, self.flags = future, urgency, flags
        self.t_submit = 0.0
        self.started = False


class _ExecutorThread(threading.Thread):
    """One connection; takes packages from its deque, submits them in
    batches and completes their futures from the results stream."""

    def __init__(self, broken, shutdown, deque, poll_interval, handle_args, handle_kwargs, **kwargs):
        super().__init__(**kwargs)
        self._broken, self._shutdown = broken, shutdown
        self._deque = deque
        self._poll = poll_interval
        self._handle_args, self._handle_kwargs = handle_args, handle_kwargs
        self.inbox = queue.SimpleQueue()  # (kind, ...) from the reader thread and from submit()
        self._jobs = {}  # cookie -> _Job, submitted and not yet ended
        self._attached = set()  # futures of attach()
        self._cookies = itertools.count(1)
        self._watcher = 0
        self._env_sent = None  # the environment last sent on the stream (SameEnv)
        self._h = None
        self._woken = False

    def wake(self):
        """Called by FluxExecutor.submit: there is new work. One wake-up is
        queued at a time (a lost race costs at most one poll interval)."""
        if not self._woken:
            self._woken = True
            self.inbox.put(("wake",))

    def run(self):
        try:
            self._h = Flux(*self._handle_args, **self._handle_kwargs)
            self._open_stream()
            self._loop()
        except BaseException as exc:  # pylint: disable=broad-except
            self._broken.set()
            self._fail_everything(exc)
        finally:
            if self._h is not None:
                self._h.close()

    def _open_stream(self):
        first = threading.Event()
        box = {}

        def on_response(msg, exc):
            if exc is None and msg.get("errnum"):
                from flux._wire import response_error  # pylint: disable=import-outside-toplevel

                exc = response_error(msg)
            if not first.is_set():
                box["msg"], box["exc"] = msg, exc
                first.set()
                return
            self.inbox.put(("lost", exc) if exc is not None else ("batch", msg.get("payload") or {}))
            if exc is None and not (msg.get("flags", 0) or 0) & 4:
                self.inbox.put(("lost", OSError(errno.ECONNRESET, "the instance ended the results stream")))

        self._h._conn.request("job.results", {"started": True}, on_response, streaming=True)
        first.wait()
        if box["exc"] is not None:
            raise box["exc"]
        self._watcher = (box["msg"].get("payload") or {}).get("watcher", 0)
        if not self._watcher:
            raise OSError(errno.EPROTO, "the instance did not name the results stream")

    def _loop(self):
        while True:
            try:
                item = self.inbox.get(timeout=self._poll)
            except queue.Empty:
                item = None
            self._woken = False
            while item is not None:
                self._handle(item)
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    item = None
            self._take_work()
            if self._shutdown.is_set() and not self._deque and not self._jobs and not self._attached:
                return

    def _handle(self, item):
        kind = item[0]
        if kind == "batch":
            self._on_batch(item[1])
        elif kind == "submitted":
            self._on_submitted(item[1], item[2], item[3])
        elif kind == "attach-event":
            self._on_attach_event(item[1], item[2])
        elif kind == "lost":
            raise item[1] if isinstance(item[1], BaseException) else OSError(errno.ECONNRESET, str(item[1]))

    # -- submission -------------------------------------------------------

    def _take_work(self):
        batch = []  # (cookie, job map, env)
        while self._deque and len(batch) < BATCH:
            try:
                package = self._deque.popleft()
            except IndexError:
                break
            fut = package.future
            if not fut.set_running_or_notify_cancel():
                continue
            if isinstance(package, _Attach):
                self._start_attach(package)
                continue
            try:
                job, env, urgency, flags = self._translate(package)
            except Exception as exc:  # pylint: disable=broad-except
                fut.set_exception(exc)
                continue
            cookie = next(self._cookies)
            job["cookie"] = cookie
            self._jobs[cookie] = _Job(fut, urgency, flags)
            batch.append((cookie, job, env))
            if len(batch) >= BATCH:
                self._send(batch)
                batch = []
        if batch:
            self._send(batch)

    @staticmethod
    def _translate(package):
        args, kwargs = package.args, dict(package.kwargs)
        names = ("jobspec", "urgency", "waitable", "debug", "pre_signed")
        for name, value in zip(names, args):
            kwargs[name] = value
        if "jobspec" not in kwargs:
            raise TypeError("submit() missing required argument: 'jobspec'")
        urgency = kwargs.get("urgency", constants.FLUX_JOB_URGENCY_DEFAULT)
        job, env = request_for(kwargs["jobspec"], urgency)
        flags = constants.FLUX_JOB_WAITABLE if kwargs.get("waitable") else 0
        if flags:
            job["flags"] = "waitable"
        return job, env, urgency, flags

    def _send(self, batch):
        """One submit request per run of jobs with the same environment."""
        start = 0
        while start < len(batch):
            env = batch[start][2]
            end = start + 1
            while end < len(batch) and batch[end][2] == env:
                end += 1
            run = batch[start:end]
            req = {"jobs": [job for _, job, _ in run], "watcher": self._watcher}
            if env is not None and env == self._env_sent:
                req["same_env"] = True
                req["env"] = []
            else:
                req["env"] = _wire_jobspec.env_list(env) if env is not None else []
                self._env_sent = env
            cookies = [c for c, _, _ in run]
            now = time.time()
            for c in cookies:
                self._jobs[c].t_submit = now
            inbox = self.inbox
            self._h._conn.request(
                "job.submit", req, lambda msg, exc, cookies=cookies: inbox.put(("submitted", cookies, msg, exc))
            )
            start = end

    def _on_submitted(self, cookies, msg, exc):
        if exc is None and msg.get("errnum"):
            from flux._wire import response_error  # pylint: disable=import-outside-toplevel

            exc = response_error(msg)
        if exc is not None:
            self._env_sent = None  # the instance may not have the environment: send it again
            for c in cookies:
                job = self._jobs.pop(c, None)
                if job is not None:
                    job.future.set_exception(OSError(exc.errno, exc.strerror))
            return
        payload = msg.get("payload") or {}
        ids, errs = payload.get("ids") or [], payload.get("errs") or []
        for i, c in enumerate(cookies):
            job = self._jobs.get(c)
            if job is None:
                continue
            jid = ids[i] if i < len(ids) else 0
            if not jid:
                del self._jobs[c]
                why = errs[i] if i < len(errs) else "the instance refused the job"
                if "the instance has" in why:
                    ev = _outcome.event(time.time(), "exception", type="alloc", severity=0,
                                        note="unsatisfiable request: " + why)
                    job.future.set_exception(JobException(ev))
                else:
                    job.future.set_exception(refusal(why))
                continue
            self._known(job, jid)

    def _known(self, job, jid):
        fut = job.future
        if fut._jobid_set:
            return
        fut._set_jobid(JobID(jid))
        for ev in _outcome.submit_events(job.t_submit, job.urgency, job.flags):
            fut._record(ev.name, ev.timestamp, ev.context)

    # -- results ----------------------------------------------------------

    def _on_batch(self, payload):
        now = time.time()
        for cookie in payload.get("started") or ():
            job = self._jobs.get(cookie)
            if job is not None and not job.started:
                job.started = True
                for ev in _outcome.start_events(now):
                    job.future._record(ev.name, ev.timestamp, ev.context)
        for r in payload.get("results") or ():
            job = self._jobs.pop(r.get("cookie", 0), None)
            if job is None:
                continue
            self._known(job, r.get("id", 0))
            self._finish(job.future, _outcome.Outcome(r), job.started)

    @staticmethod
    def _finish(fut, out, started):
        if out.ran and not started:
            for ev in _outcome.start_events(out.start):
                fut._record(ev.name, ev.timestamp, ev.context)
            started = True
        exc_event = None
        for ev in out.end_events(started):
            fut._record(ev.name, ev.timestamp, ev.context)
            if ev.name == "exception" and exc_event is None:
                exc_event = ev
        if fut.done():
            return
        if exc_event is not None:
            fut.set_exception(JobException(exc_event))
        else:
            fut.set_result(out.executor_result)

    # -- attach -----------------------------------------------------------

    def _start_attach(self, package):
        fut = package.future
        try:
            jobid = JobID(package.jobid)
        except (ValueError, TypeError, OverflowError) as exc:
            fut.set_exception(exc)
            return
        self._attached.add(fut)
        _ForwardingWatch(self._h, jobid, self.inbox, fut)._begin()

    def _on_attach_event(self, fut, ev):
        if isinstance(ev, BaseException):
            self._attached.discard(fut)
            if not fut.done():
                if isinstance(ev, FileNotFoundError):
                    ev = ValueError("job ID does not match any job")
                fut.set_exception(ev)
            return
        if ev is None:
            self._attached.discard(fut)
            return
        if ev.name == "submit" and not fut._jobid_set:
            fut._set_jobid(JobID(watch_id(fut)))
        fut._set_event(ev)
        if fut.done():
            return
        if ev.name == "finish":
            status = ev.context["status"]
            fut.set_result(status >> 8 if status & 0x7F == 0 else -(status & 0x7F))
        elif ev.name == "exception" and ev.context["severity"] == 0:
            fut.set_exception(JobException(ev))

    # -- the end ----------------------------------------------------------

    def _fail_everything(self, exc):
        if not isinstance(exc, OSError):
            exc = OSError(errno.ECONNRESET, f"the executor's connection failed: {exc}")
        for job in list(self._jobs.values()):
            if not job.future.done():
                job.future.set_exception(OSError(exc.errno, exc.strerror))
        self._jobs.clear()
        for fut in list(self._attached):
            if not fut.done():
                fut.set_exception(OSError(exc.errno, exc.strerror))
        self._attached.clear()
        while self._deque:
            try:
                package = self._deque.popleft()
            except IndexError:
                break
            if package.future.set_running_or_notify_cancel():
                package.future.set_exception(OSError(exc.errno, exc.strerror))


class _ForwardingWatch(JobEventWatchFuture):
    """An event watch whose events go straight to an executor thread's
    inbox (from the reader thread; the put never blocks), so attach() costs
    no thread of its own."""

    def __init__(self, flux_handle, jobid, inbox, future):
        super().__init__(flux_handle, jobid)
        self._inbox, self._future = inbox, future

    def _fulfill(self, value=None, exc=None, final=True):
        if exc is not None:
            self._inbox.put(("attach-event", self._future, exc))
        else:
            self._inbox.put(("attach-event", self._future, None if value is _NOTHING else value))


def watch_id(fut):
    """The job ID an attach() future was made for."""
    return fut._attach_jobid


class FluxExecutor:
    """Submit jobspecs and get futures (FluxExecutorFuture) for the jobs,
    as concurrent.futures executors do for callables.

    ``threads`` connections share the work round-robin; ``poll_interval``
    bounds how long a thread sleeps when idle; ``handle_args`` and
    ``handle_kwargs`` go to each thread's ``flux.Flux``. ``with
    FluxExecutor() as ex:`` waits for every job at the end.
    """

    _counter = itertools.count().__next__
    EVENTS = MAIN_EVENTS

    def __init__(self, threads=1, thread_name_prefix="", poll_interval=0.1, handle_args=(), handle_kwargs=None):
        # pylint: disable=too-many-arguments
        if not isinstance(threads, int) or threads < 1:
            raise ValueError("the number of threads must be > 0")
        self._queues = [collections.deque() for _ in range(threads)]
        self._next = 0
        self._shutdown_lock = threading.Lock()
        self._broken = threading.Event()
        self._shutdown = threading.Event()
        prefix = thread_name_prefix or f"{type(self).__name__}-{self._counter()}"
        self._threads = [
            _ExecutorThread(self._broken, self._shutdown, dq, poll_interval, tuple(handle_args),
                            dict(handle_kwargs or {}), name=f"{prefix}-{i}", daemon=True)
            for i, dq in enumerate(self._queues)
        ]
        for t in self._threads:
            t.start()
        self._finalizer = weakref.finalize(self, _stop_threads, self._shutdown, self._threads)

    def submit(self, *args, **kwargs):
        """Submit a job: the arguments of flux.job.submit without the
        handle (jobspec, urgency, waitable, ...). Returns its future.
        RuntimeError after shutdown or once the executor is broken."""
        return self._create(_Submit, args, kwargs)

    def attach(self, jobid):
        """A future for an existing job, which behaves as submit()'s do."""
        fut = self._create(_Attach, jobid)
        return fut

    def _create(self, factory, *factory_args):
        if self._broken.is_set():
            raise RuntimeError("Executor is broken, new futures cannot be scheduled")
        with self._shutdown_lock:
            if self._shutdown.is_set():
                raise RuntimeError("cannot schedule new futures after shutdown")
            i = self._next
            thread = self._threads[i]
            fut = FluxExecutorFuture(thread.ident)
            if factory is _Attach:
                try:
                    fut._attach_jobid = int(JobID(factory_args[0]))
                except (ValueError, TypeError, OverflowError):
                    fut._attach_jobid = 0
            self._queues[i].append(factory(*factory_args, fut))
            self._next = (i + 1) % len(self._queues)
        thread.wake()
        return fut

    def shutdown(self, wait=True, *, cancel_futures=False):
        """No new futures after this. ``wait``: return once every job has
        ended. ``cancel_futures``: cancel futures not yet submitted."""
        with self._shutdown_lock:
            self._shutdown.set()
        if cancel_futures:
            for dq in self._queues:
                while dq:
                    try:
                        package = dq.popleft()
                    except IndexError:
                        break
                    package.future.cancel()
                    package.future.set_running_or_notify_cancel()
        for t in self._threads:
            t.wake()
        if wait:
            for t in self._threads:
                t.join()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.shutdown(wait=True)
        return False


def _stop_threads(event, threads):
    event.set()
    for t in threads:
        t.wake()
