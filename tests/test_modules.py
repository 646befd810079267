"""Every toxlab module imports in the fast tier (`pytest -m "not slow"`); one that needs a missing optional
extra is skipped, naming the extra. The fast tier's other tests exercise each module beyond its import."""

import importlib
import pkgutil

import pytest

import toxlab

# top-level imports that come with pyproject's optional extras (course, grading), not with the package itself
OPTIONAL = {"dask", "distributed", "psycopg", "sqlalchemy", "nbgrader", "nbconvert", "nbclient", "nbformat",
            "jupyterlab", "jupyter_server", "jupyter_client", "traitlets"}

# toxlab.__main__ runs the CLI when imported; tests/test_cli.py runs `python -m toxlab`
MODULES = sorted(m.name for m in pkgutil.walk_packages(toxlab.__path__, "toxlab.") if m.name != "toxlab.__main__")


def test_the_walk_finds_every_layer_of_the_package():
    assert {"toxlab.cli", "toxlab.grading.checker", "toxlab.labs", "toxlab.labs.toxicity_lab.checks",
            "toxlab.labs.bias_lab.modes", "toxlab.models"} <= set(MODULES), MODULES


@pytest.mark.parametrize("name", MODULES)
def test_every_module_imports(name: str) -> None:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs {e.name}, from an optional extra that is not installed")
        raise
