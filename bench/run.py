"""Run the benchmark suite: `.venv/bin/python bench/run.py [--db sqlite|postgresql|both]
[--runs 3] [--quick] [--workers W --threads T] [--only casting,checkin,...]`.

Every scenario runs `--runs` times (1 with --quick) and the median is reported. Results go to
bench/results/<UTC timestamp>.json and bench/results/latest.md (a markdown table: database,
scenario, metric, value, target, pass/fail, plus the machine). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lib  # noqa: E402
import scenarios as sc  # noqa: E402

RESULTS = lib.BENCH / "results"
SCENARIOS = (
    "kiosk",
    "ceiling",
    "writequeue",
    "checkin",
    "api",
    "paced",
    "tablet",
    "counting",
    "printing",
)
QUICK = ("kiosk", "ceiling", "writequeue", "checkin", "api", "paced")
# The server settings chosen for 2 cores (see README: the sweep).
DEFAULT_WORKERS, DEFAULT_THREADS = 2, 4
TABLETS, REGISTRARS = 64, 16
# The paced scenarios: the hall's load as people make it. 64 tablets together cast 30 votes a
# second (1,800 a minute: a 2,000-voter hall voting in about a minute; a real delegate takes
# half a minute or more over a ballot), and each of 16 registrars scans a card a second.
HALL_VOTES_PER_S, DESK_SCAN_MS = 30, 1000
PACED_VOTES, PACED_CHECKINS = 640, 480  # 10 votes a tablet, 30 cards a desk


def med(runs: list[dict], key: str):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarise_load(runs: list[dict]) -> dict:
    statuses: dict[str, int] = {}
    for r in runs:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    tags = sorted({t for r in runs for t in r["p99_ms_by_tag"]})
    out = {
        "runs": len(runs),
        "rps": med(runs, "rps"),
        "units_per_s": med(runs, "units_per_s"),
        "p50_ms": med(runs, "p50_ms"),
        "p90_ms": med(runs, "p90_ms"),
        "p99_ms": med(runs, "p99_ms"),
        "max_ms": max((r["max_ms"] for r in runs), default=None),
        "p99_ms_by_tag": {
            t: statistics.median(r["p99_ms_by_tag"][t] for r in runs if t in r["p99_ms_by_tag"])
            for t in tags
        },
        "cpu_ms_per_req": med(runs, "server_cpu_ms_per_req"),
        "loadavg": [r["loadavg_before"] for r in runs],
        "statuses": statuses,
        "errors": sum(r["errors"] for r in runs),
        "raw": runs,
    }
    if all("stored" in r for r in runs):
        out["stored_equals_successes"] = all(r["stored"] == r["successes"] for r in runs)
        out["stored"] = [r["stored"] for r in runs]
    return out


def run_kind(kind: str, args, settings: dict, log: Path) -> dict:
    """Every load scenario of one database. The app, the app without the SQLite write queue and
    the ceiling are all up at once, and each run measures them one after the other, so the
    ratios compare figures taken under the same load of the machine."""
    res: dict = {"database": kind, "gunicorn": settings}
    wanted = set(args.only.split(",")) if args.only else set(QUICK if args.quick else SCENARIOS)
    n = args.votes
    print(f"[{kind}] setting up", flush=True)
    s = sc.Setup(kind)
    try:
        with contextlib.ExitStack() as stack:
            base = stack.enter_context(
                lib.gunicorn("bench.bench_wsgi:app", s.env(), **settings, log=log)
            )
            nowq = None
            if kind == "sqlite" and "writequeue" in wanted:
                env = {**s.env(), "BENCH_WRITE_QUEUE": "0"}
                nowq = stack.enter_context(
                    lib.gunicorn("bench.bench_wsgi:app", env, **settings, log=log)
                )
            ceil = None
            if "ceiling" in wanted:
                ceil = stack.enter_context(sc.Ceiling(kind, settings, log=log))
            cid, _cards = s.congress(n + sc.WARMUP)  # ballots issued <= voters present
            s.check_in_all(cid)
            runs: dict[str, list[dict]] = {}
            for run in range(args.runs):
                if "kiosk" in wanted:
                    print(f"[{kind}] kiosk votes, run {run + 1}", flush=True)
                    runs.setdefault("kiosk", []).append(sc.kiosk_votes(s, base, cid, n, TABLETS))
                if ceil is not None:
                    print(f"[{kind}] ceiling votes, run {run + 1}", flush=True)
                    runs.setdefault("ceiling", []).append(ceil.votes(n, TABLETS))
                if nowq is not None:
                    print(
                        f"[{kind}] kiosk votes without the write queue, run {run + 1}", flush=True
                    )
                    runs.setdefault("kiosk_no_queue", []).append(
                        sc.kiosk_votes(s, nowq, cid, n, TABLETS)
                    )
                if "checkin" in wanted:
                    print(f"[{kind}] check-in desk, run {run + 1}", flush=True)
                    runs.setdefault("checkin", []).append(
                        sc.checkin_desk(s, base, args.checkins, REGISTRARS)
                    )
                    if nowq is not None:
                        print(
                            f"[{kind}] check-in without the write queue, run {run + 1}", flush=True
                        )
                        runs.setdefault("checkin_no_queue", []).append(
                            sc.checkin_desk(s, nowq, args.checkins, REGISTRARS)
                        )
                if "paced" in wanted:
                    pace = TABLETS / (HALL_VOTES_PER_S * 3) * 1000  # ms between requests
                    votes = min(n, PACED_VOTES)
                    print(f"[{kind}] kiosk votes at the hall's pace, run {run + 1}", flush=True)
                    runs.setdefault("kiosk_paced", []).append(
                        sc.kiosk_votes(s, base, cid, votes, TABLETS, pace_ms=pace)
                    )
                    if ceil is not None:
                        print(f"[{kind}] ceiling at the hall's pace, run {run + 1}", flush=True)
                        runs.setdefault("ceiling_paced", []).append(
                            ceil.votes(votes, TABLETS, pace_ms=pace)
                        )
                    print(f"[{kind}] check-in desk at a desk's pace, run {run + 1}", flush=True)
                    runs.setdefault("checkin_paced", []).append(
                        sc.checkin_desk(
                            s,
                            base,
                            min(args.checkins, PACED_CHECKINS),
                            REGISTRARS,
                            pace_ms=DESK_SCAN_MS,
                        )
                    )
                if "api" in wanted:
                    print(f"[{kind}] API casts, run {run + 1}", flush=True)
                    runs.setdefault("api", []).append(sc.api_casts(s, base, cid, n, TABLETS))
                    if ceil is not None:
                        print(f"[{kind}] ceiling API inserts, run {run + 1}", flush=True)
                        runs.setdefault("ceiling_api", []).append(ceil.api(n, TABLETS))
            for key, rs in runs.items():
                res[key] = summarise_load(rs)
            if "kiosk" in wanted:
                pid = s.poll(cid, 9, 11)
                token = s.issue(pid, 1)[0][0]
                struck = s.candidate_ids(pid)[:2]
                cookie = f"cv_kiosk={s.kiosks[cid]}"
                res["page_bytes"] = sc.page_sizes(base, f"/b/{token}?k={cid}", struck, cookie)
            if ceil is not None:
                res["ceiling_page_bytes"] = ceil.page_bytes()
            if "tablet" in wanted:
                print(f"[{kind}] tablet weight", flush=True)
                pid = s.poll(cid, 9, 11)
                tokens, _ = s.issue(pid, 1)
                res["tablet"] = sc.tablet_weight(base, cid, tokens[0], s.kiosks[cid])
            big = None
            if "counting" in wanted or "printing" in wanted:
                print(f"[{kind}] 200-candidate poll, 2,000 ballots", flush=True)
                big = sc.big_poll(s, base, cid)
        if big is not None and "counting" in wanted:
            print(f"[{kind}] counting", flush=True)
            times = sc.counting(s, big, max(args.runs, 3))
            res["counting"] = {"seconds": statistics.median(times), "raw": times}
        elif big is not None:
            sc.counting(s, big, 1)  # the minutes print a counted poll
        if "printing" in wanted:
            pid = s.poll(cid, 9, 11)
            s.issue(pid, 2000)
            printed_cid, _ = s.congress(2000)
            for job, jargs in (
                ("slips", (pid, 2000)),
                ("cards", (printed_cid,)),
                ("minutes", (big,)),
            ):
                print(f"[{kind}] printing {job}", flush=True)
                prints = [sc.print_job(s, job, *jargs) for _ in range(args.runs)]
                res[f"print_{job}"] = {
                    "seconds": med(prints, "seconds"),
                    "rss_peak_mb": max(r["rss_peak_mb"] for r in prints),
                    "pages": prints[0]["pages"],
                    "raw": prints,
                }
    finally:
        s.drop()
    return res


def table_rows(kind: str, r: dict) -> list[tuple]:
    rows = []

    def add(scenario, metric, value, target=None, ok=None, fmt="{:.1f}"):
        if value is None:
            return
        v = (
            fmt.format(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else str(value)
        )
        rows.append(
            (
                kind,
                scenario,
                metric,
                v,
                target or "",
                "" if ok is None else ("pass" if ok else "FAIL"),
            )
        )

    def load(name: str, x: dict, unit: str, p99_target: float | None, rate_key="units_per_s"):
        add(name, f"{unit}/s", x[rate_key], fmt="{:.0f}")
        add(name, "p50 / p99 latency ms (every request)", f"{x['p50_ms']:.1f} / {x['p99_ms']:.1f}")
        if p99_target is not None:
            add(name, "p99 latency ms", x["p99_ms"], f"< {p99_target:g}", x["p99_ms"] < p99_target)
        if len(x["p99_ms_by_tag"]) > 1:
            add(
                name,
                "p99 ms by step",
                ", ".join(f"{t} {v:.1f}" for t, v in x["p99_ms_by_tag"].items()),
            )
        add(name, "server CPU ms per request", x["cpu_ms_per_req"], fmt="{:.2f}")
        add(name, "errors", x["errors"], "0", x["errors"] == 0, fmt="{}")
        if "stored_equals_successes" in x:
            ok = x["stored_equals_successes"]
            add(
                name,
                "stored = successes",
                f"{'yes' if ok else 'NO'} ({', '.join(map(str, x['stored']))})",
                "yes",
                ok,
            )

    # Saturation (no think time): throughput against the ceiling. Its latency is queueing
    # (Little's law: N clients in a loop wait about N / throughput each), the ceiling's too,
    # so the latency targets are checked at the hall's pace below.
    k, c = r.get("kiosk"), r.get("ceiling")
    if k:
        load(f"kiosk votes, saturation ({TABLETS} tablets: page, review, cast)", k, "votes", None)
    if c:
        load("ceiling, saturation: minimal Flask+SQLAlchemy+WTF, same 3 steps", c, "votes", None)
    if k and c:
        ratio = k["units_per_s"] / c["units_per_s"] * 100
        add("kiosk votes vs ceiling", "throughput", ratio, ">= 60 %", ratio >= 60, fmt="{:.0f} %")
        if k["cpu_ms_per_req"] and c["cpu_ms_per_req"]:
            eff = c["cpu_ms_per_req"] / k["cpu_ms_per_req"] * 100
            add("kiosk votes vs ceiling", "CPU per request (ceiling / kiosk)", eff, fmt="{:.0f} %")
        add(
            "kiosk votes vs ceiling",
            "p99 ms at saturation (kiosk / ceiling)",
            f"{k['p99_ms']:.1f} / {c['p99_ms']:.1f}",
        )
    kp, cp = r.get("kiosk_paced"), r.get("ceiling_paced")
    hall = f"{TABLETS} tablets, {HALL_VOTES_PER_S} votes/s offered"
    if kp:
        load(f"kiosk votes at the hall's pace ({hall})", kp, "votes", 150)
    if cp:
        load(f"ceiling at the hall's pace ({hall})", cp, "votes", None)
    cip = r.get("checkin_paced")
    if cip:
        desks = f"{REGISTRARS} registrars, a card a second each"
        load(f"check-in desk at a desk's pace ({desks})", cip, "check-ins", 50, "rps")
    pb, cpb = r.get("page_bytes"), r.get("ceiling_page_bytes")
    if pb and cpb:
        add(
            "page bytes (page / review / cast)",
            "kiosk vs ceiling",
            f"{pb['page']:,} / {pb['review']:,} / {pb['cast']:,} vs "
            f"{cpb['page']:,} / {cpb['review']:,} / {cpb['cast']:,}",
        )
    nq = r.get("kiosk_no_queue")
    if nq:
        load("kiosk votes WITHOUT the SQLite write queue", nq, "votes", None)
        if k:
            add(
                "write queue",
                "kiosk votes/s with / without",
                f"{k['units_per_s']:.0f} / {nq['units_per_s']:.0f}",
            )
            add(
                "write queue",
                "kiosk p99 ms with / without",
                f"{k['p99_ms']:.1f} / {nq['p99_ms']:.1f}",
            )
    ci = r.get("checkin")
    if ci:
        name = f"check-in desk, saturation ({REGISTRARS} registrars, cookie + CSRF)"
        load(name, ci, "check-ins", None, "rps")
    cq = r.get("checkin_no_queue")
    if cq:
        load("check-in desk WITHOUT the SQLite write queue", cq, "check-ins", None, "rps")
    a, ca = r.get("api"), r.get("ceiling_api")
    if a:
        load(f"API cast, saturation ({TABLETS} clients)", a, "casts", None, "rps")
    if ca:
        load("ceiling: minimal Flask+SQLAlchemy JSON insert", ca, "inserts", None, "rps")
    if a and ca:
        ratio = a["rps"] / ca["rps"] * 100
        add("API cast vs ceiling", "throughput", ratio, ">= 60 %", ratio >= 60, fmt="{:.0f} %")
    for job, label, limit in (
        ("print_slips", "slips, 2,000 ballots", 8),
        ("print_cards", "cards, 2,000 delegates", 8),
        ("print_minutes", "minutes, 200 candidates x 2,000 ballots", 2),
    ):
        p = r.get(job)
        if p:
            add(
                f"printing: {label}",
                "seconds",
                p["seconds"],
                f"< {limit}",
                p["seconds"] < limit,
                fmt="{:.2f}",
            )
            if job != "print_minutes":
                add(
                    f"printing: {label}",
                    "peak RSS MB",
                    p["rss_peak_mb"],
                    "< 600",
                    p["rss_peak_mb"] < 600,
                    fmt="{:.0f}",
                )
    cnt = r.get("counting")
    if cnt:
        ms = cnt["seconds"] * 1000
        add("counting 2,000 x 200 from DB", "ms", ms, "< 150", ms < 150)
    tab = r.get("tablet")
    if tab:
        for page in ("kiosk", "ballot"):
            t = tab[page]
            kb = t["bytes"] / 1024
            add(f"tablet: {page} page", "KB transferred", kb, "<= 150", kb <= 150)
            add(
                f"tablet: {page} page",
                "other hosts",
                ", ".join(t["other_hosts"]) or "none",
                "none",
                not t["other_hosts"],
            )
    return rows


def write_results(results: dict) -> tuple[Path, Path]:
    RESULTS.mkdir(exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")
    jpath = RESULTS / f"{stamp}.json"
    jpath.write_text(json.dumps(results, indent=1, default=str))
    m = results["machine"]
    lines = [
        f"# Benchmark results {results['started']}",
        "",
        f"Machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}, SQLite {m['sqlite']}, "
        f"PostgreSQL {m.get('postgresql')}, gunicorn {m.get('gunicorn')}, {m.get('wrk')}. "
        f"Databases: {', '.join(m['databases'])}. Runs per scenario: {results['runs']} "
        f"(median); {results['votes']} votes / casts and {results['checkins']} check-ins per run. "
        f"Server: gunicorn {results['settings_text']}, the same for the app and the ceiling. "
        f"Load average at start {m.get('loadavg_start')}, at end {results.get('loadavg_end')} "
        "(other work on the machine makes wall-clock figures wobble; server CPU per "
        "request does not).",
        "",
        "| database | scenario | metric | value | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for kind, r in results["databases"].items():
        if "error" in r:
            lines.append(f"| {kind} | (failed) | {r['error'][:120]} | | | FAIL |")
            continue
        for row in table_rows(kind, r):
            lines.append("| " + " | ".join(row) + " |")
    mpath = RESULTS / "latest.md"
    mpath.write_text("\n".join(lines) + "\n")
    return jpath, mpath


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one run of each scenario")
    ap.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    ap.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    ap.add_argument("--only", default="", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    ap.add_argument("--votes", type=int, default=2000, help="kiosk votes / API casts per run")
    ap.add_argument("--checkins", type=int, default=2000, help="check-ins per run")
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
        args.votes = min(args.votes, 600)
        args.checkins = min(args.checkins, 800)
    needs = {"wrk": "wrk"}
    if args.db != "sqlite":
        needs["createdb"] = "postgresql-client"
    missing = [pkg for tool, pkg in needs.items() if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench/run.py needs {', '.join(missing)}: apt-get install {' '.join(missing)}")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    settings = {"workers": args.workers, "threads": args.threads, "worker_class": "gthread"}
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    results = {
        "started": started,
        "runs": args.runs,
        "machine": {**lib.machine_info(kinds), "loadavg_start": lib.loadavg()},
        "settings": settings,
        "votes": args.votes,
        "checkins": args.checkins,
        "databases": {},
        "settings_text": f"-k gthread -w {args.workers} --threads {args.threads}"
        + (" -c gunicorn.conf.py" if lib.gunicorn_conf() else ""),
    }
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / f"gunicorn-{started.replace(':', '')}.log"
    t0 = time.time()
    for kind in kinds:
        try:
            results["databases"][kind] = run_kind(kind, args, settings, log)
        except Exception as exc:  # report what ran; a failed scenario is a finding, not a crash
            traceback.print_exc()
            results["databases"][kind] = {"error": f"{type(exc).__name__}: {exc}"}
    results["elapsed_s"] = time.time() - t0
    results["loadavg_end"] = lib.loadavg()
    jpath, mpath = write_results(results)
    print(mpath.read_text())
    print(f"wrote {jpath} and {mpath}")


if __name__ == "__main__":
    main()
