"""Choose noise_reduction's inference gain floor on the validation split (never the test set).

    python scripts/tune_noise_reduction_floor.py [MODEL.h5] [--apply]

Prints validation PESQ-wb, SI-SDR and STOI for each floor; with --apply, writes the floor
with the best validation PESQ-wb into the model's sidecar config (the weights are unchanged).
"""

import json
import sys

from aural.evaluation import sweep_inference_setting
from aural.modelfile import default_model_path, read_sidecar, update_sidecar
from aural.stages.noise_reduction import NoiseReduction

FLOORS_DB = [-60.0, -40.0, -30.0, -25.0, -20.0, -15.0]

if __name__ == "__main__":
    paths = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = paths[0] if paths else default_model_path("noise_reduction")
    stage = NoiseReduction.load(path)
    results = sweep_inference_setting(stage, "min_gain_db", FLOORS_DB)
    for floor, scores in results.items():
        print(f"floor {floor:6.1f} dB: " + "  ".join(f"{m} {v:.3f}" for m, v in scores.items()))
    best = max(results, key=lambda f: results[f]["pesq_wb"])
    print(f"best validation PESQ-wb with floor {best} dB")
    if "--apply" in sys.argv:
        config = read_sidecar(path)["config"]
        config["min_gain_db"] = best
        update_sidecar(path, config=config,
                       floor_tuning={"split": "validation", "results": {str(k): v for k, v in
                                                                          results.items()}})
        print(json.dumps({"min_gain_db": best}))
