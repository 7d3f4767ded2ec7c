"""Classical voice/background separators the source_separation stage is set beside.

Each is ``fn(mixture, sample_rate) -> voice`` (1-D float32, same length); the background
is the mixture minus the voice, as for the stage, so every system is scored alike.

- HPSS (Fitzgerald 2010, librosa): the voice taken as the harmonic part (soft mask).
- REPET-SIM (Rafii & Pardo 2012; librosa's ``nn_filter``): the background is what repeats
  (the median of each frame's most similar frames); the voice is the soft-masked rest.
- the shipped noise_reduction stage used as a voice extractor.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from aural.dsp.stft import StftConfig, istft, stft


def _config(rate: int) -> StftConfig:
    n_fft = 1 << int(np.round(np.log2(rate * 0.046)))   # about 46 ms: 2048 at 44.1/48 kHz
    return StftConfig(n_fft=n_fft, hop=n_fft // 2)


def _masked(mixture: np.ndarray, rate: int, mask_fn) -> np.ndarray:
    config = _config(rate)
    spectrum = stft(np.asarray(mixture, np.float32), config)
    mask = mask_fn(np.abs(spectrum).T, rate, config).T
    return istft(spectrum * mask, len(mixture), config).astype(np.float32)


def _hpss_mask(magnitude: np.ndarray, rate: int, config: StftConfig) -> np.ndarray:
    import librosa

    return librosa.decompose.hpss(magnitude, mask=True)[0]


def _repet_sim_mask(magnitude: np.ndarray, rate: int, config: StftConfig) -> np.ndarray:
    import librosa

    # Frames at least 2 s apart count as repetitions (librosa's vocal separation recipe).
    width = max(int(2.0 * rate / config.hop), 1)
    if magnitude.shape[1] <= 2 * width:
        width = max(magnitude.shape[1] // 4, 1)
    repeating = librosa.decompose.nn_filter(magnitude, aggregate=np.median, metric="cosine",
                                            width=width)
    repeating = np.minimum(magnitude, repeating)
    return librosa.util.softmask(magnitude - repeating, 10.0 * repeating, power=2)


def hpss_voice(mixture: np.ndarray, rate: int) -> np.ndarray:
    """The harmonic part of the mixture as the voice."""
    return _masked(mixture, rate, _hpss_mask)


def repet_sim_voice(mixture: np.ndarray, rate: int) -> np.ndarray:
    """What does not repeat in the mixture as the voice."""
    return _masked(mixture, rate, _repet_sim_mask)


@lru_cache(maxsize=1)
def _noise_reduction():
    from aural.stages import stage_class

    return stage_class("noise_reduction").load()


def noise_reduction_voice(mixture: np.ndarray, rate: int) -> np.ndarray:
    """The shipped noise_reduction stage's output as the voice."""
    return _noise_reduction().process(np.asarray(mixture, np.float32)[np.newaxis], rate)[0]


SEPARATION_BASELINES = {
    "HPSS (harmonic = voice)": hpss_voice,
    "REPET-SIM": repet_sim_voice,
    "noise_reduction stage": noise_reduction_voice,
}
