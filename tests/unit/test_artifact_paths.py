import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainyard.artifacts import safe_name
from trainyard.artifacts.fsspec_store import FsspecArtifactStore
from trainyard.errors import ArtifactPathError
from trainyard.limits import MAX_ARTIFACT_NAME_PART_BYTES, MAX_FILE_NAME_BYTES, TEMP_SUFFIX_BYTES

BAD = [
    "../x",
    "/etc/passwd",
    "..%2fx",
    "%2e%2e/x",
    "%252e%252e/x",
    "a;/../b",
    "a\\..\\b",
    "C:\\x",
    "C:/x",
    "a\x00b",
    "a\nb",
    "a#b",
    "",
    "   ",
    ".",
    "a/../../b",
    "~/x",
    "runs/r/.",
    "runs/r/./x",
    "./a",
    "runs/r/%2e",
    "runs/r/%252E",
    "runs/r/..",
    "/",
    "//",
    "x" * (MAX_ARTIFACT_NAME_PART_BYTES + 1),
    "runs/" + "é" * (MAX_ARTIFACT_NAME_PART_BYTES // 2 + 1),  # few characters, too many bytes
]


@pytest.mark.parametrize("name", BAD)
def test_unsafe_names_are_rejected(name):
    with pytest.raises(ArtifactPathError):
        safe_name(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("outputs/model.pkl", "outputs/model.pkl"),
        ("a//b/", "a/b"),
        ("modèle/ünï.txt", "modèle/ünï.txt"),
        ("a/.b/..c/...", "a/.b/..c/..."),  # dots inside a part are ordinary characters
    ],
)
def test_safe_names_are_normalised(name, expected):
    assert safe_name(name) == expected


@given(st.text(min_size=1, max_size=40))
def test_any_accepted_name_stays_inside_the_root(tmp_path_factory, name):
    root = tmp_path_factory.mktemp("art")
    store = FsspecArtifactStore(root)
    try:
        key = safe_name(name)
    except ArtifactPathError:
        return
    path = store.local_path(key)
    assert path is not None
    assert str(path.resolve()).startswith(str(root.resolve()))


def test_symlink_out_of_the_store_is_refused(tmp_path):
    store = FsspecArtifactStore(tmp_path / "store")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "store" / "link").symlink_to(outside)
    with pytest.raises(ArtifactPathError):
        store.put_bytes("link/x.txt", b"no")
    assert not (outside / "x.txt").exists()


def test_round_trip_and_listing(tmp_path):
    store = FsspecArtifactStore(tmp_path)
    store.put_bytes("runs/r/outputs/a.txt", b"A")
    store.put_bytes("runs/r/outputs/sub/b.txt", b"B")
    assert store.list("runs/r") == ["outputs/a.txt", "outputs/sub/b.txt"]
    assert store.get_bytes("runs/r/outputs/sub/b.txt") == b"B"
    assert store.download("runs/r/outputs/a.txt", tmp_path / "dl" / "a.txt").read_bytes() == b"A"


def test_failed_upload_leaves_nothing(tmp_path, monkeypatch):
    store = FsspecArtifactStore(tmp_path)

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(store.fs, "mv", boom)
    with pytest.raises(OSError):
        store.put_bytes("runs/r/x.bin", b"data")
    assert store.list("runs/r") == []


PARTS = st.one_of(
    st.sampled_from([".", "..", "", "%2e", "%2E%2e", "%252e"]),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=120),
)


@given(st.sampled_from(["runs/r", "models/m/u1"]), st.lists(PARTS, min_size=1, max_size=4))
def test_a_name_below_a_prefix_never_collapses_onto_the_prefix(prefix, parts):
    """``runs/r/.`` used to be ``runs/r``: a PUT wrote a file named like the run's folder and a
    DELETE removed the whole folder. Anything accepted below a prefix names something below it
    (only a trailing ``/`` names the prefix itself, as a folder)."""
    if not "".join(parts).strip("/"):  # only slashes below the prefix: the folder itself
        assert safe_name("/".join([prefix, *parts])) == prefix
        return
    try:
        key = safe_name("/".join([prefix, *parts]))
    except ArtifactPathError:
        return
    assert key.startswith(prefix + "/") and key != prefix
    assert all(p not in ("", ".", "..") for p in key.split("/"))


def test_the_part_limit_leaves_room_for_the_temporary_suffix():
    assert MAX_ARTIFACT_NAME_PART_BYTES + TEMP_SUFFIX_BYTES == MAX_FILE_NAME_BYTES


@given(
    st.integers(min_value=MAX_ARTIFACT_NAME_PART_BYTES - 8, max_value=MAX_FILE_NAME_BYTES),
    st.sampled_from(["a", "é", "€", "😀"]),
)
def test_every_name_the_validator_accepts_can_be_written(tmp_path_factory, size, char):
    """A 250-byte part passed the validator and failed with ENAMETOOLONG in the store (its
    temporary ``.tmp-<hex>`` name is longer): what is accepted is written, the rest is a 400."""
    store = FsspecArtifactStore(tmp_path_factory.mktemp("long"))
    part = char * (size // len(char.encode()))
    try:
        key = safe_name(f"runs/r/{part}")
    except ArtifactPathError as exc:
        assert len(part.encode()) > MAX_ARTIFACT_NAME_PART_BYTES
        assert str(MAX_ARTIFACT_NAME_PART_BYTES) in str(exc)
        return
    store.put_bytes(key, b"x")
    assert store.get_bytes(key) == b"x" and store.list("runs/r") == [part]
