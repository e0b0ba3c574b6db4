"""End-to-end tests: the processes as `make run` starts them, driven over HTTP like a user."""

import pytest

from tests.support.mesh import PORT_BASE, TEST_VHOST, Mesh, reset_vhost


@pytest.fixture(scope="session")
def mesh(tmp_path_factory):
    running = Mesh(tmp_path_factory.mktemp("mesh"), reset_vhost()).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(mesh):
    return mesh.client()


@pytest.fixture(scope="session")
def hall_mesh(tmp_path_factory):
    """A mesh whose applications wait for a hall clerk's acceptance (ACCEPTANCE=manual, two
    working days); started only by the tests that ask for it."""
    running = Mesh(
        tmp_path_factory.mktemp("hall-mesh"),
        reset_vhost(f"{TEST_VHOST}_hall"),
        port_base=PORT_BASE + 700,
        extra_env={"ACCEPTANCE": "manual", "ACCEPTANCE_DAYS": "2"},
    ).start()
    yield running
    running.stop()
