"""Measure `--content auto` (``aural.content.classify_content``) on every real recording.

    python scripts/measure_content_rule.py [--out reports/content_rule]

Speech (the shared recordings, noisy real ones, and GCompris and klettres words strung
into 20 s per speaker) and music (song mixes, stems, fetched band songs and loops), each
as recorded and through a phone band (8 kHz and back); then the held-out items the
stages are measured on (noise_reduction's noisy speech, split into speech over music and
speech in other noise; the pipeline's; frequency_generation's). Per material: how many
read as music by held notes alone (the rule before the beat measure) and with the beat.
"""

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from aural.audio_io import load_audio, resample
from aural.content import MUSIC, classify_content
from aural.modelfile import write_report

RATE = 16_000
STRING_S = 20.0


def strung_words(paths: list[Path]) -> np.ndarray:
    """Short word recordings of one speaker, one after another, up to 20 s. The pauses
    vary (0.15-0.6 s, seeded) as a speaker's do: equal pauses after words of equal length
    (klettres' letters) make a metronome that no one speaks."""
    rng = np.random.default_rng(0)
    pieces, total = [], 0
    for path in paths:
        word = load_audio(path, sample_rate=RATE, mono=True)[0][0]
        pause = np.zeros(int(rng.uniform(0.15, 0.6) * RATE), np.float32)
        pieces += [word, pause]
        total += len(word) + len(pause)
        if total >= STRING_S * RATE:
            break
    return np.concatenate(pieces)


def recordings():
    """(material, name, mono 16 kHz audio) for the shared and fetched recordings."""
    from aural.data.sources import catalogue, shared_data_dir

    words = defaultdict(list)
    for recording in catalogue(kinds=("speech", "music"),
                               collections=("gcompris", "sonic_pi_music", "fretsonfire")):
        if recording.source.startswith(("gcompris_", "klettres_")):
            words[recording.source].append(recording.path)
            continue
        audio = load_audio(recording.path, sample_rate=RATE, mono=True)[0][0][: 60 * RATE]
        yield recording.kind, recording.path.stem, audio
    for source, paths in sorted(words.items()):
        yield "speech", source + " (words strung)", strung_words(sorted(paths)[:60])
    for path in sorted((shared_data_dir() / "noisy_real").glob("*.wav")):
        yield "speech", path.stem, load_audio(path, sample_rate=RATE, mono=True)[0][0]


def held_out_items():
    """(material, name, mono audio, rate) for the items the stages are evaluated on."""
    from aural.evaluation_pipeline import pipeline_items
    from aural.stages import stage_class

    for split in ("validation", "test"):
        stage = stage_class("noise_reduction")()
        for item in stage.test_items(split):
            noise = item["name"].split("+")[-1]
            over_music = noise.startswith(("musdb", "sonic_pi_loop", "ultimate", "bearlin"))
            kind = "speech over music" if over_music else "speech in noise"
            yield f"noise_reduction's {kind}", item["name"], item["degraded"], stage.config.sample_rate
        fg = stage_class("frequency_generation")()
        for item in fg.test_items(split):
            yield f"frequency_generation's {item['group']}", item["name"], item["degraded"], \
                fg.config.sample_rate
    for item in pipeline_items():
        yield "pipeline " + item["group"], item["name"], item["degraded"], 48_000


def decide(material: str, name: str, audio: np.ndarray, rate: int) -> dict:
    mono = np.asarray(audio, np.float32).reshape(-1, np.shape(audio)[-1]).mean(axis=0)
    decision = classify_content(mono, rate)
    notes_alone = decision.persistence >= 0.17 or (
        decision.persistence >= 0.1 and decision.quiet_share < 0.03
        and decision.modulation_depth < 0.44)
    row = {"material": material, "name": name, "seconds": round(len(mono) / rate, 1),
           "content": decision.content, "music_by_notes_alone": bool(notes_alone),
           "persistence": decision.persistence, "beat": decision.beat}
    print(f"{material[:40]:40s} {name[:48]:48s} {decision.describe()}", flush=True)
    return row


def measure() -> list[dict]:
    rows = []
    for kind, name, audio in recordings():
        if len(audio) < 3 * RATE:  # shorter: too little to tell, always speech
            continue
        phone = resample(resample(audio[np.newaxis], RATE, 8_000), 8_000, RATE)[0]
        rows.append(decide(f"{kind} recordings", name, audio, RATE))
        rows.append(decide(f"{kind} recordings through a phone band", name, phone, RATE))
    rows += [decide(*item) for item in held_out_items()]
    return rows


def summary(rows: list[dict]) -> dict:
    by_material = defaultdict(list)
    for row in rows:
        by_material[row["material"]].append(row)
    return {material: {"files": len(group),
                       "music_by_notes_alone": sum(r["music_by_notes_alone"] for r in group),
                       "music": sum(r["content"] == MUSIC for r in group)}
            for material, group in by_material.items()}


def markdown(table: dict) -> str:
    lines = ["# `--content auto`: how many recordings read as music", "",
             "`python scripts/measure_content_rule.py`; recordings under 3 s are left out "
             "(always speech). \"notes alone\": the rule before the beat measure.", "",
             "| material | files | music (notes alone) | music (notes or beat) |",
             "|---|---|---|---|"]
    lines += [f"| {m} | {v['files']} | {v['music_by_notes_alone']} | {v['music']} |"
              for m, v in table.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/content_rule")
    args = parser.parse_args()
    rows = measure()
    table = summary(rows)
    text = markdown(table)
    write_report(args.out, {"summary": table, "decisions": rows}, text)
    print(text)


if __name__ == "__main__":
    main()
