"""What PESQ-wb hears of a timbre change, next to what it hears of noise.

    python scripts/measure_pesq_timbre.py [--split test] [--out reports/frequency_generation/pesq_timbre]

frequency_generation changes timbre: slow per-band gains. This applies changes of that
kind (static shelves and tilts of 6 dB, a 4 Hz +-3 dB wobble of the 2-8 kHz band) to the
held-out studio speech of frequency_expansion's test set and reports PESQ-wb and LSD of
each against the untouched recording, next to white noise 35 and 25 dB below the speech.
PESQ-wb partly compensates a system's frequency response (ITU-T P.862's transfer-function
equalisation), so a timbre stage can move LSD far more than PESQ-wb.
"""

import argparse
import json

import numpy as np

from aural.dsp.filters import apply_sos, butter_highpass, butter_lowpass, high_shelf, low_shelf
from aural.metrics import log_spectral_distance, pesq_wb
from aural.modelfile import write_report
from aural.stages import stage_class

RATE = 48_000


def band_2_8k(speech: np.ndarray) -> np.ndarray:
    return apply_sos(apply_sos(speech, butter_highpass(2000, RATE, order=2)),
                     butter_lowpass(8000, RATE, order=2))


def changes(speech: np.ndarray) -> dict[str, np.ndarray]:
    """Each change by name, applied to ``speech`` (1-D, 48 kHz)."""
    t = np.arange(len(speech)) / RATE
    wobble = 10 ** (3 * np.sin(2 * np.pi * 4 * t) / 20) - 1
    rms = np.sqrt(np.mean(speech ** 2))
    noise = np.random.default_rng(0).standard_normal(len(speech)).astype(np.float32)
    tilt = apply_sos(apply_sos(speech, low_shelf(500, RATE, gain_db=-6.0)),
                     high_shelf(3000, RATE, gain_db=6.0))
    return {"unchanged": speech,
            "high shelf +6 dB from 3 kHz": apply_sos(speech, high_shelf(3000, RATE, gain_db=6.0)),
            "2-8 kHz band -6 dB": speech - 0.5 * band_2_8k(speech),
            "tilt: -6 dB below 500 Hz, +6 dB above 3 kHz": tilt,
            "2-8 kHz band wobbling +-3 dB at 4 Hz": speech + wobble * band_2_8k(speech),
            "white noise 35 dB below": speech + noise * rms * 10 ** (-35 / 20),
            "white noise 25 dB below": speech + noise * rms * 10 ** (-25 / 20)}


def measure(split: str) -> list[dict]:
    rows = []
    for name, clean, content, _ in stage_class("frequency_expansion")().test_recordings(
            split, per_source=3):
        if content != "speech":
            continue
        for change, changed in changes(clean).items():
            changed = changed.astype(np.float32)
            rows.append({"item": name, "change": change, "pesq_wb": pesq_wb(clean, changed, RATE),
                         "lsd": log_spectral_distance(clean, changed, RATE)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def summary(rows: list[dict]) -> list[dict]:
    names = list(dict.fromkeys(r["change"] for r in rows))
    return [{"change": c, "items": len(mine), "pesq_wb": float(np.mean([r["pesq_wb"] for r in mine])),
             "pesq_wb_median": float(np.median([r["pesq_wb"] for r in mine])),
             "pesq_wb_min": float(np.min([r["pesq_wb"] for r in mine])),
             "lsd": float(np.mean([r["lsd"] for r in mine]))}
            for c in names for mine in [[r for r in rows if r["change"] == c]]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=("test", "validation"))
    parser.add_argument("--out", default="reports/frequency_generation/pesq_timbre")
    args = parser.parse_args()
    rows = measure(args.split)
    table = summary(rows)
    lines = [f"# What PESQ-wb hears: timbre changes vs noise ({args.split} studio speech, "
             f"{table[0]['items']} recordings)", "",
             "| change | PESQ-wb mean | median | min | LSD (dB) |", "|---|---|---|---|---|"]
    lines += [f"| {r['change']} | {r['pesq_wb']:.3f} | {r['pesq_wb_median']:.3f} "
              f"| {r['pesq_wb_min']:.3f} | {r['lsd']:.2f} |"
              for r in table]
    write_report(args.out, {"split": args.split, "summary": table, "items": rows},
                 "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
