"""The curated catalogue's content: every entry parses, pins exact versions, and names are unique."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement

from trainyard.environments import Environment
from trainyard.environments.curated import CATALOGUE, curated
from trainyard.errors import NotFoundError


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda c: c.name)
def test_entry_parses_and_pins_every_requirement_exactly(entry):
    env = Environment.curated(entry.name)
    assert env.name == entry.name and entry.name.startswith("curated/")
    for text in env.requirements:
        specs = list(Requirement(text).specifier)
        assert len(specs) == 1 and specs[0].operator == "==", text
    names = {Requirement(r).name: str(Requirement(r).specifier) for r in env.requirements}
    assert "xgboost" not in names  # xgboost-cpu: plain xgboost pulls a 469 MB CUDA library
    assert names.get("torch", "+cpu").endswith("+cpu")  # a plain torch pin resolves to the CUDA build


def test_names_and_aliases_are_unique_case_insensitively():
    keys = [k.lower() for c in CATALOGUE for k in (c.name, *c.aliases)]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "reference",
    [
        "curated/sklearn-1",
        "AzureML-sklearn-1.5",
        "azureml:AzureML-sklearn-1.5@latest",
        "azureml:AzureML-sklearn-1.5:7",
    ],
)
def test_job_references_resolve_to_the_curated_spec_without_a_store(reference):
    assert Environment.named(None, reference) == Environment.curated("curated/sklearn-1")  # type: ignore[arg-type]


def test_unknown_curated_name_names_the_close_ones():
    with pytest.raises(NotFoundError, match=r"did you mean curated/pytorch-2-cpu.*env list --curated"):
        curated("curated/pytorch-2")
    with pytest.raises(NotFoundError, match="env list --curated"):
        Environment.named(None, "AzureML-tensorflow-2.16")  # type: ignore[arg-type]
