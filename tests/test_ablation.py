"""The ablation table: paired differences with a known answer, and the table it writes."""

import numpy as np
import pytest

from aural.ablation import markdown_ablation, paired_difference, switches_changed


def test_paired_difference_matches_a_hand_computed_t_interval():
    baseline = [1.0, 2.0, 3.0, 4.0]
    variant = [1.5, 2.7, 3.4, 4.6]             # differences 0.5, 0.7, 0.4, 0.6
    result = paired_difference(baseline, variant)
    assert result["n"] == 4 and result["mean"] == pytest.approx(0.55)
    # t(0.975, 3) = 3.182; sd = 0.1291; half width = 3.182 * 0.1291 / 2 = 0.2054
    assert result["high"] - result["mean"] == pytest.approx(0.2054, abs=1e-3)
    assert result["low"] > 0                    # consistently better: the interval excludes 0


def test_paired_difference_skips_files_without_a_finite_score():
    result = paired_difference([1.0, np.nan, 3.0], [2.0, 5.0, np.inf])
    assert result["n"] == 1 and result["mean"] == 1.0 and np.isnan(result["low"])


def test_switches_changed_names_only_what_differs():
    base = {"condition_on_pitch": False, "learning_rate": 0.002, "max_minutes": 28}
    variant = {"condition_on_pitch": True, "learning_rate": 0.002, "max_minutes": 10}
    assert switches_changed(base, variant) == {"condition_on_pitch": True}


def test_markdown_table_shows_baseline_means_and_variant_changes():
    change = {"mean": 0.12, "low": 0.02, "high": 0.22, "n": 10}
    result = {"stage": "noise_reduction", "baseline": "default", "metrics": ["pesq_wb", "lsd"],
              "measured": "now", "baseline_best_validation_score": 4.8,
              "rows": [{"variant": "default", "switches": {}, "training_minutes": 28.0,
                        "training_steps": 2451, "files": 10, "means": {"pesq_wb": 1.8, "lsd": 9.0},
                        "change": None},
                       {"variant": "pitch", "switches": {"condition_on_pitch": True},
                        "training_minutes": 28.0, "training_steps": 2300, "files": 10,
                        "means": {"pesq_wb": 1.9, "lsd": 8.9},
                        "change": {"pesq_wb": change, "lsd": change}}]}
    text = markdown_ablation(result)
    assert "| **default** (baseline) | - | 28 min, 2451 steps | 1.800 | 9.000 |" in text
    assert ("| pitch | condition_on_pitch=true | 28 min, 2300 steps; never reached the baseline's "
            "validation score | +0.12 [+0.02, +0.22]") in text
    assert "lsd (lower is better)" in text and "pesq_wb (higher is better)" in text
    # A baseline whose sidecar kept no validation score: no claim about reaching it.
    text = markdown_ablation({**result, "baseline_best_validation_score": None})
    assert "| pitch | condition_on_pitch=true | 28 min, 2300 steps | +0.12" in text
    assert "never reached" not in text


def test_minutes_to_reach_reads_the_training_history():
    from aural.ablation import minutes_to_reach

    history = [{"val_score": 1.0, "minutes": 3.0}, {"val_score": 2.5, "minutes": 6.0},
               {"val_score": 2.4, "minutes": 9.0}]
    assert minutes_to_reach(history, 2.0) == 6.0
    assert minutes_to_reach(history, 3.0) is None


def test_a_variant_measured_in_an_earlier_session_is_reused_without_its_model(tmp_path):
    import json

    from aural.ablation import measured
    from aural.errors import AuralError

    folder = tmp_path / "pitch"
    folder.mkdir()
    report = {"items": 3, "summary": {"AURAL": {"pesq_wb": 2.0}}}
    sidecar = {"stage": "noise_reduction", "config": {"condition_on_pitch": True}}
    (folder / "report.json").write_text(json.dumps(report))
    with pytest.raises(AuralError, match="no earlier measurement"):
        measured("noise_reduction", tmp_path / "gone.h5", folder)   # report without sidecar
    (folder / "sidecar.json").write_text(json.dumps(sidecar))
    assert measured("noise_reduction", tmp_path / "gone.h5", folder) == (report, sidecar)


def test_kept_step_is_the_best_validated_epoch():
    from aural.ablation import kept_step

    history = [{"epoch": 1, "step": 200, "val_score": 1.8},
               {"epoch": 2, "step": 400, "val_score": 0.475},
               {"epoch": 3, "step": 600, "val_score": 0.807}]
    assert kept_step({"best_validation_score": 1.799975, "history": history}) == 200
    assert kept_step({"best_validation_score": None, "history": history}) is None
    # Recorded by the run (a val_loss-selected run's best score is no val_score): its best
    # epoch, or 0 for a fine-tune that kept the model it started from.
    assert kept_step({"best_validation_score": -0.4, "best_epoch": 3, "history": history}) == 600
    assert kept_step({"best_validation_score": 2.0, "best_epoch": 0, "history": history}) == 0


def test_an_earlier_report_is_reused_only_if_it_holds_every_metric_reported_now(
        tmp_path, monkeypatch):
    import json

    import aural.evaluation
    from aural.ablation import evaluated_report
    from aural.stages import stage_class

    model = tmp_path / "gan.h5"
    model.write_bytes(b"weights")
    (tmp_path / "gan.json").write_text(json.dumps({"sha256": "abc"}))
    metrics = list(stage_class("frequency_generation").report_metrics)
    report = {"model_sha256": "abc", "metrics": metrics}
    (tmp_path / "report.json").write_text(json.dumps(report))
    monkeypatch.setattr(aural.evaluation, "evaluate_stage", lambda *a, **k: "measured anew")
    monkeypatch.setattr(stage_class("frequency_generation"), "load", classmethod(lambda c, p: c))
    assert evaluated_report("frequency_generation", model, tmp_path) == report
    (tmp_path / "report.json").write_text(json.dumps({**report, "metrics": metrics[:-1]}))
    assert evaluated_report("frequency_generation", model, tmp_path) == "measured anew"
