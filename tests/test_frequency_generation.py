"""frequency_generation: the GAN trainer learns, resumes with both optimizers, and the
generator it ships needs none of the training code."""

import copy
import subprocess
import sys

import numpy as np
import pytest

from aural.stages.base import TrainingPair
from aural.stages.frequency_generation import PHONE_DAMAGE

RATE = 48_000
TINY = {"channels": [4, 8], "bottleneck_units": 8, "dilations": [1]}


@pytest.fixture(scope="module")
def stage():
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    # 64 band features: two U-Net levels need an even count, which the layout gives.
    return FrequencyGeneration(FrequencyGenerationConfig(network=TINY, learning_rate=1e-3,
                                                         adversarial_weight=1.0))


def _batch(stage, seed: int, n: int = 4):
    """Pairs of a dull copy (high bands 12 dB down) and its bright original."""
    from aural.dsp.filters import apply_sos, butter_highpass

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        bright = (0.1 * rng.standard_normal(RATE // 2)).astype(np.float32)
        dull = bright - 0.75 * apply_sos(bright, butter_highpass(4000, RATE))
        x, y = stage.example(TrainingPair(dull.astype(np.float32), bright))
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def _trainer(stage):
    trainer = stage.training_model()
    stage.model = stage.inference_model(trainer)
    return trainer


def test_untrained_generator_is_the_identity(stage):
    _trainer(stage)
    signal = (0.1 * np.random.default_rng(0).standard_normal(RATE)).astype(np.float32)
    out = stage.run_channel(signal)["audio"]
    np.testing.assert_allclose(out, signal, atol=1e-4)


def test_pesq_selection_is_a_switch_and_the_identity_gains_nothing():
    """``validation_metric="pesq_wb"`` scores weights by PESQ-wb gain: the untrained
    generator (the identity) gains nothing on a dull copy of a voice-like signal."""
    from aural.dsp.filters import apply_sos, butter_lowpass
    from aural.errors import AuralError
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    picky = FrequencyGeneration(FrequencyGenerationConfig(network=TINY,
                                                          validation_metric="pesq_wb"))
    assert "PESQ" in picky.score_name
    _trainer(picky)
    t = np.arange(2 * RATE) / RATE
    bright = sum(0.2 / k * np.sin(2 * np.pi * 140 * k * t) for k in range(1, 30))
    bright = (bright * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    dull = apply_sos(bright, butter_lowpass(3000, RATE)).astype(np.float32)
    assert abs(picky.validation_score([TrainingPair(dull, bright)])) < 0.02
    with pytest.raises(AuralError, match="validation_metric"):
        FrequencyGeneration(FrequencyGenerationConfig(network=TINY, validation_metric="stoi"))


def test_overshoot_weight_makes_louder_than_the_target_cost_more():
    """``overshoot_weight`` 3: a band made 0.1 louder than the target costs three times
    what a band 0.1 quieter costs (as PESQ punishes added energy more); 1 is symmetric."""
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    real = np.zeros((1, 4, 8, 1), np.float32)
    for weight, ratio in ((3.0, 3.0), (1.0, 1.0)):
        gan = FrequencyGeneration(FrequencyGenerationConfig(
            network=TINY, overshoot_weight=weight)).training_model()
        louder = float(gan._reconstruction(real + 0.1, real))
        quieter = float(gan._reconstruction(real - 0.1, real))
        assert louder == pytest.approx(ratio * quieter, rel=1e-5) and quieter > 0.09


def test_loudness_weight_counts_loud_bands_that_pesq_hears():
    """``loudness_weight``: the same 1 dB error costs more in a loud band than in a quiet
    one (log power counts both alike), and nothing extra above 8 kHz, which PESQ-wb
    never hears; 0 leaves the log L1 as it was."""
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    def extra_cost(band: int, level: float) -> float:
        """What loudness_weight 4 adds to a 1 dB overshoot of one band at ``level``."""
        real = np.full((1, 4, 64, 1), level, np.float32)
        fake = real.copy()
        fake[..., band, :] += 0.05   # 1 dB on the (dB + 60) / 20 scale
        costs = [float(FrequencyGeneration(FrequencyGenerationConfig(
            network=TINY, loudness_weight=w)).training_model()._reconstruction(fake, real))
            for w in (0.0, 4.0)]
        return costs[1] - costs[0]

    stage = FrequencyGeneration(FrequencyGenerationConfig(network=TINY))
    low, high = int(np.argmax(stage.bands.centres_hz > 1000)), len(stage.bands.centres_hz) - 1
    assert stage.bands.centres_hz[high] > 8000
    loud, quiet = extra_cost(low, 2.5), extra_cost(low, 1.0)   # -10 dB and -40 dB bands
    assert loud > 3 * quiet > 0
    assert extra_cost(high, 2.5) == pytest.approx(0.0, abs=1e-7)


def test_a_few_gan_steps_move_both_losses(stage):
    trainer = _trainer(stage)
    x, y = _batch(stage, 1)
    history = trainer.fit(x, y, batch_size=2, epochs=6, verbose=0).history
    for name in ("g_loss", "d_loss", "loss"):
        values = np.array(history[name])
        assert np.all(np.isfinite(values)) and np.ptp(values) > 1e-4, (name, values)
    # The reconstruction (log band power L1) falls: the generator learns to brighten.
    assert history["loss"][-1] < history["loss"][0]


def test_no_loss_above_the_target_recordings_own_bandwidth(stage):
    """A target band-limited at 11 kHz says nothing about what belongs above it: the
    losses do not see those bands (else the generator would learn to cut the top octave)."""
    trainer = _trainer(stage)
    bright = (0.1 * np.random.default_rng(5).standard_normal(RATE // 2)).astype(np.float32)
    dull = (0.5 * bright).astype(np.float32)
    x, y = stage.example(TrainingPair(dull, bright, info={"bandwidth_hz": 11_025.0}))
    bin_hz = np.fft.rfftfreq(stage.stft_config.n_fft, 1.0 / RATE)
    assert np.all(y[:, bin_hz < 10_000, 2] == 1) and np.all(y[:, bin_hz > 11_025, 2] == 0)
    emptied = y.copy()
    emptied[:, bin_hz > 10_500, 1] *= 1e-6       # what lies above its bandwidth changes
    losses = [float(trainer.test_step((x[np.newaxis], t[np.newaxis]))["loss"])
              for t in (y, emptied, emptied[..., :2])]   # the last: no bandwidth channel
    # (The masked bands still count in the loss's denominator when loud: a 1e-4 effect.)
    assert abs(losses[0] - losses[1]) < 1e-3 and abs(losses[2] - losses[0]) > 0.05, losses


def test_resumed_gan_restores_both_optimizers(stage, tmp_path):
    trainer = _trainer(stage)
    x, y = _batch(stage, 2)
    trainer.fit(x, y, batch_size=2, epochs=2, verbose=0)
    trainer.save_weights(str(tmp_path / "ckpt.weights.h5"))
    again = _trainer(stage)
    again.build_optimizers()
    again.load_weights(str(tmp_path / "ckpt.weights.h5"))
    for before, after in zip(trainer.optimizers, again.optimizers):
        assert int(after.iterations.numpy()) == int(before.iterations.numpy()) > 0
        for a, b in zip(before.variables, after.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(again.generator.get_weights()[0],
                                  trainer.generator.get_weights()[0])


def test_a_run_without_the_adversarial_loss_resumes_without_warnings(tmp_path):
    """Its discriminator optimizer never steps; built before the first step, a checkpoint
    still holds its slots, so resuming loads every optimizer variable it finds."""
    import warnings

    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig
    from aural.training import build_optimizer_slots

    plain = FrequencyGeneration(FrequencyGenerationConfig(network=TINY, adversarial_weight=0.0))
    trainer = _trainer(plain)
    build_optimizer_slots(trainer)
    x, y = _batch(plain, 4)
    trainer.fit(x, y, batch_size=2, epochs=1, verbose=0)
    trainer.save_weights(str(tmp_path / "ckpt.weights.h5"))
    again = _trainer(plain)
    build_optimizer_slots(again)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again.load_weights(str(tmp_path / "ckpt.weights.h5"))
    assert int(again.optimizers[0].iterations.numpy()) == 2
    assert int(again.optimizers[1].iterations.numpy()) == 0


def test_saved_generator_loads_in_safe_mode_without_gan_code(stage, tmp_path):
    trainer = _trainer(stage)
    x, y = _batch(stage, 3)
    trainer.fit(x, y, batch_size=2, epochs=1, verbose=0)
    path = stage.save(tmp_path / "frequency_generation.h5", training={"steps": 2})
    code = ("import sys, keras; from aural.modelfile import load_model; "
            f"model, sidecar = load_model(r'{path}'); "
            "assert 'aural.gan' not in sys.modules; "
            "assert not any('discriminator' in l.name for l in model.layers); "
            "print(sidecar['stage'], model.count_params())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "frequency_generation"
    assert int(done.stdout.split()[1]) == stage.build_model().count_params()


def test_gain_scale_zero_is_the_identity_and_silence_stays_silent(stage):
    _trainer(stage)
    stage.model.set_weights([w + 0.05 for w in stage.model.get_weights()])  # not the identity
    signal = (0.1 * np.random.default_rng(1).standard_normal(RATE)).astype(np.float32)
    assert np.abs(stage.run_channel(signal)["audio"] - signal).max() > 1e-3
    original = stage.config.inference_gain_scale
    try:
        stage.config.inference_gain_scale = 0.0
        np.testing.assert_allclose(stage.run_channel(signal)["audio"], signal, atol=1e-4)
    finally:
        stage.config.inference_gain_scale = original
    silence = np.zeros(RATE, np.float32)
    assert np.all(stage.run_channel(silence)["audio"] == 0.0)


def test_min_hz_leaves_the_band_below_it_alone(stage):
    _trainer(stage)
    stage.model.set_weights([w + 0.05 for w in stage.model.get_weights()])  # not the identity
    t = np.arange(RATE) / RATE
    # Faded in and out: an abrupt start would be a broadband click.
    low_tone = (0.1 * np.hanning(RATE) * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    assert np.abs(stage.run_channel(low_tone)["audio"] - low_tone).max() > 1e-3
    try:
        stage.config.inference_min_hz = 4000.0   # full gain from 4 kHz, none below 2 kHz
        assert stage.band_weights()[stage.bands.centres_hz < 2000].max() == 0.0
        assert stage.band_weights()[stage.bands.centres_hz >= 4000].min() == 1.0
        np.testing.assert_allclose(stage.run_channel(low_tone)["audio"], low_tone, atol=1e-4)
    finally:
        stage.config.inference_min_hz = 0.0


def _pool(seconds: float = 4.0):
    """One synthetic full-band 'recording': a buzzy harmonic tone with a breathy floor."""
    from aural.stages.frequency_expansion import FullBandPool

    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 120))
    floor = 0.01 * np.random.default_rng(5).standard_normal(len(t))
    audio = (0.1 * tone + floor).astype(np.float32)
    return FullBandPool([audio], [24_000.0], np.ones(1), ["synthetic"], 1, "x")


def test_phone_pairs_carry_the_damage_and_undamaged_pairs_stay_clean():
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    config = FrequencyGenerationConfig(network=TINY, earlier_stages=(), full_band_probability=0.0,
                                       phone_damage=copy.deepcopy(PHONE_DAMAGE["mild"]))
    config.phone_damage["codec"]["ffmpeg_probability"] = 0.0   # band-limit: no ffmpeg needed
    config.phone_damage["codec"]["probability"] = 1.0
    stage = FrequencyGeneration(config)
    pair = stage.make_pair(np.random.default_rng(0), _pool())
    assert pair.degraded.shape == pair.target.shape == (2 * RATE,)
    # Band-limited by the codec (8 or 16 kHz): nothing left above 8.5 kHz, the target keeps it.
    spectrum = np.abs(np.fft.rfft(pair.degraded)) ** 2
    target = np.abs(np.fft.rfft(pair.target)) ** 2
    high = np.fft.rfftfreq(len(pair.target), 1 / RATE) > 8500
    assert spectrum[high].sum() < 1e-4 * spectrum.sum()
    assert target[high].sum() > 1e-3 * target.sum()
    assert pair.info["bandwidth_hz"] == 24_000.0
    config.full_band_probability = 1.0
    clean = FrequencyGeneration(config).make_pair(np.random.default_rng(0), _pool())
    np.testing.assert_array_equal(clean.degraded, clean.target)


def test_phone_test_items_are_seeded_by_name_and_band_limited():
    from aural.stages.frequency_generation import (PHONE_TEST_DAMAGE, FrequencyGeneration,
                                                   FrequencyGenerationConfig)

    stage = FrequencyGeneration(FrequencyGenerationConfig(network=TINY, earlier_stages=()))
    clean = _pool(3.0).recordings[0]
    narrow = PHONE_TEST_DAMAGE["narrow-band phone"]
    first = stage.phone_item("voice", clean, "speech", 24_000.0, "narrow-band phone", narrow)
    again = stage.phone_item("voice", clean, "speech", 24_000.0, "narrow-band phone", narrow)
    other = stage.phone_item("other", clean, "speech", 24_000.0, "narrow-band phone", narrow)
    np.testing.assert_array_equal(first["degraded"], again["degraded"])
    assert not np.array_equal(first["degraded"], other["degraded"])
    assert first["group"] == "narrow-band phone speech" and first["cutoff_hz"] <= 4000.0
    assert first["damage"]["applied"] == ["noise", "mic_response", "codec"]


def test_codec_test_items_go_through_a_real_encoder():
    pytest.importorskip("imageio_ffmpeg")
    from aural.stages.frequency_generation import (PHONE_TEST_DAMAGE, FrequencyGeneration,
                                                   FrequencyGenerationConfig)

    stage = FrequencyGeneration(FrequencyGenerationConfig(network=TINY, earlier_stages=()))
    coded = stage.phone_item("voice", _pool(3.0).recordings[0], "music", 24_000.0,
                             "codec phone", PHONE_TEST_DAMAGE["codec phone"])
    assert coded["damage"]["codec"]["method"] == "ffmpeg"
    assert coded["damage"]["codec"]["codec"] in ("amr_nb", "mp3", "opus")
    assert coded["cutoff_hz"] <= 8000.0 and coded["group"] == "codec phone music"


def test_damage_recipes_by_name():
    """"mild" is the shipped generator's damage; "chain" adds rooms and gain damage with
    heavier noise; an unknown name is refused with the choices."""
    from aural.errors import AuralError
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    def damage(name):
        return FrequencyGeneration(FrequencyGenerationConfig(network=TINY,
                                                             phone_damage=name)).damage

    mild, chain = damage("mild"), damage("chain")
    assert not mild.reverb.enabled and chain.reverb.enabled and chain.agc.enabled
    assert min(chain.noise.snr_db) < min(mild.noise.snr_db)
    with pytest.raises(AuralError, match="mild, chain"):
        damage("loud")


def test_real_codecs_without_ffmpeg_are_refused_with_a_way_out(monkeypatch):
    from aural.data import simulator
    from aural.errors import AuralError
    from aural.stages.frequency_generation import (PHONE_TEST_DAMAGE, FrequencyGeneration,
                                                   FrequencyGenerationConfig)

    monkeypatch.setattr(simulator, "ffmpeg_executable", lambda bundled=False: None)
    stage = FrequencyGeneration(FrequencyGenerationConfig(network=TINY, earlier_stages=()))
    with pytest.raises(AuralError, match="phone_damage=null"):
        stage.damage
    with pytest.raises(AuralError, match="test set needs ffmpeg"):
        stage.phone_item("voice", _pool(1.0).recordings[0], "speech", 24_000.0,
                         "codec phone", PHONE_TEST_DAMAGE["codec phone"])
    # The band-limited items need no encoder.
    stage.phone_item("voice", _pool(1.0).recordings[0], "speech", 24_000.0,
                     "narrow-band phone", PHONE_TEST_DAMAGE["narrow-band phone"])


def _identity_stage(name: str, ran: list[str]):
    """A stand-in for a shipped earlier stage that passes audio through and notes its runs."""
    from types import SimpleNamespace

    def run(x):
        ran.append(name)
        return {"audio": x}

    return SimpleNamespace(name=name, outputs=("audio",), run_channel=run,
                           process=lambda x, rate: run(x[0])["audio"][None])


def _splitting_stage(ran: list[str]):
    """A stand-in for source_separation: half the input is voice, half background."""
    from types import SimpleNamespace

    def run(x):
        ran.append("source_separation")
        return {"voice": 0.5 * x, "background": 0.5 * x}

    return SimpleNamespace(name="source_separation", outputs=("voice", "background"),
                           run_channel=run,
                           process=lambda x, rate: {k: v[None] for k, v in run(x[0]).items()})


def test_after_a_separation_the_target_is_its_voice_and_the_evaluation_remixes():
    """In the chain this stage gets the separation's voice and the background is mixed back
    under its output: pairs aim at the separation's voice of the clean recording, and the
    evaluation scores the remix, as `aural regenerate` writes it."""
    from aural.mastering.stems import remix
    from aural.regenerate import DEFAULT_BACKGROUND_DB
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    stage = FrequencyGeneration(FrequencyGenerationConfig(network=TINY, full_band_probability=1.0))
    ran = []
    stage.__dict__["earlier"] = [_identity_stage("frequency_expansion", ran), _splitting_stage(ran)]
    pair = stage.make_pair(np.random.default_rng(0), _pool())
    # An undamaged pair: the input is the clean excerpt's voice (half of it), and so is the
    # target (unseparated, it would be twice the input).
    np.testing.assert_allclose(pair.degraded, pair.target, rtol=1e-6)
    assert ran == ["frequency_expansion", "source_separation", "source_separation"]

    speech = (0.1 * np.random.default_rng(5).standard_normal(3 * RATE)).astype(np.float32)
    expected = remix({"voice": 0.5 * speech, "background": 0.5 * speech}, RATE,
                     DEFAULT_BACKGROUND_DB["speech"])[0]
    assert stage.through_earlier(speech, RATE).runs_here is False      # full band: left out
    np.testing.assert_allclose(stage.evaluated(speech, RATE), expected, rtol=1e-5)
    np.testing.assert_allclose(stage.earlier_evaluated(speech, RATE), expected, rtol=1e-5)
    assert np.std(expected) < 0.7 * np.std(speech)     # the background was turned down


def test_pairs_carry_the_splits_noise_and_room_recordings():
    from aural.stages.frequency_expansion import FullBandPool
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    from aural.data.sources import catalogue

    pool = FullBandPool([np.zeros(RATE, np.float32)], [24_000.0], np.ones(1), ["x"], 1, "x")
    FrequencyGeneration(FrequencyGenerationConfig(network=TINY)).add_noise_and_rooms(pool, "train")
    recordings = catalogue(split="train", kinds=("noise", "rir"))   # more after fetch-data
    noises = [r for r in recordings if r.kind == "noise"]
    assert len(pool.noises) == len(noises) >= 2 and pool.file_count == 1 + len(recordings)
    assert len(pool.rirs) >= len(recordings) - len(noises) >= 3   # stereo rooms count twice
    assert all(n.ndim == 1 and len(n) > RATE // 2 for n in pool.noises) and pool.fingerprint != "x"


def test_pairs_skip_the_stages_regenerate_skips_on_music_and_clean_takes():
    """As in `aural regenerate`, noise_reduction does not run on music or on a clean take:
    such pairs go through frequency_expansion alone."""
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig

    stage = FrequencyGeneration(FrequencyGenerationConfig(network=TINY, full_band_probability=1.0,
                                                          chain_by_content=True))
    ran = []
    stage.__dict__["earlier"] = [_identity_stage("noise_reduction", ran),
                                 _identity_stage("frequency_expansion", ran)]
    # Content is decided from the audio, as regenerate decides it: a held note is music.
    assert stage.with_contents(_pool(4.0)).contents == ["music"]
    pool = _pool()
    pool.contents = ["music"]
    pair = stage.make_pair(np.random.default_rng(0), pool)
    assert pair.info["content"] == "music" and ran == ["frequency_expansion"]
    ran.clear()
    pool.contents = []            # unknown content: speech, the whole voice chain
    stage.make_pair(np.random.default_rng(0), pool)
    assert ran == ["noise_reduction", "frequency_expansion"]
    # A clean take (syllables over a floor 100 dB down) skips noise_reduction, as there.
    ran.clear()
    t = np.arange(len(pool.recordings[0])) / RATE
    pool.recordings[0] = (pool.recordings[0] * ((t % 0.5) < 0.3)
                          + 1e-5 * np.random.default_rng(1).standard_normal(len(t)))
    stage.make_pair(np.random.default_rng(0), pool)
    assert ran == ["frequency_expansion"]


def test_full_band_input_leaves_the_generator_out_and_band_limited_input_runs_it(stage):
    """Studio input reaches the top of the band; the chain (and so the evaluation) leaves the
    generator out there, as `aural regenerate` does, and runs it on a phone's band."""
    from aural.dsp.filters import apply_sos, butter_lowpass

    ran = []
    _trainer(stage)
    stage.model.set_weights([w + 0.05 for w in stage.model.get_weights()])  # not the identity
    stage.__dict__["earlier"] = [_identity_stage("frequency_expansion", ran)]
    try:
        full = (0.1 * np.random.default_rng(2).standard_normal(3 * RATE)).astype(np.float32)
        phone = apply_sos(full, butter_lowpass(4000, RATE, order=8)).astype(np.float32)
        assert [s.name for s in stage.chain_for(full, RATE, "speech")] == ["frequency_expansion"]
        np.testing.assert_array_equal(stage.evaluated(full, RATE), full)
        assert [s.name for s in stage.chain_for(phone, RATE, "speech")] == [
            "frequency_expansion", "frequency_generation"]
        assert np.max(np.abs(stage.evaluated(phone, RATE) - phone)) > 1e-3
    finally:
        del stage.__dict__["earlier"]


def test_evaluation_runs_the_earlier_stages_once_per_input(stage):
    """The earlier-stages row and every value of a sweep reuse one run of those stages;
    only this stage's own settings change between the calls."""
    from aural.dsp.filters import apply_sos, butter_lowpass

    ran = []
    _trainer(stage)
    stage.model.set_weights([w + 0.05 for w in stage.model.get_weights()])  # not the identity
    stage.__dict__["earlier"] = [_identity_stage("frequency_expansion", ran)]
    noise = (0.1 * np.random.default_rng(4).standard_normal(3 * RATE)).astype(np.float32)
    phone = apply_sos(noise, butter_lowpass(4000, RATE, order=8)).astype(np.float32)
    try:
        full_gain = stage.evaluated(phone, RATE)
        np.testing.assert_array_equal(stage.earlier_evaluated(phone, RATE), phone)
        stage.config.inference_gain_scale = 0.0
        np.testing.assert_allclose(stage.evaluated(phone, RATE), phone, atol=1e-4)
        assert np.max(np.abs(full_gain - phone)) > 1e-3 and ran == ["frequency_expansion"]
        stage.evaluated(phone[::-1].copy(), RATE)              # another input: another run
        assert ran == ["frequency_expansion"] * 2
    finally:
        stage.config.inference_gain_scale = 1.0
        del stage.__dict__["earlier"]


def test_a_pause_is_silent_in_the_target_and_filled_by_the_phone_noise():
    from aural.stages.frequency_generation import (FrequencyGeneration, FrequencyGenerationConfig,
                                                   with_pause)

    audio = np.ones(RATE, np.float32)
    paused = with_pause(audio, RATE, np.random.default_rng(3), seconds=(0.4, 0.4))
    silent = np.flatnonzero(paused == 0.0)
    assert len(silent) == int(0.4 * RATE) and np.all(np.diff(silent) == 1)   # one span
    assert paused.max() == 1.0 and np.all(np.abs(np.diff(paused)) <= 1 / 479)  # faded edges

    config = FrequencyGenerationConfig(network=TINY, earlier_stages=(), full_band_probability=0.0,
                                       pause_probability=1.0,
                                       phone_damage=copy.deepcopy(PHONE_DAMAGE["chain"]))
    config.phone_damage["codec"]["ffmpeg_probability"] = 0.0
    config.phone_damage["noise"]["probability"] = 1.0
    pair = FrequencyGeneration(config).make_pair(np.random.default_rng(0), _pool())
    pause = np.flatnonzero(pair.target == 0.0)
    assert len(pause) >= int(0.3 * RATE)
    assert np.sqrt(np.mean(pair.degraded[pause] ** 2)) > 1e-5   # the noise is there (~-85 dB)


def test_a_fine_tune_starts_from_the_whole_shipped_generator():
    """From its own shipped model every layer carries over (the fine-tune starts where the
    shipped generator is); from frequency_expansion the head is left out (it predicts
    power there, gains here), so the generator starts as the identity."""
    from aural.stages.frequency_generation import FrequencyGeneration, FrequencyGenerationConfig
    from aural.training import _initial_weights

    rng = np.random.default_rng(5)
    signal = (0.1 * rng.standard_normal(RATE)).astype(np.float32)
    shipped = FrequencyGeneration.load()
    shipped_out = shipped.run_channel(signal)["audio"]
    for source, expected in (("shipped", shipped_out), ("frequency_expansion", signal)):
        stage = FrequencyGeneration(FrequencyGenerationConfig(
            init_from=source, inference_min_hz=shipped.config.inference_min_hz,
            inference_gain_scale=shipped.config.inference_gain_scale))
        stage.model = stage.build_model()
        messages = []
        _initial_weights(stage, messages.append)
        np.testing.assert_allclose(stage.run_channel(signal)["audio"], expected, atol=1e-4)
    assert not np.allclose(shipped_out, signal, atol=1e-3)   # the shipped one does change it
