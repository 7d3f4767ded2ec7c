"""The model-file contract: sha256-checked sidecar, safe loading, clear errors."""

import json

import numpy as np
import pytest

from aural.errors import AuralError
from aural.hashing import sha256_file
from aural.modelfile import load_model, save_model, sidecar_path


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    inputs = keras.Input((None, 4))
    outputs = keras.layers.Dense(2, activation="sigmoid")(inputs)
    return keras.Model(inputs, outputs)


def test_round_trip_checks_sha(tmp_path, tiny_model):
    path = save_model(tiny_model, tmp_path / "m.h5", {"stage": "x", "config": {"a": 1}})
    sidecar = json.loads(sidecar_path(path).read_text())
    assert sidecar["sha256"] == sha256_file(path) and sidecar["config"] == {"a": 1}
    model, loaded = load_model(path)
    x = np.random.default_rng(0).standard_normal((1, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(tiny_model(x)), atol=1e-6)
    assert loaded["stage"] == "x"


def test_tampered_model_is_refused(tmp_path, tiny_model):
    path = save_model(tiny_model, tmp_path / "m.h5", {"stage": "x"})
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(AuralError, match="sha256"):
        load_model(path)


def test_missing_sidecar_is_a_clear_error(tmp_path, tiny_model):
    path = save_model(tiny_model, tmp_path / "m.h5", {"stage": "x"})
    sidecar_path(path).unlink()
    with pytest.raises(AuralError, match="sidecar"):
        load_model(path)


def test_write_report_writes_json_and_markdown_and_nothing_else(tmp_path):
    import json

    from aural.modelfile import write_report

    write_report(tmp_path / "new" / "folder", {"files": 3, "mean": 0.5}, "# Report\n")
    folder = tmp_path / "new" / "folder"
    assert sorted(p.name for p in folder.iterdir()) == ["report.json", "report.md"]
    assert json.loads((folder / "report.json").read_text()) == {"files": 3, "mean": 0.5}
    assert (folder / "report.md").read_text() == "# Report\n"
