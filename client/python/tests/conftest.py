"""Fixtures shared by the tests: fake servers, a throw-away PKI, the example.

The tests import the securebert_client that is on sys.path; run_tests.sh
puts the installed wheel there (and never src/), so they test what
`pip install` produces.
"""

import importlib.util
import os
import pathlib

import grpc
import pytest

import certs
from fake_server import FakeServer

PYTHON_DIR = pathlib.Path(__file__).resolve().parent.parent


def pytest_sessionstart(session):
    """Under run_tests.sh, refuses to test any copy but the installed one."""
    installed = os.environ.get("SECUREBERT_CLIENT_INSTALLED")
    if not installed:
        return
    import securebert_client
    from securebert.v1 import securebert_pb2
    for module in (securebert_client, securebert_pb2):
        path = pathlib.Path(module.__file__).resolve()
        if not path.is_relative_to(pathlib.Path(installed).resolve()):
            raise pytest.UsageError(f"{module.__name__} comes from {path}, not the install "
                                    f"in {installed}")


@pytest.fixture
def start_fake():
    """start_fake(server_credentials=None) -> a started FakeServer, stopped
    after the test."""
    servers = []

    def start(server_credentials=None):
        servers.append(FakeServer(server_credentials))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def fake(start_fake):
    return start_fake()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return certs.make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_credentials(pki):
    """Server credentials that require a client certificate from pki.ca."""
    return grpc.ssl_server_credentials([(pki.read("server_key"), pki.read("server_cert"))],
                                       root_certificates=pki.read("ca"),
                                       require_client_auth=True)


@pytest.fixture(scope="session")
def example():
    """client/python/example.py as a module."""
    spec = importlib.util.spec_from_file_location("example", PYTHON_DIR / "example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
