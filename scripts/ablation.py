"""Measure models of one stage that differ by one switch against a baseline, on the same
held-out files: paired differences with 95 % confidence intervals, and training cost.

    python scripts/ablation.py STAGE --baseline NAME=MODEL.h5 --variant NAME=MODEL.h5 ... \\
        [--out reports/ablations/STAGE]

Each model is trained first with `aural train STAGE --set SWITCH=VALUE --output MODEL.h5`
(the same budget as the baseline). Example:

    python scripts/ablation.py noise_reduction --baseline default=runs/nr_base.h5 \\
        --variant pitch=runs/nr_pitch.h5 --variant psychoacoustic=runs/nr_psy.h5
"""

import argparse
from pathlib import Path

from aural.ablation import run_ablation


def _named(text: str) -> tuple[str, Path]:
    name, _, path = text.partition("=")
    if not path:
        raise argparse.ArgumentTypeError(f"expected NAME=MODEL.h5, got {text!r}")
    return name, Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument("--baseline", type=_named, required=True)
    parser.add_argument("--variant", type=_named, action="append", default=[])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    models = dict([args.baseline, *args.variant])
    out = args.out or Path("reports") / "ablations" / args.stage
    result = run_ablation(args.stage, models, out, baseline=args.baseline[0])
    print((out / "ablation.md").read_text())
    print(f"written to {out}/ablation.md and ablation.json ({len(result['rows'])} models)")


if __name__ == "__main__":
    main()
