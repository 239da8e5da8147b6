import json
import threading

import pytest

from sagemaker_sklearn_container.multi_model import (
    InvalidModel,
    ModelCache,
    ModelExists,
    ModelNotFound,
    ModelRegistry,
    resolve_url,
    validate_name,
)

from conftest import save_model


def test_registry_add_get_remove(tmp_path):
    registry = ModelRegistry(str(tmp_path / "reg"))
    entry = registry.add("m1", "/models/m1")
    assert registry.get("m1") == entry
    assert [e.model_name for e in registry.list()] == ["m1"]
    with pytest.raises(ModelExists):
        registry.add("m1", "/elsewhere")
    registry.remove("m1")
    with pytest.raises(ModelNotFound):
        registry.get("m1")
    with pytest.raises(ModelNotFound):
        registry.remove("m1")
    assert list((tmp_path / "reg").iterdir()) == []  # no temp files left behind


def test_registry_ignores_stray_files(tmp_path):
    registry = ModelRegistry(str(tmp_path))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "bad name!.json").write_text(json.dumps({}))
    registry.add("ok", "/m")
    assert [e.model_name for e in registry.list()] == ["ok"]


def test_concurrent_loads_of_one_name_give_one_winner(tmp_path):
    registry = ModelRegistry(str(tmp_path))
    outcomes = []

    def attempt(i):
        try:
            registry.add("same", f"/m/{i}")
            outcomes.append("ok")
        except ModelExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exists"] * 7 + ["ok"]


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "x" * 200, 5, "m1\n", "m1\r"])
def test_invalid_names(name):
    with pytest.raises(InvalidModel):
        validate_name(name)


def test_resolve_url(tmp_path):
    assert resolve_url("file://" + str(tmp_path)) == str(tmp_path)
    for bad in ("", None, "s3://b/k", str(tmp_path / "nope")):
        with pytest.raises(InvalidModel):
            resolve_url(bad)


def test_cache_evicts_models_unloaded_elsewhere(tmp_path):
    registry = ModelRegistry(str(tmp_path / "reg"))
    cache = ModelCache(registry, "application/json")
    other_worker = ModelCache(registry, "application/json")
    cache.load("m", save_model(str(tmp_path / "m")))
    assert other_worker.handler("m") is other_worker.handler("m")  # cached
    cache.unload("m")
    with pytest.raises(ModelNotFound):
        other_worker.handler("m")
