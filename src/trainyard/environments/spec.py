"""Environment specs: a Python version, requirements and env vars, versioned by name.

A spec's build hash covers what changes the built virtual environment (Python version,
requirements, trainyard's own version) and not the env vars, which are only set at run time.
Every way of making a spec (constructor, ``model_validate``, YAML, requirements file) raises
``InvalidInputError`` with one readable line, never a pydantic ``ValidationError``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trainyard.environments.curated import curated, is_curated
from trainyard.errors import InvalidInputError
from trainyard.yamlfile import read_yaml_mapping

if TYPE_CHECKING:
    from trainyard.store.base import Store
    from trainyard.store.records import EnvironmentRecord

PYTHON_VERSION = re.compile(r"^3\.\d+(\.\d+)?$")
ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
COMMENT = re.compile(r"(^|\s)#.*$")  # pip's rule: '#' starts a comment only after whitespace


def _readable(exc: ValidationError, where: str) -> InvalidInputError:
    problems = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "spec"
        if error["type"] == "extra_forbidden":
            msg = f"unknown key (allowed: {', '.join(Environment.model_fields)})"
        else:
            msg = error["msg"].removeprefix("Value error, ")
        problems.append(f"{loc}: {msg}")
    return InvalidInputError(f"{where} is not a valid environment: {'; '.join(problems)}".replace("\n", " "))


@functools.cache
def _trainyard_version() -> str:
    """Part of the build hash: a new trainyard is copied into new environments."""
    return package_version("trainyard")


def normalise_requirement(text: str) -> str:
    """One spelling per requirement (``Six == 1.16`` is ``six==1.16``), so the hash ignores style."""
    req = Requirement(text)
    req.name = canonicalize_name(req.name)
    return str(req)


class Environment(BaseModel):
    """``Environment(name="sklearn", requirements=["scikit-learn"])``; no python and no
    requirements is the default environment: the submitting interpreter, nothing built."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="default", min_length=1, max_length=250)
    python: str | None = None
    requirements: list[str] = Field(default_factory=list)
    env_vars: dict[str, str] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        # pydantic routes model_validate (and nested validation) through here as well
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _readable(exc, f"environment {data.get('name', 'default')!r}") from None

    @field_validator("python", mode="before")
    @classmethod
    def _python(cls, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, (int, float)):  # YAML reads `python: 3.10` as the number 3.1
            raise ValueError(
                f'write the version in quotes, e.g. python: "3.10" (YAML read {value} as a number)'
            )
        if not isinstance(value, str) or not PYTHON_VERSION.match(value):
            raise ValueError(f"python must look like 3.11 or 3.11.7, got {value!r}")
        return value

    @field_validator("requirements")
    @classmethod
    def _requirements(cls, values: list[str]) -> list[str]:
        cleaned = []
        for number, value in enumerate(values, start=1):
            text = value.strip()
            if not text:
                raise ValueError(f"requirement {number} is empty; remove it or write a package name")
            try:
                Requirement(text)
            except InvalidRequirement as exc:
                reason = str(exc).splitlines()[0]
                raise ValueError(
                    f"{text!r} is not a valid requirement ({reason}); write it as pip would: 'numpy>=1.26'"
                ) from None
            cleaned.append(text)
        return cleaned

    @field_validator("env_vars", mode="before")
    @classmethod
    def _env_vars(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values  # pydantic says it must be a mapping
        bad = [repr(k) for k in values if not isinstance(k, str) or not ENV_VAR_NAME.match(k)]
        if bad:
            raise ValueError(f"env var names must be identifiers like MY_VAR, got {', '.join(bad)}")
        out = {}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValueError(f"env var {key} must be text, got {value!r}; quote it in YAML")
            out[key] = str(value)  # numbers are fine: OMP_NUM_THREADS: 4
        return out

    @classmethod
    def from_file(cls, path: str | Path) -> Environment:
        """YAML with ``name``, ``python``, ``requirements`` and/or ``requirements_file``, ``env_vars``."""
        path = Path(path)
        return cls.from_mapping(read_yaml_mapping(path, "environment"), path)

    @classmethod
    def from_mapping(cls, raw: dict[Any, Any], path: Path) -> Environment:
        """A spec written inside the YAML file ``path`` (its ``requirements_file`` is beside it)."""
        raw = {str(k): v for k, v in raw.items()}
        req_file = raw.pop("requirements_file", None)
        if req_file is not None:
            listed = raw.get("requirements") or []
            if not isinstance(listed, list):
                raise InvalidInputError(f"{path}: requirements must be a list of strings")
            raw["requirements"] = [*listed, *read_requirements(path.parent / str(req_file))]
        try:
            return cls.model_validate(raw)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{path}: {exc}") from None

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str | Path) -> Environment:
        """An environment from an existing ``requirements.txt``, on the current Python."""
        return cls(name=name, requirements=read_requirements(Path(file_path)))

    @property
    def is_default(self) -> bool:
        """Nothing to build: jobs run on the submitting interpreter."""
        return self.python is None and not self.requirements

    def build_inputs(self) -> dict[str, Any]:
        """Everything the built virtual environment depends on, and nothing else."""
        return {
            "python": self.python or f"{sys.version_info.major}.{sys.version_info.minor}",
            "requirements": sorted(normalise_requirement(r) for r in self.requirements),
            "trainyard": _trainyard_version(),
        }

    def build_hash(self) -> str:
        """Content address of the build: equal specs share one cached virtual environment."""
        canonical = json.dumps(self.build_inputs(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def spec_hash(self) -> str:
        """Identity of the whole spec, env vars included: what a registered version stands for."""
        canonical = json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def register(self, store: Store) -> EnvironmentRecord:
        """Record this spec under its name; the same spec again keeps its version, any change
        (env vars too) makes a new one."""
        return store.register_environment(self.name, self.model_dump(), self.spec_hash())

    @classmethod
    def get(cls, store: Store, name: str, version: int | None = None) -> Environment:
        """A registered spec: the latest version unless one is given."""
        return cls.model_validate(store.get_environment(name, version).spec)

    @classmethod
    def curated(cls, name: str) -> Environment:
        """A curated environment by its name or Azure alias (``trainyard env list --curated``)."""
        entry = curated(name)
        return cls(name=entry.name, requirements=list(entry.requirements))

    @classmethod
    def named(cls, store: Store, reference: str) -> Environment:
        """``NAME``, ``NAME:VERSION`` or ``NAME@latest`` (``azureml:`` before it, as Azure's YAML
        writes it, is allowed); ``default`` or nothing is the default environment; a curated name
        (``curated/sklearn-1``, ``AzureML-sklearn-1.5``) is the shipped spec."""
        text = reference.strip().removeprefix("azureml:")
        if text in ("", "default"):
            return cls()
        name, _, version = text.removesuffix("@latest").partition(":")
        if is_curated(name):  # shipped specs: Azure's `AzureML-x:N` version is not ours to check
            return cls.curated(name)
        if version and not version.isdigit():
            raise InvalidInputError(f"environment {reference!r}: the version after ':' must be a number")
        return cls.get(store, name, int(version) if version else None)


def read_requirements(path: Path) -> list[str]:
    """Requirement lines of a pip requirements file, without blanks and comments."""
    if not path.is_file():
        raise InvalidInputError(f"requirements file {path} does not exist")
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = COMMENT.sub("", line).strip()
        if text.startswith("-"):
            raise InvalidInputError(
                f"{path}:{number}: pip options such as {text.split()[0]} are not supported; "
                "list the requirements themselves (one per line)"
            )
        if text:
            found.append(text)
    return found
