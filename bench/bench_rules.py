"""Benchmark of the rules engine: count 2,000 ballots for 200 candidates (100 seats).

Run: .venv/bin/python bench/bench_rules.py [--runs N]. Prints the median of N runs of
``count`` (validation, tally, decision, checks and digest included) and of the digest alone.
Not a test: the figure is reported in the issue note.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from congress_vote.rules import (
    Attendance,
    Ballot,
    PollSpec,
    ballot_digest,
    count,
    settings_for,
)


def make_ballots(n_ballots: int, candidates: list[int], seats: int, seed: int) -> list[Ballot]:
    """Random valid ballots keeping at most ``seats`` names, plus 20 paper over-votes.

    The first 40 % of the candidates are favoured so that some pass the threshold.
    """
    rng = random.Random(seed)
    cut = len(candidates) * 2 // 5
    popular, rest = candidates[:cut], candidates[cut:]
    ballots = []
    for _ in range(n_ballots - 20):
        kept = rng.sample(popular, rng.randint(cut // 2, cut))
        kept += rng.sample(rest, rng.randint(0, min(len(rest), seats - len(kept))))
        ballots.append(Ballot(kept=tuple(kept)))
    ballots += [
        Ballot(kept=tuple(rng.sample(candidates, seats + 1)), source="paper") for _ in range(20)
    ]
    return ballots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--ballots", type=int, default=2000)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seats", type=int, default=100)
    args = parser.parse_args()

    candidates = list(range(1, args.candidates + 1))
    spec = PollSpec("committee", args.seats, 0, tuple(candidates))
    ballots = make_ballots(args.ballots, candidates, args.seats, seed=1)
    attendance = Attendance(args.ballots + 10, {"excused": 5}, args.ballots + 5, args.ballots)
    settings = settings_for("vn-party")
    kept_total = sum(len(b.kept or ()) for b in ballots)

    times, digest_times = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = count(spec, attendance, ballots, settings)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ballot_digest(spec, settings, ballots)
        digest_times.append(time.perf_counter() - t0)
    print(
        f"{args.ballots} ballots x {args.candidates} candidates, {args.seats} seats, "
        f"{kept_total} names kept in all; {args.runs} runs"
    )
    print(
        f"count():         median {statistics.median(times) * 1000:.1f} ms "
        f"(min {min(times) * 1000:.1f} ms)"
    )
    print(f"  of which digest median {statistics.median(digest_times) * 1000:.1f} ms")
    print(f"elected {len(result.elected_order)}, ties {result.ties}, checks_ok {result.checks_ok}")


if __name__ == "__main__":
    main()
