"""How clean is a collection? The noise-floor SNR estimate of `aural regenerate`'s
clean-input gate (``aural.dsp.noise_floor``) over the audio files of each folder.

    python scripts/survey_noise_floor.py FOLDER [FOLDER ...] [--sample 80] [--exclude NAME]

Prints, per folder, the median, 10th and 90th percentiles of the estimate (dB) and the
share at or above the gate's threshold, over a seeded random sample of its files
(unreadable files are counted and skipped). Example (README, noise_reduction):

    python scripts/survey_noise_floor.py ../shared/data/speech/gcompris_voices \\
        ../shared/data/speech --exclude gcompris_voices
"""

import argparse
from pathlib import Path

import numpy as np

from aural.audio_io import load_audio
from aural.dsp.noise_floor import estimated_snr_db
from aural.errors import AuralError
from aural.regenerate import CLEAN_SNR_DB, find_inputs


def survey(folder: Path, sample: int, exclude: list[str]) -> tuple[np.ndarray, int]:
    """Estimates over a seeded sample of ``folder``'s files, and how many were unreadable."""
    files = [f for f in find_inputs(folder) if not set(exclude) & set(f.relative_to(folder).parts)]
    chosen = np.random.default_rng(0).permutation(len(files))[:sample]
    estimates, unreadable = [], 0
    for index in chosen:
        try:
            estimates.append(estimated_snr_db(*load_audio(files[index])))
        except AuralError:
            unreadable += 1
    return np.array([e for e in estimates if np.isfinite(e)]), unreadable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--sample", type=int, default=80)
    parser.add_argument("--exclude", action="append", default=[],
                        help="leave out files under a folder of this name (repeatable)")
    args = parser.parse_args()
    for folder in args.folders:
        values, unreadable = survey(folder, args.sample, args.exclude)
        if not len(values):
            print(f"{folder}: no measurable file ({unreadable} unreadable)")
            continue
        p10, median, p90 = np.percentile(values, [10, 50, 90])
        print(f"{folder}: {len(values)} files ({unreadable} unreadable): median {median:.1f} dB, "
              f"10th percentile {p10:.1f}, 90th {p90:.1f}; at or above {CLEAN_SNR_DB:g} dB: "
              f"{np.mean(values >= CLEAN_SNR_DB):.0%}")


if __name__ == "__main__":
    main()
