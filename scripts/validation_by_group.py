"""frequency_generation on its validation items, per group: the earlier stages alone against
the earlier stages and the generator (LSD to each file's bandwidth, PESQ-wb).

    python scripts/validation_by_group.py MODEL.h5
"""

import argparse
import collections

import numpy as np

from aural.evaluation import score_item
from aural.stages import stage_class


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    stage = stage_class("frequency_generation").load(parser.parse_args().model)
    rate, rows = stage.config.sample_rate, collections.defaultdict(list)
    for item in stage.test_items("validation"):
        scores = [score_item(stage, item, estimate, ("lsd", "pesq_wb"), with_item_metrics=True)
                  for estimate in (stage.earlier_evaluated(item["degraded"], rate),
                                   stage.evaluated(item["degraded"], rate))]
        rows[item["group"]].append([s[m] for m in ("lsd", "pesq_wb") for s in scores])
    for group, values in sorted(rows.items()):
        v = np.mean(values, axis=0)
        print(f"{group:28s} n={len(values):2d}  LSD {v[0]:.2f} -> {v[1]:.2f}  "
              f"PESQ-wb {v[2]:.3f} -> {v[3]:.3f}")


if __name__ == "__main__":
    main()
