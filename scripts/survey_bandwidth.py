"""Measure every speech and music recording's real bandwidth; write aural/data/bandwidth_survey.json.

Bandwidth extension can only learn what its targets contain, so each recording is
checked with its long-term spectrum (:func:`aural.dsp.bandwidth.detect_cutoff`, at the
file's own rate) and the stage trains each band only on files that really have it.
Run after `aural fetch-data`: python scripts/survey_bandwidth.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aural.data.bandwidth_catalogue import SURVEY_PATH, survey_key  # noqa: E402


def main() -> None:
    from tqdm import tqdm

    from aural.audio_io import load_audio
    from aural.data.sources import catalogue
    from aural.dsp.bandwidth import band_energies_db, detect_cutoff_from_power, long_term_power
    from aural.errors import AuralError

    recordings = [r for r in catalogue(kinds=("speech", "music"),
                                       collections=("gcompris", "sonic_pi_music"))]
    survey: dict[str, dict] = {}
    unreadable = []
    for recording in tqdm(recordings, unit="file"):
        try:
            audio, rate = load_audio(recording.path, mono=True)
        except AuralError:
            unreadable.append(str(recording.path))
            continue
        power = long_term_power(audio[0], rate)
        energies = band_energies_db(power, rate)
        survey[survey_key(recording.path)] = [
            int(round(detect_cutoff_from_power(power, rate), -1)),
            round(audio.shape[1] / rate, 2),
            *[round(max(energies[k], -99.0)) for k in (8000.0, 12000.0, 16000.0)]]
    payload = {"how": "aural.dsp.bandwidth.detect_cutoff_from_power on each file's long-term "
                      "spectrum at its own rate (scripts/survey_bandwidth.py)",
               "columns": ["cutoff_hz", "seconds", "above_8k_db", "above_12k_db", "above_16k_db"],
               "note": "above_Nk_db: mean power in N..N+4 kHz relative to 0.5-4 kHz",
               "unreadable": unreadable, "files": survey}
    SURVEY_PATH.write_text(json.dumps(payload, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{len(survey)} files surveyed, {len(unreadable)} unreadable -> {SURVEY_PATH}")


if __name__ == "__main__":
    main()
