"""The model registry from the SDK: registering from runs and folders, aliases, lineage."""

from __future__ import annotations

import pytest

import trainyard as ty
from trainyard.errors import ArtifactPathError, InvalidInputError, NotFoundError
from trainyard.registry import parse_model_ref


@pytest.fixture
def trained(ws, script_dir):
    src = script_dir(
        {
            "train.py": """
        import os
        from trainyard import Run
        run = Run.get_context()
        run.log("r2", 0.8)
        os.makedirs("outputs/model", exist_ok=True)
        open("outputs/model/weights.bin", "wb").write(b"W")
        open("outputs/model/config.json", "w").write("{}")
        open("outputs/model.pkl", "wb").write(b"P")
    """
        }
    )
    run = ty.Experiment(ws, "reg").submit(
        ty.ScriptRunConfig(source_directory=src, script="train.py", arguments=[])
    )
    run.wait_for_completion()
    return run


def test_register_from_a_run_with_lineage(ws, trained, tmp_path):
    folder = trained.register_model("diabetes", model_path="outputs/model", tags={"algo": "ridge"})
    single = trained.register_model("diabetes", model_path="outputs/model.pkl")
    assert (folder.id, single.id) == ("diabetes:1", "diabetes:2")
    assert folder.file_names == ["config.json", "weights.bin"] and single.file_names == ["model.pkl"]
    lineage = folder.lineage()
    assert lineage["run_id"] == trained.id and lineage["experiment"] == "reg"
    assert lineage["metrics"] == {"r2": 0.8} and lineage["snapshot_id"] == trained.refresh().snapshot_id
    out = folder.download(tmp_path / "dl")
    assert (out / "weights.bin").read_bytes() == b"W"
    with pytest.raises(InvalidInputError, match="exists"):
        folder.download(tmp_path / "dl")
    # the registered copy does not change when the run's artifacts do
    ws.artifacts.put_bytes(f"runs/{trained.id}/outputs/model/weights.bin", b"CHANGED")
    assert (
        ty.Model(ws, "diabetes:1").download(tmp_path / "again").joinpath("weights.bin").read_bytes() == b"W"
    )


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "outputs/../../x", "%2e%2e/x"])
def test_paths_outside_the_run_are_refused(ws, trained, path):
    with pytest.raises(ArtifactPathError):
        trained.register_model("bad", model_path=path)
    assert ws.store.list_models() == []


def test_a_missing_artifact_names_what_the_run_has(trained):
    with pytest.raises(NotFoundError, match="outputs/model.pkl"):
        trained.register_model("m", model_path="outputs/missing")


def test_register_a_local_folder_and_aliases(ws, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.txt").write_text("1")
    first = ty.Model.register(ws, tmp_path / "m", "local", properties={"auc": 0.9}, description="first")
    (tmp_path / "m" / "a.txt").write_text("2")
    second = ty.Model.register(ws, tmp_path / "m" / "a.txt", "local")
    assert first.properties == {"auc": "0.9"} and first.run_id is None and first.description == "first"
    first.set_alias("production")
    second.set_alias("staging")
    assert ty.Model(ws, "local@production").version == 1
    second.set_alias("production")  # moves
    assert ty.Model(ws, "models:/local@production").version == 2 and ty.Model(ws, "local:1").aliases == []
    assert ty.Model(ws, "local").version == 2
    second.archive()
    assert ty.Model(ws, "local").version == 1  # the latest version that is not archived
    second.restore()
    assert [m.version for m in ty.Model.list(ws, "local")] == [2, 1]
    assert [m.id for m in ty.Model.list(ws)] == ["local:2"]
    with pytest.raises(NotFoundError):
        ty.Model(ws, "local@nope")
    with pytest.raises(InvalidInputError, match="no such file"):
        ty.Model.register(ws, tmp_path / "missing", "local")


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("m", ("m", None, None)),
        ("m:3", ("m", 3, None)),
        ("m@production", ("m", None, "production")),
        ("models:/m/3", ("m", 3, None)),
        ("models:/m@staging", ("m", None, "staging")),
    ],
)
def test_model_references(ref, parsed):
    assert parse_model_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["", "m:x", "m@", "a/b/c", "m:1@x"])
def test_bad_model_references(ref):
    with pytest.raises(InvalidInputError):
        parse_model_ref(ref)
