"""The model-file contract (DESIGN.md section 3): ``<name>.h5`` plus a ``<name>.json`` sidecar.

The sidecar holds the stage's config, sample rate, training data, training time and the
metrics ``aural evaluate`` measured, plus the ``.h5`` file's sha256, which is checked
before the weights are loaded. Loading uses Keras safe mode: no code runs from the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aural.atomic import atomic_file
from aural.errors import AuralError
from aural.hashing import sha256_file

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def sidecar_path(model_path: str | Path) -> Path:
    """``models/x/name.h5`` -> ``models/x/name.json``."""
    return Path(model_path).with_suffix(".json")


def default_model_path(stage_name: str) -> Path:
    """Where a stage's shipped model lives: ``models/<stage>/<stage>.h5``."""
    return MODELS_DIR / stage_name / f"{stage_name}.h5"


def write_json_atomic(path: str | Path, payload: Any) -> None:
    """Write JSON through a temporary file and a rename."""
    with atomic_file(path) as temp:
        temp.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")


def write_report(folder: str | Path, report: Any, markdown: str) -> None:
    """``folder/report.json`` and ``folder/report.md``, each written whole or not at all."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "report.json", report)
    with atomic_file(folder / "report.md") as temp:
        temp.write_text(markdown)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def save_model(model: Any, path: str | Path, sidecar: dict[str, Any]) -> Path:
    """Save a Keras model as ``.h5`` (atomically) and its sidecar with the file's sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, suffix=".h5") as temp:  # Keras picks the format by extension
        model.save(str(temp))
    write_json_atomic(sidecar_path(path), {**sidecar, "model_file": path.name,
                                           "sha256": sha256_file(path)})
    return path


def read_sidecar(model_path: str | Path) -> dict[str, Any]:
    """The sidecar of a model file; :class:`AuralError` if missing or unreadable."""
    side = sidecar_path(model_path)
    if not side.exists():
        raise AuralError("model sidecar (.json) is missing", path=side)
    try:
        return json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise AuralError(f"model sidecar is not valid JSON ({exc.msg})", path=side) from None


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load ``.h5`` weights after checking their sha256 against the sidecar."""
    path = Path(path)
    if not path.exists():
        raise AuralError("model file not found", path=path)
    sidecar = read_sidecar(path)
    actual = sha256_file(path)
    if sidecar.get("sha256") != actual:
        raise AuralError("model file does not match the sha256 in its sidecar "
                         "(corrupted or replaced)", path=path)
    import keras

    model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    return model, sidecar


def update_sidecar(model_path: str | Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into a model's sidecar (e.g. freshly measured metrics)."""
    sidecar = read_sidecar(model_path)
    sidecar.update(fields)
    write_json_atomic(sidecar_path(model_path), sidecar)
    return sidecar
