"""Choose a stage's inference-time setting on the validation split (never the test set).

    python scripts/tune_inference_setting.py STAGE FIELD VALUE [VALUE ...] \\
        [--metric lsd --lower-is-better] [--guard pesq_wb] [--also dnsmos_ovrl]
        [--model MODEL.h5] [--apply]

Prints the validation metrics for each value; with --apply, writes the best value into the
model's sidecar config (the weights are unchanged) with the sweep's results. Example:

    python scripts/tune_inference_setting.py frequency_expansion fine_structure \\
        smooth replicated --metric lsd --lower-is-better --apply
"""

import argparse
import json

from aural.evaluation import best_setting, sweep_inference_setting
from aural.modelfile import default_model_path, read_sidecar, update_sidecar
from aural.stages import stage_class


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument("field")
    parser.add_argument("values", nargs="+")
    parser.add_argument("--metric", default="pesq_wb")
    parser.add_argument("--lower-is-better", action="store_true")
    parser.add_argument("--also", action="append", default=[], metavar="METRIC",
                        help="another metric to report beside --metric (repeatable)")
    parser.add_argument("--guard", metavar="METRIC",
                        help="only values whose METRIC (higher is better) is at least the first "
                             "value's (the first value is the reference), e.g. LSD without losing "
                             "PESQ-wb")
    parser.add_argument("--model", default=None)
    parser.add_argument("--apply", action="store_true")
    parser.add_argument("--item-metrics", action="store_true",
                        help="score with the stage's own per-item metrics, as `aural evaluate` "
                             "does (e.g. LSD up to each file's bandwidth)")
    args = parser.parse_args()
    values = [_value(v) for v in args.values]
    path = args.model or default_model_path(args.stage)
    stage = stage_class(args.stage).load(path)
    guard = [args.guard] if args.guard else []
    metrics = tuple(dict.fromkeys([args.metric, *guard, *args.also, "si_sdr"]))
    results = sweep_inference_setting(stage, args.field, values, metrics=metrics,
                                      item_metrics=args.item_metrics)
    for value, scores in results.items():
        print(f"{args.field}={value}: " + "  ".join(f"{m} {v:.3f}" for m, v in scores.items()))
    best = best_setting(results, args.metric, lower_is_better=args.lower_is_better,
                        guard=args.guard)
    print(f"best validation {args.metric}: {args.field}={best}")
    if args.apply:
        config = read_sidecar(path)["config"]
        config[args.field] = best
        update_sidecar(path, config=config, **{f"{args.field}_tuning": {
            "split": "validation", "metric": args.metric, "guard": args.guard,
            "results": {str(k): v for k, v in results.items()}}})


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


if __name__ == "__main__":
    main()
