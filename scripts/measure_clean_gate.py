"""Measure the clean-input gate: when `aural regenerate` leaves noise_reduction out.

    python scripts/measure_clean_gate.py [--out reports/clean_input_gate]

For every held-out item (noise_reduction's noisy test set with its clean references,
frequency_expansion's studio recordings, and the pipeline's phone-damaged speech), the
noise-floor SNR estimate (``aural.dsp.noise_floor``) and PESQ-wb of the input and of the
shipped noise_reduction's output. On the validation split it sweeps the threshold (the
place ``CLEAN_SNR_DB`` is chosen); on the test split it reports, per material, how often
noise_reduction is left out and PESQ-wb always-on vs gated at ``CLEAN_SNR_DB``.
"""

import argparse
import json
from collections import defaultdict

import numpy as np

from aural.dsp.noise_floor import estimated_snr_db
from aural.metrics import pesq_wb
from aural.modelfile import write_report
from aural.regenerate import CLEAN_SNR_DB
from aural.stages import stage_class

RATE = 48_000
THRESHOLDS_DB = (38.0, 40.0, 42.0, 44.0, 46.0, 48.0, 50.0)


def materials(split: str):
    """(material, degraded, reference) for every item of ``split``, 1-D at 48 kHz."""
    from aural.evaluation_pipeline import pipeline_items

    nr = stage_class("noise_reduction")()
    references = {}
    for item in nr.test_items(split):
        yield "noisy speech " + item["group"], item["degraded"], item["reference"]
        references[item["name"].split("+")[0]] = item["reference"]
    for reference in references.values():
        yield "clean speech (noise_reduction's references)", reference, reference
    for _, clean, content, _ in stage_class("frequency_expansion")().test_recordings(split):
        yield f"studio {content} (frequency_expansion's)", clean, clean
    if split == "test":
        for item in pipeline_items():
            degraded, reference = (np.asarray(item[k], np.float32) for k in ("degraded", "reference"))
            if degraded.shape == reference.shape:
                yield "pipeline " + item["group"], degraded, reference


def measure(split: str) -> list[dict]:
    """One row per item: material, SNR estimate, PESQ-wb of the input and of noise_reduction."""
    stage = stage_class("noise_reduction").load()
    rows = []
    for material, degraded, reference in materials(split):
        mono = [np.asarray(x, np.float32).reshape(-1, np.shape(x)[-1]).mean(axis=0)
                for x in (degraded, reference)]
        denoised = stage.process(mono[0][np.newaxis], RATE)[0]
        rows.append({"material": material, "snr_db": estimated_snr_db(mono[0], RATE),
                     "pesq_input": pesq_wb(mono[1], mono[0], RATE),
                     "pesq_noise_reduction": pesq_wb(mono[1], denoised, RATE)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def gated(rows: list[dict], threshold: float) -> float:
    """Mean PESQ-wb when noise_reduction is left out at and above ``threshold``."""
    return float(np.mean([r["pesq_input"] if r["snr_db"] >= threshold
                          else r["pesq_noise_reduction"] for r in rows]))


def summary(rows: list[dict]) -> dict:
    by_material = defaultdict(list)
    for row in rows:
        by_material[row["material"]].append(row)
    return {material: {"files": len(group),
                       "left_out": int(sum(r["snr_db"] >= CLEAN_SNR_DB for r in group)),
                       "pesq_input": float(np.mean([r["pesq_input"] for r in group])),
                       "pesq_always": float(np.mean([r["pesq_noise_reduction"] for r in group])),
                       "pesq_gated": gated(group, CLEAN_SNR_DB)}
            for material, group in by_material.items()}


def markdown(report: dict) -> str:
    lines = ["# Clean-input gate: noise_reduction left out above "
             f"{CLEAN_SNR_DB:g} dB estimated SNR", "",
             "`python scripts/measure_clean_gate.py`; PESQ-wb means per material.", "",
             "## Validation: mean PESQ-wb over all items by threshold", "",
             "| threshold (dB) | always on | gated |", "|---|---|---|"]
    lines += [f"| {t:g} | {v['always']:.3f} | {v['gated']:.3f} |"
              for t, v in ((float(k), v) for k, v in report["validation_sweep"].items())]
    lines += ["", "## Test", "", "| material | files | left out | input | always on | gated |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {m} | {v['files']} | {v['left_out']} | {v['pesq_input']:.2f} | "
              f"{v['pesq_always']:.2f} | {v['pesq_gated']:.2f} |"
              for m, v in report["test"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/clean_input_gate")
    args = parser.parse_args()
    validation = measure("validation")
    always = float(np.mean([r["pesq_noise_reduction"] for r in validation]))
    report = {"threshold_db": CLEAN_SNR_DB,
              "validation_sweep": {str(t): {"always": always, "gated": gated(validation, t)}
                                   for t in THRESHOLDS_DB},
              "test": summary(measure("test"))}
    text = markdown(report)
    write_report(args.out, report, text)
    print(text)


if __name__ == "__main__":
    main()
