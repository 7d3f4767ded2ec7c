"""The phone simulator and its filters: measured behaviour, determinism, splits, the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from aural.data import simulator
from aural.data.alignment import estimate_offset
from aural.data.simulator import DAMAGES, DamageConfig, simulate, simulate_dataset
from aural.dsp import filters
from aural.errors import AuralError

RATE = 16_000
TRAIN_NOISE_HZ = 1100.0   # the tiny catalogue's train noise is a tone here...
TEST_NOISE_HZ = 3300.0    # ...and its test noise here, so a leak shows in the spectrum


def _speech_like(seconds: float, rate: int, seed: int = 0, f0: float = 200.0) -> np.ndarray:
    """Harmonics of ``f0`` with syllable-rate loud and quiet parts (a stand-in for speech)."""
    rng = np.random.default_rng(seed)
    times = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * k * f0 * times + rng.uniform(0, 6.28)) / k
               for k in range(1, 20) if k * f0 < rate / 2)
    envelope = 0.05 + 0.95 * np.clip(np.sin(2 * np.pi * 3.0 * times), 0, None) ** 2
    return (0.2 * tone * envelope).astype(np.float32)


def _white(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * rate))
            ).astype(np.float32)


def _band_power_db(signal: np.ndarray, rate: int, low: float, high: float,
                   ref_low: float, ref_high: float) -> float:
    """Mean power density in [low, high) Hz relative to that in [ref_low, ref_high)."""
    freqs, density = scipy.signal.welch(signal, fs=rate, nperseg=4096, window="blackmanharris")
    band = density[(freqs >= low) & (freqs < high)].mean()
    ref = density[(freqs >= ref_low) & (freqs < ref_high)].mean()
    return float(10 * np.log10(band / ref))


def _always(*names: str) -> DamageConfig:
    return DamageConfig.only(*names, probability=1.0)


# --------------------------------------------------------------------------- filters


def test_rbj_biquads_have_their_designed_gains():
    rate = 48_000
    peak = filters.peaking(1000.0, rate, gain_db=6.0, q=2.0)
    _, response = scipy.signal.sosfreqz(peak, worN=[1000.0, 50.0, 15000.0], fs=rate)
    gains = 20 * np.log10(np.abs(response))
    assert gains[0] == pytest.approx(6.0, abs=0.01)
    assert abs(gains[1]) < 0.1 and abs(gains[2]) < 0.3
    low = filters.low_shelf(300.0, rate, gain_db=-9.0)
    high = filters.high_shelf(4000.0, rate, gain_db=5.0)
    _, lo = scipy.signal.sosfreqz(low, worN=[20.0, 10000.0], fs=rate)
    _, hi = scipy.signal.sosfreqz(high, worN=[20.0, 20000.0], fs=rate)
    assert 20 * np.log10(abs(lo[0])) == pytest.approx(-9.0, abs=0.2)
    assert abs(20 * np.log10(abs(lo[1]))) < 0.2
    assert abs(20 * np.log10(abs(hi[0]))) < 0.1
    assert 20 * np.log10(abs(hi[1])) == pytest.approx(5.0, abs=0.3)
    # Every high- and low-pass is 3 dB down at its cut-off and flat far from it.
    for sos, cutoff, passband in ((filters.highpass(200.0, rate), 200.0, 5000.0),
                                  (filters.butter_highpass(200.0, rate), 200.0, 5000.0),
                                  (filters.lowpass(5000.0, rate), 5000.0, 200.0),
                                  (filters.butter_lowpass(5000.0, rate), 5000.0, 200.0)):
        _, response = scipy.signal.sosfreqz(sos, worN=[cutoff, passband], fs=rate)
        assert 20 * np.log10(abs(response[0])) == pytest.approx(-3.01, abs=0.05)
        assert abs(20 * np.log10(abs(response[1]))) < 0.05
    with pytest.raises(ValueError):
        filters.lowpass(30000.0, rate)


def test_zero_phase_filtering_keeps_alignment_and_squares_the_response():
    signal = _white(1.0, RATE, seed=1)
    sos = filters.butter_lowpass(3000.0, RATE, order=4)
    zero = filters.apply_sos(signal, sos)
    causal = filters.apply_sos(signal, sos, zero_phase=False)
    assert zero.dtype == np.float32 and zero.shape == signal.shape
    assert estimate_offset(signal, zero, max_lag_samples=200).offset == 0
    assert estimate_offset(signal, causal, max_lag_samples=200).offset > 0
    # -6 dB at the cut-off: the -3 dB response applied twice.
    tone = np.sin(2 * np.pi * 3000.0 * np.arange(RATE) / RATE).astype(np.float32)
    out = filters.apply_sos(tone, sos)[2000:-2000]
    assert 20 * np.log10(np.std(out) / np.std(tone[2000:-2000])) == pytest.approx(-6.02, abs=0.1)
    assert filters.apply_sos(np.ones(5, np.float32), sos).shape == (5,)  # shorter than padding


def test_convolve_rir_aligns_on_the_direct_path():
    signal = _white(0.5, RATE, seed=2)
    rir = np.zeros(400, dtype=np.float32)
    rir[150] = 1.0          # direct path after 150 samples of pre-delay
    rir[300] = 0.5          # one reflection 150 samples later
    out = filters.convolve_rir(signal, rir)
    expected = signal.copy()
    expected[150:] += 0.5 * signal[:-150]
    assert out.shape == signal.shape
    np.testing.assert_allclose(out, expected, atol=1e-5)
    # A reflection louder than the direct sound (as in our measured rooms) is not the anchor.
    rir[150], rir[300] = 0.5, 1.0
    assert filters.direct_path_index(rir) == 150
    np.testing.assert_allclose(filters.convolve_rir(signal, rir), 0.5 * expected + 0.75 * np.r_[
        np.zeros(150, np.float32), signal[:-150]], atol=1e-5)


def test_synthetic_rir_decays_at_its_rt60():
    rate, rt60 = 16_000, 0.6
    rir = filters.synthetic_rir(rate, rt60, np.random.default_rng(3))
    assert np.argmax(np.abs(rir)) == 0 and rir[0] == 1.0
    # Schroeder backward integration of the tail; fit the -5 to -25 dB slope (T20).
    tail = rir[int(0.005 * rate):].astype(np.float64)
    decay = 10 * np.log10(np.cumsum(tail[::-1] ** 2)[::-1] / np.sum(tail ** 2))
    times = np.arange(len(decay)) / rate
    fit = (decay <= -5) & (decay >= -25)
    slope = np.polyfit(times[fit], decay[fit], 1)[0]
    assert -60.0 / slope == pytest.approx(rt60, rel=0.15)


# --------------------------------------------------------------------------- damage


def test_every_switch_off_leaves_the_input_unchanged():
    clean = _speech_like(1.0, RATE)
    rng = np.random.default_rng(0)
    out, params = simulate(clean, RATE, rng, DamageConfig.only(), noises=[], rirs=[])
    np.testing.assert_array_equal(out, clean)
    assert params["applied"] == []
    never = DamageConfig().with_enabled(DAMAGES, probability=0.0)
    out, params = simulate(clean, RATE, rng, never, noises=[], rirs=[])
    np.testing.assert_array_equal(out, clean)
    assert params["applied"] == []


def test_noise_snr_drawn_is_snr_achieved():
    clean = _speech_like(2.0, RATE)
    noise = _white(5.0, RATE, seed=9)
    config = DamageConfig.only("noise", probability=1.0)
    config = dataclasses.replace(config, noise=dataclasses.replace(
        config.noise, synthetic_probability=0.0))
    for seed in range(6):
        out, params = simulate(clean, RATE, np.random.default_rng(seed), config,
                               noises=[noise], rirs=[], noise_names=["white"])
        achieved = 10 * np.log10(np.sum(clean.astype(np.float64) ** 2)
                                 / np.sum((out - clean).astype(np.float64) ** 2))
        assert params["noise"]["name"] == "white"
        assert -5.0 <= params["noise"]["snr_db"] <= 30.0
        assert achieved == pytest.approx(params["noise"]["snr_db"], abs=0.5)


def test_synthetic_noise_when_the_split_has_none():
    clean = _speech_like(1.0, RATE)
    out, params = simulate(clean, RATE, np.random.default_rng(4), _always("noise"), noises=[],
                           rirs=[])
    assert params["noise"]["synthetic"] and params["noise"]["name"].startswith("synthetic_")
    assert not np.array_equal(out, clean)


def test_codec_band_limit_removes_energy_above_its_cutoff():
    rate = 48_000
    signal = _white(2.0, rate, seed=5)
    for codec_rate in (8000, 16000):
        config = _always("codec")
        config = dataclasses.replace(config, codec=dataclasses.replace(
            config.codec, rates=(codec_rate,), ffmpeg_probability=0.0))
        out, params = simulate(signal, rate, np.random.default_rng(0), config, noises=[],
                               rirs=[])
        cutoff = codec_rate / 2
        assert params["codec"] == {"method": "resample", "codec_rate": codec_rate,
                                   "band_limit_hz": cutoff}
        assert out.shape == signal.shape
        # Measured about -150 dB; anything under -60 dB is inaudible band-limiting.
        assert _band_power_db(out, rate, cutoff * 1.02, rate / 2, 100, cutoff * 0.85) < -60
        assert abs(_band_power_db(out, rate, 100, cutoff * 0.85, 100, cutoff * 0.85)) < 1e-9
        # Still aligned: the passband is the input's passband, at lag zero.
        assert estimate_offset(signal, out, max_lag_samples=500).offset == 0


def test_codec_without_ffmpeg_falls_back_to_band_limiting(monkeypatch):
    monkeypatch.setattr(simulator.shutil, "which", lambda name: None)
    config = _always("codec")
    config = dataclasses.replace(config, codec=dataclasses.replace(config.codec,
                                                                   ffmpeg_probability=1.0))
    _, params = simulate(_white(0.5, 48_000), 48_000, np.random.default_rng(0), config,
                         noises=[], rirs=[])
    assert params["codec"]["method"] == "resample"
    # At 8 kHz there is nothing left to band-limit: a no-op, said so.
    signal = _white(0.5, 8000)
    out, params = simulate(signal, 8000, np.random.default_rng(0), config, noises=[], rirs=[])
    assert params["codec"]["method"] == "none"
    np.testing.assert_array_equal(out, signal)


def test_mic_response_attenuates_above_its_lowpass_and_below_its_highpass():
    rate = 48_000
    signal = _white(3.0, rate, seed=6)
    for seed in range(3):
        out, params = simulate(signal, rate, np.random.default_rng(seed), _always("mic_response"),
                               noises=[], rirs=[])
        mic = params["mic_response"]
        low, high = mic["highpass_hz"], mic["lowpass_hz"]
        assert 100 <= low <= 300 and 3400 <= high <= 12000 and 1 <= len(mic["peaks"]) <= 3
        # 48 dB/octave: at least 40 dB down an octave above the cut-off.
        assert _band_power_db(out, rate, 2 * high, rate / 2, 2 * low, 0.8 * high) < -40
        assert _band_power_db(out, rate, 20, low / 2, 2 * low, 0.8 * high) < -20
        assert estimate_offset(signal, out, max_lag_samples=500).offset == 0


def test_clipping_really_clips():
    clean = _speech_like(2.0, RATE)
    config = _always("clipping")
    config = dataclasses.replace(config, clipping=dataclasses.replace(config.clipping,
                                                                      soft_probability=0.0))
    out, params = simulate(clean, RATE, np.random.default_rng(1), config, noises=[], rirs=[])
    threshold = params["clipping"]["threshold"]
    assert np.max(np.abs(out)) == pytest.approx(threshold, rel=1e-6)
    assert threshold < 0.9 * np.max(np.abs(clean))
    at_rail = np.mean(np.abs(out) >= threshold * (1 - 1e-6))
    assert at_rail == pytest.approx(params["clipping"]["clipped_fraction"], rel=0.2, abs=2e-4)
    untouched = np.abs(clean) < threshold
    np.testing.assert_array_equal(out[untouched], clean[untouched])


def test_agc_pumps_after_a_loud_burst():
    quiet = 0.01 * np.random.default_rng(7).standard_normal(4 * RATE)
    quiet[RATE:int(1.5 * RATE)] *= 50.0                      # a loud half second
    signal = quiet.astype(np.float32)
    config = _always("agc")
    config = dataclasses.replace(config, agc=dataclasses.replace(
        config.agc, target_dbfs=(-20.0, -20.0), max_gain_db=(20.0, 20.0),
        attack_s=(0.05, 0.05), release_s=(1.0, 1.0)))
    out, _ = simulate(signal, RATE, np.random.default_rng(0), config, noises=[], rirs=[])
    gain = out / np.where(signal == 0, 1, signal)
    just_after = 20 * np.log10(np.median(np.abs(gain[int(1.55 * RATE):int(1.65 * RATE)])))
    later = 20 * np.log10(np.median(np.abs(gain[int(3.8 * RATE):int(3.9 * RATE)])))
    assert later - just_after > 10.0   # the gain climbs back slowly: the noise floor pumps


def test_over_compression_flattens_dynamics_and_level_sets_the_peak():
    # Eight 250 ms "syllables" whose levels span 24 dB.
    order = np.random.default_rng(0).permutation(8)
    levels = np.repeat(10 ** (np.linspace(-24, 0, 8)[order] / 20), RATE // 4)
    tone = _speech_like(2.0, RATE) / (0.05 + 0.95 * np.clip(
        np.sin(2 * np.pi * 3.0 * np.arange(2 * RATE) / RATE), 0, None) ** 2)
    clean = (tone * levels).astype(np.float32)

    def spread_db(x: np.ndarray) -> float:
        middles = x.reshape(8, RATE // 4)[:, RATE // 20:RATE // 5].astype(np.float64)
        syllables = 10 * np.log10(np.mean(middles ** 2, axis=1))
        return float(syllables.max() - syllables.min())

    for seed in range(3):
        out, params = simulate(clean, RATE, np.random.default_rng(seed),
                               _always("over_compression"), noises=[], rirs=[])
        # Measured 24 dB -> 2-15 dB over 20 draws; the peak is made up to where it was.
        assert spread_db(out) < spread_db(clean) - 8.0, params["over_compression"]
        assert np.max(np.abs(out)) == pytest.approx(np.max(np.abs(clean)), rel=1e-3)
    clean = _speech_like(2.0, RATE)
    out, params = simulate(clean, RATE, np.random.default_rng(2), _always("level"), noises=[],
                           rirs=[])
    assert 20 * np.log10(np.max(np.abs(out))) == pytest.approx(params["level"]["peak_dbfs"],
                                                               abs=0.01)


def test_reverb_stays_aligned_with_the_dry_signal():
    # Noise bursts, not a periodic tone: a tone's correlation peaks at every period.
    clean = _white(2.0, RATE, seed=12) * (_speech_like(2.0, RATE) != 0)
    clean *= np.clip(np.sin(2 * np.pi * 3.0 * np.arange(len(clean)) / RATE), 0.05, None)
    measured = filters.synthetic_rir(RATE, 0.8, np.random.default_rng(11))
    measured = np.concatenate([np.zeros(300, np.float32), -measured])  # pre-delay, inverted
    for seed in range(4):
        out, params = simulate(clean, RATE, np.random.default_rng(seed), _always("reverb"),
                               noises=[], rirs=[measured], rir_names=["room"])
        assert params["reverb"]["rir"] in ("room", "synthetic")
        estimate = estimate_offset(clean, out, max_lag_samples=1000)
        assert (estimate.offset, estimate.polarity) == (0, 1)
        assert np.mean(out ** 2) == pytest.approx(np.mean(clean ** 2), rel=1e-3)


def test_same_seed_same_output_and_params_round_trip_json():
    clean = _speech_like(1.5, RATE)
    noise = _white(3.0, RATE, seed=8)
    rir = filters.synthetic_rir(RATE, 0.4, np.random.default_rng(0))
    config = DamageConfig().with_enabled(DAMAGES, probability=1.0)
    runs = [simulate(clean, RATE, np.random.default_rng(seed), config, noises=[noise],
                     rirs=[rir]) for seed in (42, 42, 43)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert not np.allclose(runs[0][0], runs[2][0])
    for out, params in runs:
        assert out.dtype == np.float32 and out.shape == clean.shape
        assert params["applied"] == list(DAMAGES)
        assert json.loads(json.dumps(params)) == params
    assert DamageConfig.from_dict(config.to_dict()) == config
    assert json.loads(json.dumps(config.to_dict())) == config.to_dict()


def test_damage_names_for_stages_and_cli():
    assert DamageConfig.from_names("noise, reverb").enabled_names() == ("reverb", "noise")
    assert DamageConfig.from_names("all").enabled_names() == DAMAGES
    assert "codec" not in DamageConfig.from_names("all", without="codec,level").enabled_names()
    assert DamageConfig.only("mic-response").enabled_names() == ("mic_response",)
    with pytest.raises(AuralError, match="unknown damage"):
        DamageConfig.from_names("noise,hiss")


# --------------------------------------------------------------------------- data set + CLI


@pytest.fixture()
def tiny_catalogue(tmp_path, monkeypatch) -> Path:
    """A miniature shared-data folder: two train and one test speaker, one noise and one
    room per split, the noises tones at different frequencies."""
    root = tmp_path / "shared"
    times = np.arange(3 * RATE) / RATE
    files = {
        "speech/cmu_arctic/cmu_arctic_us_aew_a0001.wav": _speech_like(1.0, RATE, 1),
        "speech/cmu_arctic/cmu_arctic_us_aew_a0002.wav": _speech_like(1.2, RATE, 2),
        "speech/cmu_arctic/cmu_arctic_us_axb_a0001.wav": _speech_like(0.8, RATE, 3),
        "noise/doing_the_dishes.wav": 0.1 * np.sin(2 * np.pi * TRAIN_NOISE_HZ * times),
        "noise/running_tap.wav": 0.1 * np.sin(2 * np.pi * TEST_NOISE_HZ * times),
        "rir/small_room.wav": filters.synthetic_rir(RATE, 0.3, np.random.default_rng(1)),
        "rir/medium_room.wav": filters.synthetic_rir(RATE, 0.5, np.random.default_rng(2)),
    }
    for name, audio in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / name, np.asarray(audio, dtype=np.float32), RATE, subtype="FLOAT")
    (root / "README.md").write_text("tiny test catalogue\n")
    monkeypatch.setenv("AURAL_SHARED_DATA", str(root))
    monkeypatch.setenv("AURAL_EXTERNAL_DATA", str(tmp_path / "no_external"))
    return root


def _tone_power(signal: np.ndarray, frequency: float) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)))) ** 2
    freqs = np.fft.rfftfreq(len(signal), 1 / RATE)
    return float(spectrum[np.abs(freqs - frequency) < 15].sum())


def test_simulate_dataset_writes_pairs_from_one_split_only(tiny_catalogue, tmp_path):
    config = _always("noise")
    config = dataclasses.replace(config, noise=dataclasses.replace(
        config.noise, synthetic_probability=0.0))
    out_dir = tmp_path / "pairs"
    summary = simulate_dataset(out_dir, split="train", sample_rate=RATE, pairs_per_file=2,
                               seed=3, config=config, progress=False)
    assert (summary.pairs, summary.clean_files, summary.noises) == (4, 2, 1)
    assert summary.seconds == pytest.approx(2 * (1.0 + 1.2))
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["split"] == "train" and manifest["noises"] == ["noise/doing_the_dishes.wav"]
    assert len(manifest["pairs"]) == 4
    for entry in manifest["pairs"]:
        record = json.loads((out_dir / f"{entry['id']}.json").read_text())
        assert record["source"]["split"] == "train" and "_aew_" in record["source"]["path"]
        assert record["params"]["noise"]["name"] == "noise/doing_the_dishes.wav"
        clean, rate = sf.read(out_dir / entry["clean"], dtype="float32")
        degraded, _ = sf.read(out_dir / entry["degraded"], dtype="float32")
        assert rate == RATE and clean.shape == degraded.shape
        # The record reproduces the pair exactly.
        again, params = simulate(clean, RATE, np.random.default_rng(record["seed"]), config,
                                 noises=[0.1 * np.sin(2 * np.pi * TRAIN_NOISE_HZ
                                                      * np.arange(3 * RATE) / RATE)],
                                 rirs=[], noise_names=["noise/doing_the_dishes.wav"])
        assert params == record["params"]
        np.testing.assert_allclose(again, degraded, atol=1e-6)
        # What was added is the train noise; the test noise is nowhere in it.
        residual = degraded - clean
        assert _tone_power(residual, TEST_NOISE_HZ) < 1e-4 * _tone_power(residual,
                                                                        TRAIN_NOISE_HZ)
    # Two pairs of one file differ; a rerun with the same seed rewrites the same audio.
    first = sorted(out_dir.glob("*_degraded.wav"))
    a, b = (sf.read(path)[0] for path in first[:2])
    assert not np.allclose(a, b)
    simulate_dataset(out_dir, split="train", sample_rate=RATE, pairs_per_file=2, seed=3,
                     config=config, progress=False)
    np.testing.assert_array_equal(sf.read(first[0])[0], a)
    # Another split into the same folder would mix them: refused.
    with pytest.raises(AuralError, match="splits never mix"):
        simulate_dataset(out_dir, split="test", sample_rate=RATE, progress=False)


def test_cli_simulate_runs_on_a_tmp_folder(tiny_catalogue, tmp_path, capsys):
    from aural.cli import main

    out_dir = tmp_path / "cli_pairs"
    main(["simulate", "--out", str(out_dir), "--split", "test", "--pairs-per-file", "1",
          "--sample-rate", str(RATE), "--seed", "5", "--damage", "all", "--without", "level",
          "--quiet"])
    line = capsys.readouterr().out
    assert "wrote 1 pairs" in line and "x real time" in line
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["split"] == "test"
    assert manifest["noises"] == ["noise/running_tap.wav"]
    assert manifest["rirs"] == ["rir/medium_room.wav"]
    assert not manifest["config"]["level"]["enabled"]
    assert len(list(out_dir.glob("*_degraded.wav"))) == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", "--out", str(out_dir), "--damage", "noise,wind"])
    assert exit_info.value.code == 1
    assert "unknown damage wind" in capsys.readouterr().err


def test_bundled_ffmpeg_gives_a_real_aligned_codec_round_trip(monkeypatch):
    pytest.importorskip("imageio_ffmpeg")
    monkeypatch.setattr(simulator.shutil, "which", lambda name: None)
    rate = 48_000
    clean = _speech_like(2.0, rate)
    config = _always("codec")
    config = dataclasses.replace(config, codec=dataclasses.replace(
        config.codec, ffmpeg_probability=1.0, codecs=("opus",), bundled_ffmpeg=True))
    out, params = simulate(clean, rate, np.random.default_rng(0), config, noises=[], rirs=[])
    assert params["codec"]["method"] == "ffmpeg" and params["codec"]["codec"] == "opus"
    assert out.shape == clean.shape
    # Opus at 16 kHz: nothing above 8 kHz, and the passband still lines up with the input.
    assert _band_power_db(out, rate, 8500, rate / 2, 200, 3000) < -40
    assert estimate_offset(clean, out, max_lag_samples=2000).offset == 0
    # A lossy codec, not a filter: the passband differs from the input's by more than a
    # resampler would make it (measured -16.5 dB for Opus at 12 kbit/s; resampling alone -68 dB).
    band = filters.apply_sos(clean, filters.butter_lowpass(3000.0, rate))
    error = filters.apply_sos(out, filters.butter_lowpass(3000.0, rate)) - band
    assert 10 * np.log10(np.mean(error ** 2) / np.mean(band ** 2)) > -40
    # Without the bundled one, the same draw falls back to band-limiting.
    plain = dataclasses.replace(config, codec=dataclasses.replace(config.codec,
                                                                  bundled_ffmpeg=False))
    _, params = simulate(clean, rate, np.random.default_rng(0), plain, noises=[], rirs=[])
    assert params["codec"]["method"] == "resample"


def test_unknown_codec_is_refused():
    with pytest.raises(AuralError, match="unknown codec"):
        simulator.CodecDamage(codecs=("speex",))
