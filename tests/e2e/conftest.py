"""End-to-end tests: the processes as `make run` starts them, driven over HTTP like a user."""

import pytest

from tests.support.mesh import Mesh, reset_vhost


@pytest.fixture(scope="session")
def mesh(tmp_path_factory):
    running = Mesh(tmp_path_factory.mktemp("mesh"), reset_vhost()).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(mesh):
    return mesh.client()
