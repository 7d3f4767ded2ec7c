"""aural listen results: hand-computed means, intervals, exclusions and binomial tests."""

import json

import pytest

from aural.listening.results import ab_summary, mushra_summary


def _mushra_key():
    ids = {}
    for trial in ("t01", "t02"):
        for token, system in (("h", "hidden reference"), ("x", "aural"), ("y", "input")):
            ids[f"{trial}/{token}{trial}"] = {"system": system, "item": trial}
    return {"test_id": "abc", "kind": "mushra", "ids": ids}


def _sheet(listener, scores_by_trial):
    return {"test_id": "abc", "listener": listener,
            "answers": [{"trial": trial, "scores": {f"{k}{trial}": v for k, v in scores.items()}}
                        for trial, scores in scores_by_trial.items()]}


def test_mushra_means_intervals_and_post_screening():
    good1 = _sheet("ann", {"t01": {"h": 100, "x": 80, "y": 30}, "t02": {"h": 95, "x": 70, "y": 20}})
    good2 = _sheet("bob", {"t01": {"h": 100, "x": 90, "y": 40}, "t02": {"h": 100, "x": 60, "y": 30}})
    # Rates the hidden reference below 90 in 1 of 2 items (50 % > 15 %): excluded.
    careless = _sheet("cid", {"t01": {"h": 50, "x": 100, "y": 100}, "t02": {"h": 100, "x": 0, "y": 0}})
    summary = mushra_summary(_mushra_key(), [good1, good2, careless])
    assert summary.excluded == ["cid"] and summary.listeners == ["ann", "bob", "cid"]
    rows = {row["system"]: row for row in summary.table}
    # aural: 80, 70, 90, 60 -> mean 75, sd 12.9099, t(0.975, 3) = 3.182446 -> 20.5426
    assert rows["aural"]["mean"] == pytest.approx(75.0)
    assert rows["aural"]["ci95"] == pytest.approx(3.182446 * 12.909944 / 2.0, rel=1e-5)
    assert rows["input"]["mean"] == pytest.approx(30.0)
    assert rows["hidden reference"]["mean"] == pytest.approx(98.75)
    assert rows["aural"]["n"] == 4


def test_ab_counts_shares_and_binomial_test():
    ids = {}
    for number in range(1, 11):
        trial = f"t{number:02d}"
        ids[f"{trial}/a"] = {"system": "aural", "item": "x", "side": "A"}
        ids[f"{trial}/b"] = {"system": "input", "item": "x", "side": "B"}
    key = {"test_id": "abc", "kind": "ab", "ids": ids}
    choices = ["A"] * 8 + ["B", "none"]
    sheet = {"test_id": "abc", "listener": "ann",
             "answers": [{"trial": f"t{i + 1:02d}", "choice": c} for i, c in enumerate(choices)]}
    row = ab_summary(key, [sheet]).table[0]
    assert (row["first"], row["first_preferred"], row["second_preferred"], row["no_preference"]) \
        == ("aural", 8, 1, 1)
    assert row["first_share"] == pytest.approx(0.8)
    # Two-sided binomial test of 8 of 9 decided answers: 2 * (9 + 1) / 2**9 = 0.0390625.
    assert row["p_value"] == pytest.approx(0.0390625)


def test_answers_of_another_test_are_refused(tmp_path):
    from aural.errors import AuralError

    with pytest.raises(AuralError, match="do not belong"):
        mushra_summary(_mushra_key(), [{"test_id": "zzz", "listener": "x", "answers": []}])


def test_cli_writes_table_plot_and_json(tmp_path):
    from aural.cli import main

    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "key.json").write_text(json.dumps(_mushra_key()))
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps(_sheet("ann", {"t01": {"h": 100, "x": 80, "y": 30},
                                                 "t02": {"h": 95, "x": 70, "y": 20}})))
    main(["listen", "results", str(answers), "--test", str(tmp_path / "test"), "--out",
          str(tmp_path / "out")])
    assert "| aural | 75.0 |" in (tmp_path / "out" / "results.md").read_text()
    assert (tmp_path / "out" / "results.png").stat().st_size > 1000
