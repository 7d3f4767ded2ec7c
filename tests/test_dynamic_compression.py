"""dynamic_compression (built, not shipped yet): its pairs, its targets and a few steps of training."""

import numpy as np
import pytest

from aural.stages.dynamic_compression import MAX_GAIN_DB, DynamicCompression, _damage

TINY = {"max_files_per_kind": 6, "segment_seconds": 2.0, "batch_size": 4,
        "network": {"channels": [8, 8, 8, 8], "bottleneck_units": 16, "dilations": [1, 2]}}


@pytest.fixture(scope="module")
def stage_and_pool():
    stage = DynamicCompression(DynamicCompression.config_class().with_overrides(**TINY))
    return stage, stage.load_training_pool("train")


def test_pairs_keep_the_degraded_level_and_the_target_says_the_gain(stage_and_pool):
    stage, pool = stage_and_pool
    rng = np.random.default_rng(0)
    for _ in range(6):
        pair = stage.make_pair(rng, pool)
        assert pair.degraded.shape == pair.target.shape
        rms = lambda x: np.sqrt(np.mean(x ** 2))
        assert rms(pair.target) == pytest.approx(rms(pair.degraded), rel=1e-3)
        x, y = stage.example(pair)
        assert x.shape[1] == stage.bands.n_features and y.shape[:2] == x.shape[:2]
        assert np.all(np.abs(y[..., 0]) <= 1.0)
    # A gain of +6 dB on every band is a target of 6/30 in tanh units.
    quiet = pair.target * 0.5
    from aural.stages.base import TrainingPair

    _, y = stage.example(TrainingPair(quiet, quiet * 2.0))
    loud = y[..., 1] == 1.0
    assert np.median(y[..., 0][loud]) == pytest.approx(20 * np.log10(2.0) / MAX_GAIN_DB, abs=0.01)


def test_test_damage_is_what_it_says():
    from aural.data.simulator import simulate

    rng = np.random.default_rng(1)
    t = np.arange(48_000 * 2) / 48_000
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    clipped, params = simulate(tone, 48_000, rng, _damage("clipping 5%"), noises=[], rirs=[])
    assert params["applied"] == ["clipping"]
    assert abs(np.mean(np.abs(clipped) >= 0.999 * np.max(np.abs(clipped))) - 0.05) < 0.01


def test_a_few_steps_lower_the_loss(stage_and_pool):
    import keras

    stage, pool = stage_and_pool
    rng = np.random.default_rng(2)
    examples = [stage.example(stage.make_pair(rng, pool)) for _ in range(8)]
    x, y = np.stack([e[0] for e in examples]), np.stack([e[1] for e in examples])
    keras.utils.set_random_seed(0)
    model = stage.training_model()
    before = float(model.evaluate(x, y, verbose=0))
    for _ in range(60):
        model.train_on_batch(x, y)
    assert float(model.evaluate(x, y, verbose=0)) < 0.8 * before


def test_declip_projection_never_changes_an_unclipped_sample():
    from aural.baselines.dynamics import clipped_mask, spline_declip

    t = np.arange(48_000) / 48_000
    rng = np.random.default_rng(4)
    clean = (np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
             + 0.05 * rng.standard_normal(len(t)))
    clipped = np.clip(clean, -0.7, 0.7).astype(np.float32)
    mask = clipped_mask(clipped)
    assert 0.01 < mask.mean() < 0.3
    repaired = spline_declip(clipped, 48_000)
    np.testing.assert_array_equal(repaired[~mask], clipped[~mask])
    # A clipped sample can only move outwards, beyond the clip level.
    assert np.all(np.abs(repaired[mask]) >= np.abs(clipped[mask]))
    # On a smooth signal the bridged peaks are closer to the truth than the flat tops.
    smooth = np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    flat = np.clip(smooth, -0.7, 0.7).astype(np.float32)
    bridged = spline_declip(flat, 48_000)
    assert np.mean((bridged - smooth) ** 2) < 0.5 * np.mean((flat - smooth) ** 2)


def test_shipped_model_undoes_agc_on_a_held_out_file(shared_data):
    """DAPS m2 (held out) through the test set's AGC damage, as `aural evaluate` builds it."""
    from aural.audio_io import load_audio
    from aural.data.simulator import simulate
    from aural.metrics import short_term_loudness_error_lu, si_sdr_db
    from aural.stages.dynamic_compression import DynamicCompression, _damage

    rate = 48_000
    clean = load_audio(shared_data / "paired/daps_excerpt/m2_script1_clean.wav", sample_rate=rate,
                       mono=True)[0][0][: 20 * rate]
    clean = (clean * 10 ** (-22 / 20) / np.sqrt(np.mean(clean ** 2))).astype(np.float32)
    degraded, _ = simulate(clean, rate, np.random.default_rng([1, 0, 11]), _damage("agc"),
                           noises=[], rirs=[])
    reference = clean * np.sqrt(np.mean(degraded ** 2) / np.mean(clean ** 2))
    restored = DynamicCompression.load().process(degraded[np.newaxis], rate)[0]
    # Measured: loudness-contour error 2.61 -> 1.47 LU, SI-SDR 2.2 -> 9.9 dB.
    before = short_term_loudness_error_lu(reference, degraded, rate)
    assert short_term_loudness_error_lu(reference, restored, rate) < before - 0.6
    assert si_sdr_db(reference, restored) > si_sdr_db(reference, degraded) + 4.0
