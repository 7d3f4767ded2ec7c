"""Train a stage once per technique switch with the same budget, then tabulate the ablation.

    python scripts/run_ablations.py STAGE [--minutes 20] [--epochs N] \\
        [--only pitch,psychoacoustic] [--runs /work/runs/ablations] [--out reports/ablations/STAGE]

Runs one training at a time (`aural train STAGE --set SWITCH=VALUE`), each in its own run
folder under --runs; an interrupted suite continues where it stopped when run again (a
finished model is kept, an unfinished run is resumed); a variant whose report and sidecar
are already in --out (committed by an earlier session, on another machine) is not trained
again, so the suite can be spread over sessions (each variant is evaluated as soon as it
is trained, in --only's order). "pretrained" first runs `aural pretrain STAGE` for
--pretrain-minutes (default: --minutes). Then `scripts/ablation.py`'s table is written.

--epochs gives every variant the same number of steps (epochs of the stage's
steps_per_epoch) instead of the same minutes, with --minutes as a cap: the comparison then
does not depend on what else the machine runs, and the table's cost column shows the time.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from aural.ablation import measured, run_ablation
from aural.stages.spectral import TECHNIQUES_OFF

#: Variant name -> config overrides on top of every switch off (``TECHNIQUES_OFF``: the
#: shipped defaults may have one on, as noise_reduction has the voice head).
VARIANTS = {
    "baseline": {},
    "pitch": {"condition_on_pitch": True},
    "psychoacoustic": {"psychoacoustic_inputs": True},
    "perceptual_loss": {"perceptual_loss_weighting": True},
    "auxiliary_pitch": {"auxiliary_pitch_weight": 0.3},
    "auxiliary_voice": {"auxiliary_voice_weight": 0.3},
    "augmentation": {"augment_stretch": 0.1, "augment_semitones": 2.0},
    "pretrained": {},   # init_from the pre-trained file, added below
}


def _run(command: list[str]) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def _train(kind: str, stage: str, folder: Path, output: Path, minutes: float,
           overrides: dict) -> None:
    """``aural train``/``pretrain`` into ``folder``, resumed if it already holds a run."""
    if output.exists():
        return
    command = [sys.executable, "-m", "aural", kind, stage, "--run-dir", str(folder),
               "--output", str(output), "--minutes", str(minutes), "--no-progress"]
    if (folder / "state.json").exists():
        command.append("--resume")
    else:
        command += [f"--set={key}={json.dumps(value)}" for key, value in overrides.items()]
    _run(command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--epochs", type=int, default=None,
                        help="same step budget for every variant (minutes become a cap)")
    parser.add_argument("--pretrain-minutes", type=float, default=None)
    parser.add_argument("--only", default=",".join(VARIANTS),
                        help="comma-separated variants (baseline is always included)")
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/ablations"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    names = ["baseline"] + [n for n in args.only.split(",") if n and n != "baseline"]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    root = args.runs / args.stage
    out = args.out or Path("reports") / "ablations" / args.stage
    models = {}
    for name in names:
        models[name] = root / f"{name}.h5"
        if (out / name / "sidecar.json").exists() and not models[name].exists():
            print(f"{name}: measured in an earlier session ({out / name}), not trained again")
            continue
        overrides = {**TECHNIQUES_OFF, **VARIANTS[name]}
        if args.epochs:
            overrides["max_epochs"] = args.epochs
        if name == "pretrained":
            encoder = root / "pretrained_encoder.h5"
            _train("pretrain", args.stage, root / "pretrain_run", encoder,
                   args.pretrain_minutes or args.minutes, {})
            overrides["init_from"] = str(encoder)
        _train("train", args.stage, root / f"{name}_run", models[name], args.minutes, overrides)
        measured(args.stage, models[name], out / name)
    # Variants measured in earlier sessions stay in the table.
    earlier = {n: root / f"{n}.h5" for n in VARIANTS
               if n not in models and (out / n / "sidecar.json").exists()}
    models = {n: (models | earlier)[n] for n in VARIANTS if n in models or n in earlier}
    run_ablation(args.stage, models, out, baseline="baseline")
    print((out / "ablation.md").read_text())


if __name__ == "__main__":
    main()
