"""Registry: version folders written atomically, no pickle, champion pointer swapped atomically."""

from __future__ import annotations

import json

import pytest
import torch

from lstmflow.serve.registry import (
    RegistryError,
    champion,
    load_version,
    save_version,
    set_champion,
)
from models.lstm import LSTMForecaster


def _model():
    torch.manual_seed(0)
    return LSTMForecaster(n_inputs=3, horizon=2, hidden_size=4, num_layers=1)


def test_save_and_load_round_trip(tmp_path):
    m = _model()
    path = save_version(tmp_path, "v1", m, {"scalers": {}}, {"name": "x"}, {"overall": {}}, {"run_id": "v1"})
    loaded, state, config, metrics = load_version(path)
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(loaded(x), m.eval()(x))
    assert config == {"name": "x"} and state == {"scalers": {}}
    meta = json.loads((path / "meta.json").read_text())
    assert meta["versions"]["torch"].startswith("2.13")
    assert not list(tmp_path.glob("versions/.*"))  # no temp folder left behind


def test_existing_version_is_not_overwritten(tmp_path):
    save_version(tmp_path, "v1", _model(), {}, {}, {}, {})
    with pytest.raises(RegistryError, match="already exists"):
        save_version(tmp_path, "v1", _model(), {}, {}, {}, {})


def test_failed_save_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        save_version(tmp_path, "v2", _model(), {1: "a", "b": 2}, {}, {}, {})  # unsortable keys
    assert not (tmp_path / "versions" / "v2").exists()
    assert list((tmp_path / "versions").iterdir()) == []


def test_corrupt_weights_are_refused(tmp_path):
    path = save_version(tmp_path, "v1", _model(), {}, {}, {}, {})
    (path / "model.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(RegistryError, match="cannot be loaded"):
        load_version(path)


def test_champion_pointer(tmp_path):
    assert champion(tmp_path) is None
    for v in ("v1", "v2"):
        save_version(tmp_path, v, _model(), {}, {}, {}, {})
    set_champion(tmp_path, "v1", "first")
    set_champion(tmp_path, "v2", "better")
    assert champion(tmp_path)["version"] == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["champion.json", "versions"]
    with pytest.raises(RegistryError, match=r"'v3'.* does not exist"):
        set_champion(tmp_path, "v3", "never written")
    assert champion(tmp_path)["version"] == "v2"
