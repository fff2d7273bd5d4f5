"""Fixtures of the charm tests (helpers: charm_support.py), imported by each test module.

Not a conftest.py: tests/compat imports its helpers with `from conftest import ...`, and two
conftest modules in one pytest run would shadow each other."""

import pytest

from charm_support import Machine, Requirer, start_sim


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    """A fast simulated cloud (amphora, time ×0.002), shared: each test's model has its own
    cluster id, so tests never see each other's load balancers."""
    sim = start_sim(tmp_path_factory.mktemp("sim"), "0.002")
    yield sim
    sim.stop()


@pytest.fixture
def slow_cloud(tmp_path):
    """A slow simulated cloud (amphora boots in 45 real seconds): load balancers stay pending
    for the whole test."""
    sim = start_sim(tmp_path, "0.5")
    yield sim
    sim.stop()


@pytest.fixture
def machine(monkeypatch):
    """The machine a unit runs on; its daemons are stopped by pid at teardown."""
    m = Machine(monkeypatch)
    yield m
    m.cleanup()


@pytest.fixture
def requirer():
    r = Requirer()
    yield r
    r.cleanup()

