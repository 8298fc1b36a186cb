import subprocess
import sys

import pytest

from trainyard.environments import Environment, resolve
from trainyard.environments.builder import MARKER, _culprits
from trainyard.errors import InvalidInputError


def test_build_hash_ignores_env_vars_order_whitespace_and_spelling():
    a = Environment(name="a", requirements=["six==1.16.0", "numpy>=1"], env_vars={"X": "1"})
    b = Environment(name="b", requirements=["NumPy >= 1", " six == 1.16.0 "])
    assert a.build_hash() == b.build_hash()
    assert len(a.build_hash()) == 64 and a.build_hash() == a.build_hash()


def test_build_hash_changes_with_what_is_built():
    base = Environment(requirements=["six==1.16.0"])
    assert base.build_hash() != Environment(requirements=["six==1.15.0"]).build_hash()
    assert base.build_hash() != Environment(requirements=["six==1.16.0", "idna"]).build_hash()
    assert base.build_hash() != Environment(python="3.10", requirements=base.requirements).build_hash()


def test_build_hash_covers_the_trainyard_version():
    inputs = Environment(requirements=["six"]).build_inputs()
    from importlib.metadata import version

    assert inputs["trainyard"] == version("trainyard")
    assert inputs["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"requirements": [""]}, "requirements: requirement 1 is empty"),
        ({"requirements": ["   "]}, "empty"),
        ({"requirements": ["not a requirement !!"]}, "'not a requirement !!' is not a valid requirement"),
        ({"python": "python3"}, "python must look like 3.11"),
        ({"python": "2.7"}, "python must look like 3.11"),
        ({"python": 3.1}, r'in quotes, e.g. python: "3.10" \(YAML read 3.1 as a number\)'),
        ({"env_vars": {"BAD-NAME": "1"}}, "identifiers like MY_VAR, got 'BAD-NAME'"),
        ({"env_vars": {"1X": "1"}}, "identifiers"),
        ({"env_vars": {"FLAG": True}}, "quote it"),
        ({"colour": "red"}, r"colour: unknown key \(allowed: name, python"),
    ],
)
def test_bad_specs_are_refused_clearly(fields, message):
    with pytest.raises(InvalidInputError, match=message) as info:
        Environment(**fields)
    assert "\n" not in str(info.value)
    with pytest.raises(InvalidInputError, match=message):
        Environment.model_validate(fields)


def test_good_specs_are_accepted():
    env = Environment(python="3.11.7", requirements=["scikit-learn[alldeps]>=1.3; python_version>'3'"])
    assert env.python == "3.11.7" and not env.is_default
    assert Environment(env_vars={"OMP_NUM_THREADS": 4}).env_vars == {"OMP_NUM_THREADS": "4"}
    assert Environment(env_vars={"A": "1"}).is_default
    assert not Environment(python="3.11").is_default


def test_from_file_reads_a_requirements_file_next_to_it(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "requirements.txt").write_text(
        "# pinned\nsix==1.16.0  # inline\n\npkg @ https://example.com/pkg-1.0.whl#sha256=abc\n"
    )
    (tmp_path / "conf" / "env.yml").write_text(
        "name: six\npython: '3.11'\nrequirements: [idna]\nrequirements_file: requirements.txt\n"
        "env_vars: {A: '1', THREADS: 2}\n"
    )
    env = Environment.from_file(tmp_path / "conf" / "env.yml")
    assert env.name == "six" and env.python == "3.11"
    assert env.requirements == ["idna", "six==1.16.0", "pkg @ https://example.com/pkg-1.0.whl#sha256=abc"]
    assert env.env_vars == {"A": "1", "THREADS": "2"}
    from_pip = Environment.from_pip_requirements("p", tmp_path / "conf" / "requirements.txt")
    assert from_pip.name == "p" and from_pip.requirements == env.requirements[1:]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("- a\n- b\n", "env.yml must hold a mapping"),
        ("a: [", "env.yml is not valid YAML"),
        ("python: 3.10\n", r"env.yml: .* python: write the version in quotes"),
        (
            "requirements: ['six', '']\n",
            "env.yml: environment 'default' is not a valid environment: requirements: requirement 2 is empty",
        ),
        ("requirements_file: nope.txt\n", "requirements file .*nope.txt does not exist"),
        ("requirements: six\nrequirements_file: r.txt\n", "requirements must be a list"),
    ],
)
def test_bad_files_name_the_file(tmp_path, body, message):
    (tmp_path / "r.txt").write_text("six\n")
    (tmp_path / "env.yml").write_text(body)
    with pytest.raises(InvalidInputError, match=message):
        Environment.from_file(tmp_path / "env.yml")


def test_missing_file_and_pip_options_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="missing.yml does not exist"):
        Environment.from_file(tmp_path / "missing.yml")
    (tmp_path / "r.txt").write_text("six\n-r other.txt\n")
    with pytest.raises(InvalidInputError, match=r"r.txt:2: pip options such as -r are not supported"):
        Environment.from_pip_requirements("x", tmp_path / "r.txt")


def test_default_environment_is_this_interpreter():
    resolved = resolve(Environment(env_vars={"A": "1"}))
    assert resolved.python == sys.executable and resolved.env_vars == {"A": "1"}
    assert resolved.build_hash is None and resolved.cache_hit


def test_cache_hit_runs_nothing(tmp_path, monkeypatch):
    env = Environment(name="x", requirements=["six"], env_vars={"B": "2"})
    target = tmp_path / env.build_hash()
    target.mkdir()
    (target / MARKER).write_text("{}")

    def forbidden(*_a, **_k):
        raise AssertionError("a cache hit must not start a process")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(subprocess, "run", forbidden)
    lines = []
    resolved = resolve(env, tmp_path, log=lines.append)
    assert resolved.cache_hit and resolved.python == str(target / "bin" / "python")
    assert resolved.build_hash == env.build_hash() and resolved.env_vars == {"B": "2"}
    assert lines == [f"environment x: cache hit {env.build_hash()[:12]} (0.00s)"]


def test_cache_dir_defaults_to_the_environment_variable(tmp_path, monkeypatch):
    from trainyard.environments import default_cache_dir

    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "envs"
    monkeypatch.delenv("TRAINYARD_CACHE_DIR")
    assert default_cache_dir().parts[-3:] == (".cache", "trainyard", "envs")


def test_build_errors_name_the_requirement_the_resolver_names():
    lines = ["  × No solution found", "  ╰─▶ Because Bad_Pkg was not found and you require bad-pkg==1.0, ..."]
    assert _culprits(["six", "bad-pkg==1.0"], lines) == "'bad-pkg==1.0'"
    assert _culprits(["six", "idna"], ["network is unreachable"]) == "'six', 'idna'"


def test_register_and_get_round_trip(tmp_path):
    from trainyard.store.sql.store import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path}/t.db")
    try:
        env = Environment(name="sk", python="3.11", requirements=["six"], env_vars={"A": "1"})
        first = env.register(store)
        assert first.spec_hash == env.spec_hash() and first.spec == env.model_dump()
        assert env.register(store).version == first.version == 1
        assert Environment(name="sk", requirements=["six==1.16.0"]).register(store).version == 2
        assert Environment.get(store, "sk", 1) == env
        assert Environment.get(store, "sk").requirements == ["six==1.16.0"]
        # as a job, a deployment YAML or `--environment` names it (Azure's spellings too)
        assert Environment.named(store, "sk:1") == Environment.named(store, "azureml:sk:1") == env
        assert (
            Environment.named(store, "sk@latest")
            == Environment.named(store, "sk")
            == Environment.get(store, "sk")
        )
        assert Environment.named(store, "default") == Environment.named(store, "") == Environment()
        with pytest.raises(InvalidInputError, match="'sk:one': the version after ':' must be a number"):
            Environment.named(store, "sk:one")
    finally:
        store.close()


def test_a_new_env_var_is_a_new_registered_version(tmp_path):
    from trainyard.store.sql.store import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path}/v.db")
    one = Environment(name="e", requirements=["six"], env_vars={"A": "1"})
    two = Environment(name="e", requirements=["six"], env_vars={"A": "2"})
    assert one.build_hash() == two.build_hash()  # one virtual environment serves both
    assert (one.register(store).version, two.register(store).version, one.register(store).version) == (
        1,
        2,
        1,
    )
    assert Environment.get(store, "e").env_vars == {"A": "2"}
