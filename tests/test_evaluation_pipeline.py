"""`aural evaluate pipeline`: its validation items, and a candidate model beside the shipped."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from aural.audio_io import load_audio

RATE = 48_000


def test_validation_items_are_their_own_and_join_word_clips_into_memos(shared_data):
    """Choosing between models on validation items must not look at the test items: other
    recordings, no real iPad take; its few sentences are helped out by word-clip memos
    (klettres clips, there after `aural fetch-data`; without them, sentences and a song)."""
    from aural.data.sources import catalogue
    from aural.evaluation_pipeline import SEVERITIES, WORDS_PER_MEMO, pipeline_items

    validation = pipeline_items(split="validation")
    test_names = {item["name"] for item in pipeline_items(split="test", max_speech_files=2)}
    names = [item["name"] for item in validation]
    assert not set(names) & test_names and "daps_m2_ipad" not in names
    clips = [r for r in catalogue(split="validation") if r.source.startswith("klettres_")]
    memos = [item for item in validation if "klettres" in item["name"]]
    assert len(memos) == len(SEVERITIES) * (len(clips) // WORDS_PER_MEMO)
    assert len(validation) - len(memos) >= 2 * len(SEVERITIES) + 1   # sentences, the song
    assert all(len(item["reference"]) > WORDS_PER_MEMO * 0.6 * RATE for item in memos)
    assert {item["name"].split("@")[1] for item in validation} >= set(SEVERITIES)
    again = pipeline_items(split="validation")            # seeded: the same damage each time
    np.testing.assert_array_equal(again[0]["degraded"], validation[0]["degraded"])


def test_word_clips_join_into_memos_with_a_pause_after_each(shared_data):
    from types import SimpleNamespace

    from aural.evaluation_pipeline import WORDS_PER_MEMO, _word_memos

    paths = sorted((shared_data / "speech/gcompris_voices/en/alphabet").glob("*.ogg"))
    clips = [SimpleNamespace(path=p, source="gcompris_en") for p in paths[:2 * WORDS_PER_MEMO + 1]]
    memos = _word_memos(clips)
    assert len(memos) == 2                                # the odd clip left over is left out
    words = [load_audio(p, sample_rate=RATE, mono=True)[0][0] for p in paths[:WORDS_PER_MEMO]]
    name, memo = memos[0]
    assert name == f"gcompris_en_{paths[0].stem}+{WORDS_PER_MEMO - 1}"
    assert len(memo) == sum(len(w) for w in words) + WORDS_PER_MEMO * int(0.3 * RATE)
    np.testing.assert_array_equal(memo[:len(words[0])], words[0])
    gap = memo[len(words[0]):len(words[0]) + int(0.3 * RATE)]
    assert not np.any(gap)


def test_a_candidate_model_runs_in_the_chain_beside_the_shipped_one(shared_data, tmp_path):
    """--model STAGE=PATH adds the chain with that file in place of the shipped one (here a
    copy of it: the same output)."""
    from aural.evaluation_pipeline import AURAL, _systems
    from aural.modelfile import default_model_path

    shipped = default_model_path("dynamic_compression")
    copy = tmp_path / "candidate.h5"
    shutil.copy(shipped, copy)
    shutil.copy(shipped.with_suffix(".json"), copy.with_suffix(".json"))
    systems = _systems(orders=False, models={"dynamic_compression": copy})
    memo, _ = load_audio(shared_data / "paired/voicebank_demand/noisy/p232_005.wav",
                         sample_rate=RATE, mono=True, duration=2.0)
    candidate = systems["AURAL with dynamic_compression from candidate.h5"](memo[0], "speech")
    np.testing.assert_allclose(candidate, systems[AURAL](memo[0], "speech"), atol=1e-6)


@pytest.mark.parametrize("args, message", [
    (["pipeline", "--model", "dynamic_compression=missing.h5"], "no such model file"),
    (["pipeline", "--model", "missing.h5"], "STAGE=PATH"),
    (["dynamic_compression", "--split", "validation"], "--split is for"),
])
def test_bad_evaluate_options_get_one_line(tmp_path, args, message):
    result = subprocess.run([sys.executable, "-m", "aural", "evaluate", *args, "--out",
                             str(tmp_path / "report")], capture_output=True, text=True,
                            timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "report").exists()
