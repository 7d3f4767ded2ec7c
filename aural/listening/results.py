"""``aural listen results``: what the listeners' answer files say, with the statistics.

- A/B: for each pair of systems, how often each was preferred and how often neither; a
  two-sided binomial test (p = 0.5) on the decided answers ("no preference" left out).
- MUSHRA: the mean score and its 95 % confidence interval (Student's t over all the
  scores of the included listeners, every item) per system, after the post-screening of
  ITU-R BS.1534-3: a listener who rates the hidden reference below 90 in more than 15 %
  of the items is excluded, and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aural.errors import AuralError
from aural.listening.build import HIDDEN_REFERENCE

#: BS.1534 post-screening: hidden reference below this score ...
SCREEN_SCORE = 90.0
#: ... in more than this share of items excludes the listener.
SCREEN_SHARE = 0.15


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise AuralError(f"not a readable JSON file ({exc})", path=path) from None


@dataclass
class Summary:
    """Everything ``results`` reports."""

    kind: str
    listeners: list[str]
    excluded: list[str] = field(default_factory=list)
    table: list[dict[str, Any]] = field(default_factory=list)


def _decode(key: dict[str, Any], answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for answer in answers:
        if answer.get("test_id") != key["test_id"]:
            raise AuralError(f"answers of test {answer.get('test_id')!r} do not belong to this "
                             f"test ({key['test_id']})")
    return answers


def mushra_summary(key: dict[str, Any], answers: list[dict[str, Any]]) -> Summary:
    """Post-screened means and 95 % confidence intervals per system."""
    from scipy import stats

    ids = key["ids"]
    per_listener: dict[str, dict[str, list[float]]] = {}
    for sheet in _decode(key, answers):
        scores: dict[str, list[float]] = {}
        for trial in sheet["answers"]:
            for token, score in (trial.get("scores") or {}).items():
                system = ids[f"{trial['trial']}/{token}"]["system"]
                scores.setdefault(system, []).append(float(score))
        per_listener[sheet["listener"]] = scores
    excluded = []
    for listener, scores in per_listener.items():
        hidden = scores.get(HIDDEN_REFERENCE, [])
        if hidden and np.mean(np.asarray(hidden) < SCREEN_SCORE) > SCREEN_SHARE:
            excluded.append(listener)
    kept = [s for listener, s in per_listener.items() if listener not in excluded]
    systems = sorted({system for scores in kept for system in scores})
    table = []
    for system in systems:
        values = np.concatenate([np.asarray(s.get(system, []), float) for s in kept])
        n = len(values)
        half = (float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
                if n > 1 else float("nan"))
        table.append({"system": system, "mean": float(values.mean()), "ci95": half, "n": n})
    table.sort(key=lambda row: -row["mean"])
    return Summary("mushra", sorted(per_listener), sorted(excluded), table)


def ab_summary(key: dict[str, Any], answers: list[dict[str, Any]]) -> Summary:
    """Preference counts and a binomial test per pair of systems."""
    from scipy import stats

    ids = key["ids"]
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for sheet in _decode(key, answers):
        for trial in sheet["answers"]:
            choice = trial.get("choice")
            if choice is None:
                continue
            sides = {entry["side"]: entry["system"] for name, entry in ids.items()
                     if name.startswith(trial["trial"] + "/")}
            pair = tuple(sorted(sides.values()))
            row = counts.setdefault(pair, {pair[0]: 0, pair[1]: 0, "none": 0})
            row["none" if choice == "none" else sides[choice]] += 1
    table = []
    for (first, second), row in sorted(counts.items()):
        decided = row[first] + row[second]
        p = float(stats.binomtest(row[first], decided, 0.5).pvalue) if decided else float("nan")
        total = decided + row["none"]
        table.append({"pair": f"{first} vs {second}", "first": first, "second": second,
                      "first_preferred": row[first], "second_preferred": row[second],
                      "no_preference": row["none"],
                      "first_share": row[first] / total if total else float("nan"),
                      "second_share": row[second] / total if total else float("nan"),
                      "p_value": p})
    listeners = sorted({sheet["listener"] for sheet in answers})
    return Summary("ab", listeners, [], table)


def summarise(test_dir: str | Path, answer_files: list[str | Path]) -> Summary:
    """Decode the answer files with the test's key and summarise them."""
    key = _load(Path(test_dir) / "key.json")
    answers = [_load(path) for path in answer_files]
    if not answers:
        raise AuralError("give at least one answers file")
    return mushra_summary(key, answers) if key["kind"] == "mushra" else ab_summary(key, answers)


def markdown(summary: Summary) -> str:
    """The summary as a Markdown table."""
    lines = [f"Listeners: {len(summary.listeners)}"
             + (f"; excluded by BS.1534 post-screening: {len(summary.excluded)} "
                f"({', '.join(summary.excluded)})" if summary.kind == "mushra" else ""), ""]
    if summary.kind == "mushra":
        lines += ["| system | mean score | 95 % CI | scores |", "|---|---|---|---|"]
        lines += [f"| {r['system']} | {r['mean']:.1f} | ±{r['ci95']:.1f} | {r['n']} |"
                  for r in summary.table]
    else:
        lines += ["| pair | first preferred | second preferred | no preference | p (binomial) |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['pair']} | {r['first_preferred']} ({r['first_share']:.0%}) | "
                  f"{r['second_preferred']} ({r['second_share']:.0%}) | {r['no_preference']} | "
                  f"{r['p_value']:.3f} |" for r in summary.table]
    return "\n".join(lines) + "\n"


def plot(summary: Summary, path: str | Path) -> None:
    """Means with their intervals (MUSHRA), or preference shares per pair (A/B), as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(8, 0.5 * max(len(summary.table), 2) + 1.5))
    if summary.kind == "mushra":
        names = [r["system"] for r in summary.table]
        axis.barh(names, [r["mean"] for r in summary.table],
                  xerr=[r["ci95"] for r in summary.table], color="#4a8", capsize=4)
        axis.set_xlim(0, 100)
        axis.set_xlabel("MUSHRA score (mean, 95 % CI)")
    else:
        names = [r["pair"] for r in summary.table]
        first = np.array([r["first_share"] for r in summary.table])
        second = np.array([r["second_share"] for r in summary.table])
        axis.barh(names, first, color="#4a8", label="first preferred")
        axis.barh(names, 1 - first - second, left=first, color="#ccc", label="no preference")
        axis.barh(names, second, left=1 - second, color="#48a", label="second preferred")
        axis.set_xlim(0, 1)
        axis.legend(fontsize=8)
    axis.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
