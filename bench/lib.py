"""Shared machinery of the benchmark suite: temporary databases, the app in-process, gunicorn,
wrk, machine facts. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
PG_HOST = "127.0.0.1"
PG_ADMIN = f"postgresql+psycopg://postgres@{PG_HOST}:5432"
SECRET = "bench-secret-key-not-for-production"

sys.path.insert(0, str(ROOT))


# ---- machine -----------------------------------------------------------------------------------


def machine_info(db_kinds: list[str]) -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "databases": db_kinds,
    }
    try:
        info["postgresql"] = (
            subprocess.run(
                ["psql", "-h", PG_HOST, "-U", "postgres", "-Atc", "show server_version"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        info["postgresql"] = None
    try:
        import gunicorn

        info["gunicorn"] = gunicorn.__version__
    except ImportError:
        pass
    try:
        info["wrk"] = (
            subprocess.run(["wrk", "-v"], capture_output=True, text=True)
            .stdout.split("[")[0]
            .strip()
            or None
        )
    except OSError:
        info["wrk"] = None
    return info


# ---- databases ---------------------------------------------------------------------------------


class TempDatabase:
    """A throw-away database: a SQLite file in a temp dir, or `createdb` on 127.0.0.1."""

    def __init__(self, kind: str, label: str = "app"):
        self.kind = kind
        self.dir = Path(tempfile.mkdtemp(prefix=f"cvbench-{kind}-"))
        if kind == "sqlite":
            self.url = f"sqlite:///{self.dir / (label + '.db')}"
            self.name = None
        else:
            self.name = f"cvbench_{label}_{uuid.uuid4().hex[:8]}"
            subprocess.run(["createdb", "-h", PG_HOST, "-U", "postgres", self.name], check=True)
            self.url = f"{PG_ADMIN}/{self.name}"

    def drop(self) -> None:
        if self.kind == "postgresql" and self.name:
            subprocess.run(
                ["dropdb", "-h", PG_HOST, "-U", "postgres", "--if-exists", "--force", self.name],
                check=False,
            )
        shutil.rmtree(self.dir, ignore_errors=True)


def app_config(url: str) -> dict:
    # The rate limiter is off: every bench client comes from 127.0.0.1, whereas in the hall each
    # tablet has its own address. Everything else is the production configuration.
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SECRET,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8999",
        "RATELIMIT_ENABLED": False,
    }


def make_app(url: str, **extra):
    from congress_vote import create_app

    return create_app({**app_config(url), **extra})


def init_schema(app) -> None:
    """The operator's `flask init-db`, run in-process."""
    runner = app.test_cli_runner()
    res = runner.invoke(args=["init-db"])
    if res.exit_code != 0:
        raise RuntimeError(f"init-db failed: {res.output}\n{res.exception!r}")


# ---- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_conf() -> Path | None:
    p = ROOT / "gunicorn.conf.py"
    return p if p.exists() else None


@contextmanager
def gunicorn(
    app_spec: str,
    env: dict,
    workers: int,
    threads: int,
    worker_class: str = "sync",
    use_repo_conf: bool = True,
    log: Path | None = None,
):
    """Start gunicorn on 127.0.0.1:<free port> in its own process group; yield the base URL."""
    port = free_port()
    cmd = [str(VENV_BIN / "gunicorn"), "--chdir", str(ROOT)]
    conf = gunicorn_conf() if use_repo_conf else None
    if conf:
        cmd += ["-c", str(conf)]
    else:
        cmd += ["-c", "/dev/null"]
    # Explicit settings win over the repo's file: the bench compares like with like. No worker
    # recycling (the repo's max_requests): a worker restarting mid-measurement would charge its
    # start-up to whichever scenario it falls in, and only the app's servers serve enough
    # requests to reach it.
    cmd += [
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "-k",
        worker_class,
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--max-requests",
        "0",
        "--log-level",
        "warning",
        app_spec,
    ]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed with the server)
    proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    SERVER_GROUPS[base] = proc.pid
    try:
        _wait_port(port, proc)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log:
            out.close()
        SERVER_GROUPS.pop(base, None)


SERVER_GROUPS: dict[str, int] = {}  # base URL -> process group of its gunicorn
_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of a process group (master + workers), including its reaped
    children (a worker that exited: its time moves to the master's cutime/cstime).

    Load-independent: on a busy shared machine wall-clock figures wobble, CPU per request not."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 (pgrp), counted after the ")" of comm
            # utime, stime, cutime, cstime (fields 14-17)
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / _TICK


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def _wait_port(port: int, proc, timeout: float = 40) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
            # Give every worker time to import the app before the load starts.
            time.sleep(1.0)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


# ---- wrk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    """One request of a client: `{csrf}` in the body or a header is replaced by the last CSRF
    token a page showed that client; `expect`: a text the answer must contain to count as ok."""

    method: str
    path: str
    body: str = ""
    headers: dict = field(default_factory=dict)
    tag: str = "-"
    expect: str = ""


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def json_req(method: str, path: str, body=None, tag: str = "-", headers=None) -> Req:
    text = json.dumps(body, separators=(",", ":")) if body is not None else ""
    return Req(method, path, text, {"Content-Type": "application/json", **(headers or {})}, tag)


def wrk_requests(
    base: str, units: list, connections: int, max_seconds: int = 120, pace_ms: float = 0
) -> dict:
    """Send each unit (a Req, or a list of Reqs one client sends in order, e.g. a tablet's
    page → review → cast) exactly once over `connections` keep-alive connections, a unit's
    requests on one connection.

    wrk runs one thread per connection, so every thread has exactly one request in flight and
    its Lua script can time each request itself (LuaJIT FFI clock) and stop when its share is
    done: the latencies are exact and no filler request pollutes them.

    `pace_ms` > 0: each client thinks before each request (uniform in [0.5, 1.5] x pace_ms),
    so the load is that of people at tablets or desks rather than of clients in a tight loop
    (the run lasts at least requests per client x pace_ms).
    """
    units = [u if isinstance(u, list) else [u] for u in units]
    work = Path(tempfile.mkdtemp(prefix="cvbench-wrk-"))
    try:
        shares = [units[i::connections] for i in range(connections)]
        for i, share in enumerate(shares):
            with open(work / f"req-{i}.txt", "w") as f:
                for unit in share:
                    for r in unit:
                        fields = [r.method, r.path, r.tag, r.expect, r.body] + [
                            f"{k}: {v}" for k, v in r.headers.items()
                        ]
                        f.write("\t".join(_esc(x) for x in fields) + "\n")
        env = {**os.environ, "CVBENCH_DIR": str(work), "CVBENCH_PACE_MS": str(int(pace_ms))}
        if pace_ms:
            per_client = max(sum(len(u) for u in share) for share in shares)
            max_seconds += int(per_client * pace_ms * 1.5 / 1000)
        cmd = [
            "wrk",
            "-t",
            str(connections),
            "-c",
            str(connections),
            "-d",
            f"{max_seconds}s",
            "--timeout",
            "20s",
            "-s",
            str(BENCH / "requests.lua"),
            base,
        ]
        pgid = SERVER_GROUPS.get(base)
        cpu0 = group_cpu_seconds(pgid) if pgid else None
        load0 = loadavg()
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        deadline = time.time() + max_seconds + 10
        expected = [work / f"done-{i}.txt" for i in range(connections) if shares[i]]
        while time.time() < deadline and not all(p.exists() for p in expected):
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # wrk sleeps for -d otherwise
        stdout, stderr = proc.communicate(timeout=30)
        cpu = group_cpu_seconds(pgid) - cpu0 if pgid else None
        lat: list[float] = []
        by_tag: dict[str, list[float]] = {}
        statuses: dict[str, int] = {}
        tag_statuses: dict[str, dict[str, int]] = {}
        not_ok = 0
        starts, ends = [], []
        for i in range(connections):
            p = work / f"done-{i}.txt"
            if not p.exists():
                continue
            lines = p.read_text().splitlines()
            start, end = map(float, lines[0].split())
            starts.append(start)
            ends.append(end)
            for line in lines[1:]:
                status, ms, tag, ok = line.split()
                statuses[status] = statuses.get(status, 0) + 1
                ts = tag_statuses.setdefault(tag, {})
                ts[status] = ts.get(status, 0) + 1
                not_ok += ok == "0"
                lat.append(float(ms))
                by_tag.setdefault(tag, []).append(float(ms))
        completed = len(lat)
        sent = sum(len(u) for u in units)
        wall = (max(ends) - min(starts)) if starts else float("nan")
        lat.sort()
        for v in by_tag.values():
            v.sort()
        errors = sum(n for s, n in statuses.items() if not s.startswith(("2", "3")))
        return {
            "sent": sent,
            "units": len(units),
            "completed": completed,
            "statuses": statuses,
            "tag_statuses": tag_statuses,
            "errors": errors + (sent - completed) + not_ok,
            "not_ok": not_ok,
            "wall_s": wall,
            "rps": completed / wall if wall else 0.0,
            "units_per_s": len(units) / wall if wall and completed == sent else None,
            "p50_ms": _pct(lat, 50),
            "p90_ms": _pct(lat, 90),
            "p99_ms": _pct(lat, 99),
            "max_ms": lat[-1] if lat else float("nan"),
            "p99_ms_by_tag": {t: _pct(v, 99) for t, v in by_tag.items()},
            "p50_ms_by_tag": {t: _pct(v, 50) for t, v in by_tag.items()},
            "server_cpu_ms_per_req": cpu * 1000 / completed
            if cpu is not None and completed
            else None,
            "loadavg_before": load0,
            "loadavg_after": loadavg(),
            "wrk_stderr": stderr.strip()[-500:],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


# ---- subprocess peak memory --------------------------------------------------------------------


def run_measured(args: list[str], env: dict | None = None, timeout: int = 600) -> dict:
    """Run a Python child; answer its JSON stdout plus wall time and peak RSS (MB).

    Peak RSS is read by the child itself from RUSAGE_SELF and RUSAGE_CHILDREN (the largest of
    its own and any pool worker's), so a renderer that uses a process pool is measured whole.
    """
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
    )
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    return out


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
