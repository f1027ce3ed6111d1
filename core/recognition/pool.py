"""Meter photos read by a bounded pool of worker processes, so a flood of photos never stalls the bot.

Each worker is a fresh interpreter that builds its reader (and loads the models) once, at start; the bot
process never imports them.
At most `workers + queue` photos are accepted at once (being read or waiting for a worker); the next one is
refused at once with RecognitionBusy, so the consumer can be told to send it again or type the reading.
A worker that dies (killed, out of memory) or overruns the per-photo timeout is replaced, and its photo
answered with RecognitionFailed: the flow treats that as "not read" and keeps the photo.
A worker that has read `worker_photos` photos, or holds more than `worker_mb` MB, is replaced too, but without
a pause and without losing a photo: its successor is started while it goes on reading, and it is retired (asked
to end) once the successor is ready and it has answered the photo it is reading.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, cast

from core.memory import give_back_freed_memory

if TYPE_CHECKING:
    from core.recognition import MeterReader, Recognition

log = logging.getLogger(__name__)

# A photo, its meter's digits, the previous reading, the meter's type, each zone's previous reading.
Job = tuple[bytes, int | None, int | None, str, tuple[int | None, ...]]

READ_TIMEOUT = 30.0  # seconds one photo may take on a worker; a 12 MP photo takes about one
START_TIMEOUT = 120.0  # seconds a worker may take to load its models
SOURCE = str(Path(__file__).resolve().parents[2])  # where the worker finds the core package
MAX_FAILED_STARTS = 3  # workers in a row that die while loading: then the reader is broken, not a worker
# How much lower a worker's CPU priority is than the bot's (nice): reading a photo takes a core for about a
# second, and the consumers' text turns (a few milliseconds each) must not wait behind it. At 10 a busy bot
# process gets about ten times a busy worker's share of a core; an idle bot leaves the workers every core.
WORKER_NICENESS = 10
# Photos a worker reads before it is replaced, a bound on whatever grows with the photos a worker has read: with
# onnxruntime's arena on, a worker grew from 332 to 429 MB over 400 photos (lines.py turns it off since;
# benchmarks/worker_memory.py).
WORKER_PHOTOS = 200
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


class RecognitionBusy(Exception):
    """Too many photos are being read right now: the photo was not accepted."""


class RecognitionFailed(Exception):
    """The photo could not be read: its worker died or overran its time, or the reader failed."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def line_reader(engine: str = "lines") -> MeterReader:
    """The default reader of a worker: the configured engine (a module-level function: it is pickled)."""
    from core.recognition import default_reader

    return default_reader(engine)


class RecognitionPool:
    """`await pool.read(content, digits=..., previous=...)`: a Recognition, read in a worker process.

    `workers=0` reads in one thread of this process instead (a small deployment, or no spare memory).
    `make_reader` is called once in each worker; it must be picklable (a module-level function or a
    functools.partial of one). A worker is replaced after `worker_photos` photos (0: never) or once it holds
    more than `worker_mb` MB of resident memory (0: no bound).
    """

    def __init__(self, workers: int | None = None, queue: int | None = None, *,
                 make_reader: Callable[[], MeterReader] = line_reader, timeout: float = READ_TIMEOUT,
                 start_timeout: float = START_TIMEOUT, worker_photos: int = WORKER_PHOTOS,
                 worker_mb: float = 0) -> None:
        self.workers = cores() if workers is None else workers
        if self.workers < 0:
            raise ValueError("workers must be 0 or more")
        self.queue = 2 * max(self.workers, 1) if queue is None else queue
        if self.queue < 0:
            raise ValueError("queue must be 0 or more")
        self.capacity = max(self.workers, 1) + self.queue
        self.make_reader = make_reader
        self.timeout = timeout
        self.start_timeout = start_timeout
        if worker_photos < 0 or worker_mb < 0:
            raise ValueError("worker_photos and worker_mb must be 0 or more")
        self.worker_photos = worker_photos
        self.worker_mb = worker_mb
        self.accepted = 0  # photos being read or waiting for a worker
        self.unavailable: str | None = None  # why no worker could load its reader
        self._processes: set[_Worker] = set()
        self._retired: set[asyncio.Task[None]] = set()  # retired workers being waited for
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._reader: MeterReader | None = None
        self._closing = False
        self._failed_starts = 0

    async def __aenter__(self) -> RecognitionPool:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self, *, wait: bool = True) -> RecognitionPool:
        """Start the workers and (unless `wait` is False) wait until each has loaded its reader; a photo that
        comes before a worker is ready waits for one (within the read timeout)."""
        if self.workers == 0:
            # One thread of its own: photos never take the default executor that file and database work use.
            self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="meter-photos")
            try:
                self._reader = await asyncio.get_running_loop().run_in_executor(
                    self._thread, _warm_reader, self.make_reader)
            except Exception as exc:
                log.exception("meter photos cannot be read")
                self.unavailable = f"{type(exc).__name__}: {exc}"
            return self
        self._idle = asyncio.Queue()
        started = [self._spawn() for _ in range(self.workers)]
        if wait:
            await asyncio.wait([asyncio.ensure_future(w.ready) for w in started], timeout=self.start_timeout)
        return self

    async def read(self, content: bytes, *, digits: int | None = None, previous: int | None = None,
                   meter_type: str = "", zone_previous: tuple[int | None, ...] = ()) -> Recognition:
        """What the photo says; RecognitionBusy at once when too many photos wait, RecognitionFailed when
        it could not be read, PhotoRejected for bytes that are no usable photo."""
        if self._idle is None and self._thread is None:
            raise RuntimeError("start the RecognitionPool before reading photos")
        if self.accepted >= self.capacity:
            raise RecognitionBusy(f"{self.accepted} photos are being read or waiting")
        if self.unavailable is not None:
            raise RecognitionFailed(f"no reader: {self.unavailable}")
        self.accepted += 1
        try:
            if self.workers == 0:
                loop = asyncio.get_running_loop()
                assert self._reader is not None  # started, and not unavailable
                call = functools.partial(self._reader.read, content, digits=digits, previous=previous,
                                         meter_type=meter_type, zone_previous=zone_previous)
                return await loop.run_in_executor(self._thread, call)
            return await self._read_in_worker((content, digits, previous, meter_type, zone_previous))
        finally:
            self.accepted -= 1

    async def _read_in_worker(self, job: Job) -> Recognition:
        worker = await self._next_idle()
        answer = worker.answer = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.to_thread(worker.send, job)  # a large photo fills the pipe: never block the loop
                kind, value = await answer
        except TimeoutError:
            log.error("a meter photo took over %.0f s on worker %s: replacing it", self.timeout, worker.pid)
            worker.kill()
            raise RecognitionFailed(f"the photo took over {self.timeout:g} s") from None
        except OSError as exc:  # the pipe broke: the worker is gone
            worker.kill()
            raise RecognitionFailed(f"the worker reading the photo stopped ({exc})") from None
        except asyncio.CancelledError:
            worker.kill()  # it may still be reading the photo: it cannot take the next one
            raise
        finally:
            worker.answer = None
        worker.photos += 1
        if worker.retiring:  # its successor is ready: this was its last photo
            self._retire(worker)
        elif not worker.lost:
            if worker.successor is None and not self._closing and self._worn(worker):
                worker.successor = self._spawn(predecessor=worker)
            self._idle_workers().put_nowait(worker)
        if kind == "error":
            raise value
        return cast("Recognition", value)  # unpickled: what serve() sends with "done"

    async def _next_idle(self) -> _Worker:
        # Waiting photos are bounded by the queue, each by the read timeout: so is the wait for a worker.
        try:
            async with asyncio.timeout(self.timeout * (1 + self.queue / self.workers)):
                while True:
                    worker = await self._idle_workers().get()
                    if worker is None:  # no worker will come
                        self._idle_workers().put_nowait(None)  # wake the next caller too
                        raise RecognitionFailed(f"no reader: {self.unavailable}")
                    if not worker.lost:
                        return worker
        except TimeoutError:
            raise RecognitionFailed("no worker became free in time") from None

    def _idle_workers(self) -> asyncio.Queue[_Worker | None]:
        """The queue of idle workers, which only a pool of worker processes has."""
        if self._idle is None:
            raise RuntimeError("the pool reads photos in a thread: it has no workers")
        return self._idle

    def _spawn(self, predecessor: _Worker | None = None) -> _Worker:
        worker = _Worker(self.make_reader, self._on_message, self._on_exit)
        worker.predecessor = predecessor
        self._processes.add(worker)
        return worker

    def _worn(self, worker: _Worker) -> bool:
        """Has the worker read its share of photos, or grown past the memory bound?"""
        if self.worker_photos and worker.photos >= self.worker_photos:
            log.info("meter-photo worker %s has read %d photos: replacing it", worker.pid, worker.photos)
            return True
        if self.worker_mb and (held := worker.resident_mb()) > self.worker_mb:
            log.info("meter-photo worker %s holds %.0f MB: replacing it", worker.pid, held)
            return True
        return False

    def _retire(self, worker: _Worker) -> None:
        """Stop an idle worker whose successor is ready, and reap it in the background."""
        self._processes.discard(worker)
        worker.stop()
        waiting = asyncio.ensure_future(worker.wait(5.0))
        self._retired.add(waiting)
        waiting.add_done_callback(self._retired.discard)

    def _successor_ready(self, worker: _Worker) -> None:
        """A replacement has loaded its reader: its predecessor ends now if idle, else after its photo."""
        old, worker.predecessor = worker.predecessor, None
        if old is None or old.lost:
            return
        if old.answer is None:
            self._retire(old)  # idle: it sits in the idle queue, which skips a lost worker
        else:
            old.retiring = True

    def _on_message(self, worker: _Worker, kind: str, value: Any) -> None:
        if kind == "ready":
            self._failed_starts = 0
            worker.ready.set_result(None)
            self._idle_workers().put_nowait(worker)
            self._successor_ready(worker)
        elif kind == "unavailable":
            if self.unavailable is None:
                self._give_up(value)
            worker.ready.set_exception(RecognitionFailed(value))
        elif worker.answer is not None and not worker.answer.done():
            worker.answer.set_result((kind, value))

    def _on_exit(self, worker: _Worker) -> None:
        self._processes.discard(worker)
        if not worker.ready.done():
            worker.ready.set_exception(RecognitionFailed("the worker stopped while loading its reader"))
            self._failed_starts += 1
        if worker.answer is not None and not worker.answer.done():
            worker.answer.set_exception(RecognitionFailed(f"the worker reading the photo stopped ({worker.exitcode})"))
        if self._closing or self.unavailable is not None:
            return
        if self._failed_starts >= MAX_FAILED_STARTS:
            self._give_up(f"{self._failed_starts} workers in a row stopped while loading the reader")
            return
        successor = worker.successor
        if successor is not None and (worker.retiring or successor.predecessor is worker):
            successor.predecessor = None  # its successor, loading or ready, takes its place
            return
        log.error("a meter-photo worker (pid %s) stopped with %s: starting another", worker.pid, worker.exitcode)
        replacement = self._spawn(predecessor=worker.predecessor)  # a successor that died loading is started again
        if worker.predecessor is not None:
            worker.predecessor.successor = replacement

    def _give_up(self, reason: str) -> None:
        """No worker can read photos (the reader cannot be built): answer every photo at once from now on."""
        log.error("meter photos cannot be read: %s", reason)
        self.unavailable = reason
        self._idle_workers().put_nowait(None)

    async def close(self) -> None:
        """Stop the workers: photos being read are answered as failed, a worker busy after 5 s is killed."""
        self._closing = True
        if self.unavailable is None:
            self.unavailable = "the bot is stopping"
            if self._idle is not None:
                self._idle.put_nowait(None)
        if self._thread is not None:
            self._thread.shutdown(wait=False, cancel_futures=True)
        workers = list(self._processes)
        for worker in workers:
            worker.stop()
        if workers or self._retired:
            await asyncio.gather(*(worker.wait(5.0) for worker in workers), *self._retired)

    def pids(self) -> list[int]:
        """The workers' process ids (for memory figures and tests)."""
        return [worker.pid for worker in self._processes]


class _Worker:
    """One worker process, a fresh interpreter talked to over a socket that the event loop watches.

    Not multiprocessing's spawn or forkserver: those import the bot's main script again in every worker
    (and start workers over and over from a script without the `__main__` guard).
    """

    def __init__(self, make_reader: Callable[[], MeterReader], on_message: Callable[[_Worker, str, Any], None],
                 on_exit: Callable[[_Worker], None]) -> None:
        self.loop = asyncio.get_running_loop()
        here, there = socket.socketpair()
        with there:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SOURCE, os.environ.get("PYTHONPATH")])))
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from core.recognition.pool import serve; serve()", str(there.fileno())],
                pass_fds=[there.fileno()], stdin=subprocess.DEVNULL, env=env)
        self.connection = Connection(here.detach())
        # As multiprocessing does: the reader's module may sit on a path only this process knows (a test's).
        self.connection.send(sys.path)
        self.connection.send(make_reader)
        self.pid = self.process.pid
        self.ready: asyncio.Future[None] = self.loop.create_future()
        self.ready.add_done_callback(lambda future: future.exception())  # nobody may wait for it: no warning
        self.answer: asyncio.Future[tuple[str, Any]] | None = None  # (kind, what serve() sent)
        self.lost = False
        self.exitcode: int | None = None
        self.photos = 0  # photos answered
        self.predecessor: _Worker | None = None  # the worn worker this one replaces once it is ready
        self.successor: _Worker | None = None  # the worker started to replace this one
        self.retiring = False  # its successor is ready: it ends after the photo it is reading
        self._on_message, self._on_exit = on_message, on_exit
        self.loop.add_reader(self.connection.fileno(), self._receive)

    def send(self, job: Job) -> None:
        self.connection.send(job)

    def resident_mb(self) -> float:
        """Its resident memory (RSS) now, in MB; 0 once it has ended."""
        try:
            return int(Path(f"/proc/{self.pid}/statm").read_text().split()[1]) * PAGE_MB
        except (OSError, IndexError, ValueError):  # ended, or not Linux
            return 0.0

    def _receive(self) -> None:
        try:
            kind, value = self.connection.recv()  # answers are small: it arrives whole once readable
        except (EOFError, OSError):  # the worker ended: only it holds the other end
            self._exited()
            return
        self._on_message(self, kind, value)

    def _exited(self) -> None:
        if self.lost:
            return
        self.lost = True
        self.loop.remove_reader(self.connection.fileno())
        self.connection.close()
        try:
            self.exitcode = self.process.wait(1.0)  # it has ended, or is ending: its socket closed
        except subprocess.TimeoutExpired:  # it closed the socket and lives on: it can read no photo
            self.process.kill()
            self.exitcode = self.process.wait()
        self._on_exit(self)

    def kill(self) -> None:
        if not self.lost:
            self.process.kill()

    def stop(self) -> None:
        """Ask it to end: it reads no more photos once the socket is closed; a photo it reads is answered as failed."""
        if self.lost:
            return
        self.lost = True
        self.loop.remove_reader(self.connection.fileno())
        self.connection.close()
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(RecognitionFailed("the bot is stopping"))

    async def wait(self, timeout: float) -> None:
        """Wait for a stopped worker to end, killing it after `timeout` seconds."""
        deadline = self.loop.time() + timeout
        while self.process.poll() is None and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        if self.process.poll() is None:
            self.process.kill()
        self.exitcode = self.process.wait()


def _warm_reader(make_reader: Callable[[], MeterReader]) -> MeterReader:
    reader = make_reader()
    warm = getattr(reader, "warm", None)
    if warm is not None:
        warm()
    return reader


def serve() -> None:
    """A worker's life (`python -c ... FD`): load the reader once, then read the photos sent over the socket FD
    until the bot closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the bot decides when we stop
    os.nice(WORKER_NICENESS)
    connection = Connection(int(sys.argv[1]))
    try:
        sys.path[:] = [*sys.path, *(entry for entry in connection.recv() if entry not in sys.path)]
        try:
            reader = _warm_reader(connection.recv())
        except Exception as exc:
            connection.send(("unavailable", f"{type(exc).__name__}: {exc}"))
            return
        connection.send(("ready", os.getpid()))
        while True:
            content, digits, previous, meter_type, zone_previous = connection.recv()
            answer: tuple[str, object]
            try:
                answer = ("done", reader.read(content, digits=digits, previous=previous, meter_type=meter_type,
                                              zone_previous=zone_previous))
            except Exception as exc:
                answer = ("error", _portable(exc))
            connection.send(answer)
            del content, answer
            give_back_freed_memory()  # what the photo's arrays leave in the heap: back while the next one waits
    except (EOFError, OSError):  # the bot closed the socket: it is stopping, or gave up on this photo
        # Nothing to flush or keep: end at once, without the seconds a busy machine takes to tear down the
        # models (the bot waits for its workers when it stops).
        os._exit(0)


def _portable(exc: Exception) -> Exception:
    """The exception as the bot can unpickle it without importing the reader's modules."""
    from core.recognition import PhotoRejected

    if isinstance(exc, PhotoRejected):
        return PhotoRejected(exc.reason)
    failed = RecognitionFailed(f"{type(exc).__name__}: {exc}")
    try:
        pickle.dumps(failed)
    except Exception:
        failed = RecognitionFailed(type(exc).__name__)
    return failed
