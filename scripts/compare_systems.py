"""Paired differences between two systems of `aural evaluate` reports, file by file.

    python scripts/compare_systems.py REPORT "SYSTEM A" "SYSTEM B" [--b-report OTHER]
        [--group-contains TEXT] [--metric M ...]

Prints, per metric, the mean of A - B over the files both have, its standard error, its
95 % interval (paired t, as `scripts/ablation.py`) and on how many files A is above or
below B. B comes from ``--b-report`` when given (e.g. an older report from `git show`).
Example: the retrained generator in the chain against the one it replaced,
    git show 28d12c9:reports/pipeline/report.json > /tmp/old.json
    python scripts/compare_systems.py reports/pipeline/report.json \
        "AURAL with frequency_generation" "AURAL with frequency_generation" --b-report /tmp/old.json
"""

import argparse
import json
from pathlib import Path

import numpy as np

from aural.ablation import paired_difference

METRICS = ("pesq_wb", "stoi", "si_sdr", "lsd", "lsd_above_4khz", "visqol", "dnsmos_ovrl",
           "dnsmos_sig", "dnsmos_bak", "tonal_excess_db")


def rows_of(report: Path, system: str, group_contains: str) -> dict[str, dict]:
    """The report's rows of exactly ``system``, by file, in groups containing the text."""
    return {row["file"]: row for row in json.loads(report.read_text())["files"]
            if row["system"] == system and group_contains in row["group"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("system_a")
    parser.add_argument("system_b")
    parser.add_argument("--b-report", type=Path, default=None)
    parser.add_argument("--group-contains", default="")
    parser.add_argument("--metric", action="append", default=None)
    args = parser.parse_args()
    a = rows_of(args.report, args.system_a, args.group_contains)
    b = rows_of(args.b_report or args.report, args.system_b, args.group_contains)
    files = sorted(set(a) & set(b))
    print(f"{len(files)} files: {args.system_a!r} minus {args.system_b!r}")
    for metric in args.metric or METRICS:
        pairs = [(b[f].get(metric), a[f].get(metric)) for f in files]
        pairs = [(x, y) for x, y in pairs if x is not None and y is not None
                 and np.isfinite(x) and np.isfinite(y)]
        if len(pairs) < 2:
            continue
        diff = np.array([y - x for x, y in pairs])
        stats = paired_difference([x for x, _ in pairs], [y for _, y in pairs])
        print(f"{metric:16s} {stats['mean']:+.3f}  s.e. {diff.std(ddof=1) / np.sqrt(len(diff)):.3f}"
              f"  95 % [{stats['low']:+.3f}, {stats['high']:+.3f}]  above on {(diff > 0).sum()},"
              f" below on {(diff < 0).sum()} of {len(diff)}  median {np.median(diff):+.3f}")


if __name__ == "__main__":
    main()
