"""Data assets on an embedded workspace: create, dedupe, reference, hash checks, tables, lineage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import trainyard as ty
from trainyard.data import content
from trainyard.data.lineage import data_of_model, register_output, uses_of
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.workspace import Workspace  # the ``ws`` fixture: tests/integration/conftest.py


def _csv(path: Path, rows: str = "a,b\n1,x\n2,y\n3,\n") -> Path:
    path.write_text(rows)
    return path


def test_table_versions_dedupe_and_read_back(ws: Workspace, tmp_path: Path) -> None:
    src = _csv(tmp_path / "churn.csv")
    one = ty.Data.create(ws, "churn", src, type="table", tags={"k": "v"})
    assert (one.version, one.record.file_count, one.record.prefix.startswith("data/churn/")) == (1, 1, True)
    table = one.record.table
    assert table["rows"] == 3
    a, b = table["columns"]
    assert (a["name"], a["min"], a["max"], a["mean"], b["nulls"], b["distinct"]) == ("a", 1.0, 3.0, 2.0, 1, 2)
    assert ty.Data.create(ws, "churn", src, type="table").version == 1  # unchanged content
    _csv(src, "a,b\n9,z\n")
    assert ty.Data.create(ws, "churn", src, type="table").version == 2
    assert list(ty.Data(ws, "churn:1").to_pandas()["a"]) == [1, 2, 3]
    assert list(ty.Data(ws, "azureml:churn@latest").to_pandas()["a"]) == [9]
    assert ty.Data(ws, "data:churn:1").path().read_text().startswith("a,b\n1,x")
    got = ty.Data(ws, "churn", 1).download(tmp_path / "dl")
    assert got == tmp_path / "dl" / "churn.csv" and got.read_text() == "a,b\n1,x\n2,y\n3,\n"
    ty.Data(ws, "churn:2").archive()
    assert ty.Data(ws, "churn").version == 1


def test_folders_and_references_detect_changed_files(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"aa")
    (folder / "sub" / "b.bin").write_bytes(b"bbb")
    stored = ty.Data.create(ws, "imgs", folder)
    assert (stored.record.type, stored.record.file_count, stored.record.size_bytes) == ("uri_folder", 2, 5)
    assert (stored.path() / "sub" / "b.bin").read_bytes() == b"bbb"
    assert (stored.path() / "a.bin").stat().st_mode & 0o222 == 0  # a job reads it in place: read-only
    ref = ty.Data.create(ws, "imgs-ref", folder, reference=True)
    assert ref.record.prefix is None and ref.path() == folder.resolve()
    assert ref.record.content_hash == stored.record.content_hash
    (folder / "a.bin").write_bytes(b"changed")
    with pytest.raises(InvalidInputError, match=r"imgs-ref:1: .*changed.*content hash mismatch"):
        ty.Data(ws, "imgs-ref:1").path()
    key = f"{stored.record.prefix}/sub/b.bin"
    ws.artifacts.put_bytes(key, b"tampered")
    with pytest.raises(InvalidInputError, match=r"imgs:1: .*artifact store.*content hash mismatch"):
        ty.Data(ws, "imgs:1").download(tmp_path / "out")


def test_a_version_verified_once_is_not_hashed_again_until_a_file_changes(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.bin").write_bytes(bytes([i]) * 100)
    ref = ty.Data.create(ws, "many", folder, reference=True)
    ref.verify()  # the first read hashes every byte and remembers the files' stat
    hashed: list[str] = []
    real = content._chunks
    monkeypatch.setattr(content, "_chunks", lambda p: (hashed.append(p.name), real(p))[1])
    assert ty.Data(ws, "many:1").path() == folder.resolve() and hashed == []
    stat = (folder / "1.bin").stat()
    (folder / "1.bin").write_bytes(b"\xff" * 100)  # same size, and the mtime put back: the ctime moved
    os.utime(folder / "1.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(InvalidInputError, match="content hash mismatch"):
        ty.Data(ws, "many:1").path()
    assert hashed  # the changed version was hashed again


def test_bad_input_names_what_to_fix(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        ty.Data.create(ws, "x", tmp_path / "nope.csv")
    with pytest.raises(NotFoundError, match="version 4 of data asset 'x'"):
        ty.Data(ws, "x:4")
    with pytest.raises(NotFoundError, match="no data asset 'x'"):
        ty.Data(ws, "x@latest")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInputError, match=r"data asset 'x': cannot read bad.parquet as a table"):
        ty.Data.create(ws, "x", bad, type="table")
    with pytest.raises(InvalidInputError, match="folder"):
        ty.Data.create(ws, "x", tmp_path, type="table")
    with pytest.raises(InvalidInputError, match="data reference"):
        ty.Data(ws, "x:y:z")
    assert ws.store.list_data_versions() == []


def test_a_create_killed_while_copying_leaves_no_version(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(str(i))
    real, calls = ws.artifacts.put_file, []

    def dies_on_the_second(key: str, source: object) -> None:
        calls.append(key)
        if len(calls) == 2:
            raise KeyboardInterrupt  # what a kill does to the process mid-copy
        real(key, source)  # type: ignore[arg-type]

    monkeypatch.setattr(ws.artifacts, "put_file", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        ty.Data.create(ws, "f", folder)
    with pytest.raises(NotFoundError):
        ws.store.get_data_version("f")


def test_lineage_from_reads_to_models_and_written_outputs(ws: Workspace, tmp_path: Path) -> None:
    data = ty.Data.create(ws, "train", _csv(tmp_path / "t.csv"))
    run = ws.store.create_run(ws.store.create_experiment("e").id)
    ws.store.record_data_lineage(run.id, "train", data.version, "read")
    ws.artifacts.put_bytes(f"runs/{run.id}/outputs/feat/x.txt", b"features")
    assert register_output(ws, run.id, f"runs/{run.id}/outputs/feat", "features") == 1
    assert register_output(ws, run.id, f"runs/{run.id}/outputs/feat", "features") == 1  # unchanged
    feats = ty.Data(ws, "features:1")
    assert feats.record.created_by_run == run.id and (feats.path() / "x.txt").read_bytes() == b"features"
    model = ws.store.create_model_version("m", source="s", files=["f"], run_id=run.id)
    use = uses_of(ws, "train", 1)
    assert [(x.run_id, x.direction) for x in use.lineage] == [(run.id, "read")]
    assert [(m.name, m.version) for m in use.models] == [("m", 1)]
    assert [(r.name, r.version) for r in data_of_model(ws, model)] == [("train", 1)]
    assert [r.direction for r in ws.store.list_data_lineage(name="features")] == ["written"]
    with pytest.raises(InvalidInputError, match="no files"):
        register_output(ws, run.id, f"runs/{run.id}/outputs/none", "empty")
