"""Run the benchmark suite: `.venv/bin/python bench/run.py [--db sqlite|postgresql|both]
[--runs 3] [--quick] [--workers W --threads T] [--only casting,checkin,...]`.

Every scenario runs `--runs` times (1 with --quick) and the median is reported. Results go to
bench/results/<UTC timestamp>.json and bench/results/latest.md (a markdown table: database,
scenario, metric, value, target, pass/fail, plus the machine). See bench/README.md.
"""

from __future__ import annotations

import argparse
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
SCENARIOS = ("checkin", "casting", "ceiling", "tablet", "counting", "printing")
# The server settings chosen for 2 cores (see README: the sweep).
DEFAULT_WORKERS, DEFAULT_THREADS = 2, 4


def med(runs: list[dict], key: str):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarise_load(runs: list[dict]) -> dict:
    statuses: dict[str, int] = {}
    for r in runs:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    errors = sum(v for k, v in statuses.items() if not k.startswith("2")) + sum(
        r["sent"] - r["completed"] for r in runs
    )
    out = {
        "runs": len(runs),
        "rps": med(runs, "rps"),
        "p50_ms": med(runs, "p50_ms"),
        "p90_ms": med(runs, "p90_ms"),
        "p99_ms": med(runs, "p99_ms"),
        "max_ms": max((r["max_ms"] for r in runs), default=None),
        "cpu_ms_per_req": med(runs, "server_cpu_ms_per_req"),
        "loadavg": [r["loadavg_before"] for r in runs],
        "statuses": statuses,
        "errors": errors,
        "raw": runs,
    }
    if all("stored" in r for r in runs):
        out["stored_equals_successes"] = all(
            r["stored"] == r["statuses"].get("201", 0) + r["statuses"].get("200", 0) for r in runs
        )
        out["stored"] = [r["stored"] for r in runs]
    return out


def run_kind(kind: str, args, settings: dict, log: Path) -> dict:
    res: dict = {"database": kind, "gunicorn": settings}
    wanted = set(args.only.split(",")) if args.only else set(SCENARIOS)
    print(f"[{kind}] setting up", flush=True)
    s = sc.Setup(kind)
    try:
        with lib.gunicorn("bench.bench_wsgi:app", s.env(), **settings, log=log) as base:
            ci_runs, ca_runs, cid = [], [], None
            for run in range(args.runs):
                if "checkin" in wanted or "casting" in wanted or cid is None:
                    print(f"[{kind}] check-in run {run + 1}", flush=True)
                    r = sc.checkin(s, base)
                    cid = r["cid"]
                    ci_runs.append(r)
                if "casting" in wanted:
                    print(f"[{kind}] casting run {run + 1}", flush=True)
                    ca_runs.append(sc.casting(s, base, cid))
            if "checkin" in wanted:
                res["checkin"] = summarise_load(ci_runs)
            if "casting" in wanted:
                res["casting"] = summarise_load(ca_runs)
                res["casting"]["issue_2000_api_s"] = med(ca_runs, "issue_api_s")
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
            for job, jargs in (
                ("slips", (ca_runs[-1]["pid"] if ca_runs else big, 2000)),
                ("cards", (cid,)),
                ("minutes", (big,)),
            ):
                if job == "minutes" and big is None:
                    continue
                print(f"[{kind}] printing {job}", flush=True)
                runs = [sc.print_job(s, job, *jargs) for _ in range(args.runs)]
                res[f"print_{job}"] = {
                    "seconds": med(runs, "seconds"),
                    "rss_peak_mb": max(r["rss_peak_mb"] for r in runs),
                    "pages": runs[0]["pages"],
                    "raw": runs,
                }
    finally:
        s.drop()
    if "ceiling" in wanted:
        for which in ("plain", "flask"):
            print(f"[{kind}] ceiling {which}", flush=True)
            res[f"ceiling_{which}"] = summarise_load(sc.ceiling(kind, which, settings, args.runs))
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

    ca = r.get("casting")
    cp, cf = r.get("ceiling_plain"), r.get("ceiling_flask")
    if ca:
        add("casting", "ballots/s", ca["rps"], fmt="{:.0f}")
        add("casting", "server CPU ms per ballot", ca["cpu_ms_per_req"], fmt="{:.2f}")
        add("casting", "p50 latency ms", ca["p50_ms"])
        add("casting", "p99 latency ms", ca["p99_ms"], "< 150", ca["p99_ms"] < 150)
        add("casting", "errors", ca["errors"], "0", ca["errors"] == 0, fmt="{}")
        add(
            "casting",
            "stored = successes",
            ca.get("stored_equals_successes"),
            "yes",
            ca.get("stored_equals_successes"),
        )
        add(
            "casting",
            "issue 2,000 (API, slips PDF incl.) s",
            ca.get("issue_2000_api_s"),
            fmt="{:.2f}",
        )
    for name, c in (("ceiling: plain WSGI insert", cp), ("ceiling: Flask+SQLAlchemy insert", cf)):
        if c:
            add(name, "inserts/s", c["rps"], fmt="{:.0f}")
            add(name, "server CPU ms per insert", c["cpu_ms_per_req"], fmt="{:.2f}")
            add(name, "p50 / p99 ms", f"{c['p50_ms']:.1f} / {c['p99_ms']:.1f}")
            add(name, "errors", c["errors"], fmt="{}")
            if ca:
                ratio = ca["rps"] / c["rps"] * 100
                add(
                    "casting",
                    f"% of {name.split(': ')[1]} (throughput)",
                    ratio,
                    ">= 60 %",
                    ratio >= 60,
                    fmt="{:.0f} %",
                )
                if ca.get("cpu_ms_per_req") and c.get("cpu_ms_per_req"):
                    eff = c["cpu_ms_per_req"] / ca["cpu_ms_per_req"] * 100
                    add(
                        "casting",
                        f"% of {name.split(': ')[1]} (CPU per request)",
                        eff,
                        fmt="{:.0f} %",
                    )
    ci = r.get("checkin")
    if ci:
        add("check-in (16 registrars)", "check-ins/s", ci["rps"], fmt="{:.0f}")
        add(
            "check-in (16 registrars)",
            "server CPU ms per check-in",
            ci["cpu_ms_per_req"],
            fmt="{:.2f}",
        )
        add("check-in (16 registrars)", "p50 latency ms", ci["p50_ms"])
        add("check-in (16 registrars)", "p99 latency ms", ci["p99_ms"], "< 50", ci["p99_ms"] < 50)
        add("check-in (16 registrars)", "errors", ci["errors"], "0", ci["errors"] == 0, fmt="{}")
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
            add(f"printing: {label}", "pages", p["pages"], fmt="{}")
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
        f"(median). Server: gunicorn {results['settings_text']}. "
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
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
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
