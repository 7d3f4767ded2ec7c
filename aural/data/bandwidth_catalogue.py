"""Which recordings really reach which frequency: the bandwidth survey, and the full-band
material bandwidth extension trains and tests on.

``aural/data/bandwidth_survey.json`` (written by ``scripts/survey_bandwidth.py``) holds each
speech and music file's measured cut-off, length and energy above 8, 12 and 16 kHz. Files are keyed by their path below the shared
data folder (``shared/...``) or the fetched-data folder (``external/...``).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

from aural.data.sources import Recording, catalogue, external_data_dir, shared_data_dir

SURVEY_PATH = Path(__file__).with_name("bandwidth_survey.json")


def survey_key(path: Path) -> str:
    """``shared/speech/...`` or ``external/klettres/...`` for a recording's path."""
    path = Path(path).resolve()
    for label, root in (("shared", shared_data_dir()), ("external", external_data_dir())):
        try:
            return f"{label}/{path.relative_to(Path(root).resolve()).as_posix()}"
        except ValueError:
            continue
    return path.as_posix()


@lru_cache(maxsize=1)
def _survey() -> dict[str, dict]:
    if not SURVEY_PATH.exists():
        return {}
    return json.loads(SURVEY_PATH.read_text())["files"]


def usable_bandwidth_hz(recording: Recording) -> float | None:
    """How far up a recording has real content (Hz), or None if it was not surveyed.

    The measured cut-off, lowered where the top is a flat noise floor rather than sound:
    natural speech and music fall with frequency, so a 16-20 kHz band as strong as the
    8-12 kHz one is hiss (the file counts as 8 kHz); a top octave 50 dB below the voice
    band holds nothing a model could learn from (the file counts as 16 kHz).
    """
    entry = _survey().get(survey_key(recording.path))
    if entry is None:
        return None
    cutoff, _, e8, _, e16 = entry
    if cutoff >= 16_000 and e8 - e16 < 3.0:
        return 8_000.0
    if cutoff >= 19_000 and e16 < -50.0:
        return 16_000.0
    return float(cutoff)


def full_band_recordings(split: str, *, min_bandwidth_hz: float, test_set: bool = False,
                         per_source: int = 1) -> list[tuple[Recording, float]]:
    """Speech and music of ``split`` whose measured bandwidth reaches ``min_bandwidth_hz``,
    with that bandwidth. ``test_set`` keeps ``per_source`` files per source (song, speaker)
    and skips clips shorter than two seconds, so a few voices do not dominate the test."""
    chosen: list[tuple[Recording, float]] = []
    seen: Counter[str] = Counter()
    for recording in catalogue(split=split, kinds=("speech", "music"),
                               collections=("gcompris", "sonic_pi_music")):
        bandwidth = usable_bandwidth_hz(recording)
        if bandwidth is None or bandwidth < min_bandwidth_hz:
            continue
        if test_set:
            seconds = _survey()[survey_key(recording.path)][1]
            if seen[recording.source] >= per_source or seconds < 2.0:
                continue
            seen[recording.source] += 1
        chosen.append((recording, bandwidth))
    return chosen
