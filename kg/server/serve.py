"""``kg serve``: worker processes on one listening socket, supervised so the service never ends by itself.

The supervisor (this process) binds the socket, so a port in use is one line before anything
starts, then runs ``KG_WORKERS`` worker processes that share it. Each worker is uvicorn with
httptools (HTTP parsed in C) on uvloop, under our connection discipline
(:mod:`kg.server.connections`), serving :class:`~kg.server.asgi.WsgiBridge`.

Why not granian (used until December 2026): it has no idle timeout, so connections that never
send a byte stay open for good, nor a per-address connection cap, and its worker manager ends
the whole server when a worker dies within 5.5 s of its start. uvicorn has neither timeout
either, but it is Python and its protocol class can be extended; on the same 100k-corporation
store it answered the bench's one-entity SELECT at 1.1x granian's rate with query processes and
1.4x with worker threads (bench/README.md).

Where queries run (``KG_QUERY_PROCESSES``): pyoxigraph cannot cancel a query, so stopping a
runaway one means ending the process it runs in.

* N > 0 (the default, 2): a pool of query processes per worker (:class:`~kg.server.executor.Executor`).
  A runaway costs its query process, which is killed and replaced; the worker and every other
  request go on.
* 0: queries run in threads of the worker (:class:`~kg.server.executor.InlineExecutor`), faster;
  a runaway ends the whole worker, which cuts its other connections.

A worker that exits is started again at once if it ran a while (or was recycled on purpose),
else after a backoff that doubles to ``KG_RESTART_BACKOFF_MAX``; the other workers go on
answering meanwhile.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from kg.errors import KGError
from kg.settings import Settings, load_settings


def bind(host: str, port: int, *, backlog: int) -> socket.socket:
    """The listening socket the workers share; one line that says what to do when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise KGError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise KGError(f"cannot listen on {host}:{port}: {exc.strerror} (another server there? "
                      f"choose another port with --port or KG_PORT)") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, sock: socket.socket, *, log_level: str = "error") -> None:
    """Run ``KG_WORKERS`` workers on ``sock`` until SIGINT or SIGTERM; replace any that exits.

    The settings reach the workers through ``KG_*`` variables.
    """
    from kg.server.executor import RECYCLE_EXIT  # not at import time: the CLI imports this module

    env = {**os.environ, **settings.environ()}
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start() -> tuple[subprocess.Popen, float]:
        # -P: the working directory is not put on sys.path, so a `kg serve` started in a source
        # checkout runs the installed package (whose kg.web the checkout does not have)
        child = subprocess.Popen(
            [sys.executable, "-P", "-c", "from kg.server.serve import _worker; _worker()",
             str(sock.fileno()), log_level],
            env=env, pass_fds=(sock.fileno(),), preexec_fn=_die_with_parent)
        return child, time.monotonic()

    workers = [start() for _ in range(settings.worker_processes)]
    backoff = [0.5] * len(workers)
    due: dict[int, float] = {}  # slot -> when to start its worker again
    while not stopping:
        now = time.monotonic()
        for slot, (child, started) in enumerate(workers):
            if slot in due:
                if now >= due[slot]:
                    del due[slot]
                    workers[slot] = start()
                continue
            code = child.poll()
            if code is None:
                continue
            if code == RECYCLE_EXIT or now - started > 60:
                backoff[slot] = 0.5  # recycled on purpose, or it ran a good while: start over at once
                wait = 0.0
            else:
                wait = backoff[slot]
                backoff[slot] = min(backoff[slot] * 2, settings.restart_backoff_max)
            if code != RECYCLE_EXIT:
                print(f"kg: worker process {child.pid} exited (status {code}); starting another in {wait:g} s",
                      file=sys.stderr, flush=True)
            due[slot] = now + wait
        time.sleep(0.1)
    for child, _ in workers:
        if child.poll() is None:
            child.send_signal(signal.SIGINT if stopping[0] == signal.SIGINT else signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child, _ in workers:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    sock.close()


def worker_app(settings: Settings):
    """The ASGI app of one worker process."""
    from kg.server import create_app
    from kg.server.asgi import WsgiBridge
    from kg.server.executor import Executor, InlineExecutor

    if settings.query_processes:  # a runaway query costs one query process, not the worker
        executor = Executor(settings, size=settings.query_processes)
    else:
        executor = InlineExecutor(settings)
    app = create_app(settings, executor=executor)
    return WsgiBridge(app, max_body=settings.max_body, body_timeout=settings.body_timeout,
                      client_requests=settings.client_requests, threads=settings.query_threads,
                      retry_after=settings.retry_after, stack_size=settings.query_stack, executor=executor)


def run_worker(settings: Settings, sock: socket.socket, *, log_level: str = "error") -> None:
    """One worker: uvicorn on the shared socket, with our connection discipline."""
    import uvicorn

    from kg.server.connections import Limits, protocol_class

    limits = Limits(idle_timeout=settings.idle_timeout, header_timeout=settings.header_timeout,
                    max_header_bytes=settings.max_header_bytes, client_connections=settings.client_connections,
                    max_connections=settings.max_connections, retry_after=settings.retry_after)
    config = uvicorn.Config(
        worker_app(settings), http=protocol_class(limits), loop="uvloop", lifespan="off",
        interface="asgi3", timeout_keep_alive=settings.idle_timeout,
        timeout_graceful_shutdown=5, access_log=False, server_header=False, date_header=True,
        log_config=None, log_level=log_level)
    uvicorn.Server(config).run(sockets=[sock])


def _die_with_parent() -> None:
    """In a worker, before it runs: end when the supervisor ends, however it ends (Linux's
    PR_SET_PDEATHSIG; elsewhere nothing), so a killed `kg serve` leaves no worker behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass


def _worker() -> None:
    fd = int(sys.argv[1])
    sock = socket.socket(fileno=fd)
    run_worker(load_settings(), sock, log_level=sys.argv[2] if len(sys.argv) > 2 else "error")
