"""``kg serve``: the app under granian (HTTP in Rust), supervised so that it never ends by itself.

Why granian: it parses HTTP in Rust; waitress (pure Python) answered a one-entity SELECT about
14x slower than ``oxigraph serve`` here. Each granian worker process runs the ASGI interface:
:class:`~kg.server.asgi.WsgiBridge` reads bodies on the event loop under a time limit, answers
plain SPARQL queries itself and hands everything else to the Flask app in a thread.

Where queries run (``KG_QUERY_PROCESSES``): pyoxigraph cannot cancel a query, so stopping a
runaway one means ending the process it runs in.

* N > 0 (the default, 2): a pool of query processes per worker (:class:`~kg.server.executor.Executor`).
  A runaway costs its query process, which is killed and replaced; the worker and every other
  request go on (soak: zero errors for well-behaved clients beside runaway queries).
* 0: queries run in threads of the worker (:class:`~kg.server.executor.InlineExecutor`), about
  twice the throughput; a runaway recycles the whole worker (never sooner than
  ``RECYCLE_MIN_AGE`` after its start, or granian's crash-loop detector, which ends the server
  when a worker dies within 5.5 s of its respawn, would trip), and that worker's other requests
  get 503 or a cut connection meanwhile.

Should granian itself exit anyway, :func:`serve` starts it again after a backoff (doubling to
``KG_RESTART_BACKOFF_MAX``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from kg.settings import Settings, load_settings


def worker_app():
    """The ASGI app of one worker process (granian calls this factory in each of them)."""
    from kg.server import create_app
    from kg.server.asgi import WsgiBridge
    from kg.server.executor import Executor, InlineExecutor

    settings = load_settings()
    if settings.query_processes:  # a runaway query costs one query process, not the worker
        executor = Executor(settings, size=settings.query_processes)
    else:
        executor = InlineExecutor(settings)
    app = create_app(settings, executor=executor)
    return WsgiBridge(app, max_body=settings.max_body, body_timeout=settings.body_timeout,
                      client_requests=settings.client_requests, threads=settings.query_threads,
                      retry_after=settings.retry_after, stack_size=settings.query_stack, executor=executor)


def check_address(host: str, port: int) -> None:
    """Refuse to start where another server listens (granian would start and answer nothing,
    or share the port with it); one line that says what to do."""
    import socket

    from kg.errors import KGError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise KGError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise KGError(f"cannot listen on {host}:{port}: {exc.strerror} (another server there? "
                          f"choose another port with --port or KG_PORT)") from None


def run_granian(settings: Settings, *, log_level: str = "error") -> None:
    """One granian server in this process (what :func:`serve` supervises)."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    Granian(
        "kg.server.serve:worker_app", factory=True, interface=Interfaces.ASGI,
        address=settings.host, port=settings.port, workers=max(1, settings.workers),
        backpressure=settings.max_connections, backlog=max(1024, settings.max_connections),
        http1_settings=HTTP1Settings(header_read_timeout=max(1, int(settings.header_timeout * 1000))),
        respawn_failed_workers=True, respawn_interval=0.5,
        log_level=LogLevels(log_level),
    ).serve()


def serve(settings: Settings, *, log_level: str = "error") -> None:
    """Serve until interrupted; granian runs in a child process and is restarted if it exits.

    The settings reach the workers through ``KG_*`` variables.
    """
    env = {**os.environ, **settings.environ()}
    backoff = 0.5
    child: subprocess.Popen | None = None

    def stop(signum, _frame):
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        started = time.monotonic()
        # -P: the working directory is not put on sys.path, so a `kg serve` started in a source
        # checkout runs the installed package (whose kg.web the checkout does not have)
        child = subprocess.Popen([sys.executable, "-P", "-c", "from kg.server.serve import _child; _child()",
                                  log_level], env=env, preexec_fn=_die_with_parent)
        code = child.wait()
        if time.monotonic() - started > 60:
            backoff = 0.5  # it ran a good while: the next failure starts the backoff over
        print(f"kg: the HTTP server exited (status {code}); starting it again in {backoff:g} s",
              file=sys.stderr, flush=True)
        time.sleep(backoff)
        backoff = min(backoff * 2, settings.restart_backoff_max)


def _die_with_parent() -> None:
    """In the HTTP server's process, before it runs: end when the supervisor ends, however it
    ends (Linux's PR_SET_PDEATHSIG; elsewhere nothing), so a killed `kg serve` leaves no server."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass


def _child() -> None:
    run_granian(load_settings(), log_level=sys.argv[1] if len(sys.argv) > 1 else "error")
