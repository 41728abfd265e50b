"""Build step of the securebert-client package: the gRPC stubs.

Everything else is in pyproject.toml. build_py (run by `pip wheel`,
`pip install` and `pip install -e`) first runs grpc_tools.protoc, a pinned
build requirement, on the repository's proto/securebert/v1/securebert.proto,
writing securebert_pb2.py, securebert_pb2.pyi and securebert_pb2_grpc.py
into src/securebert/v1/ (git-ignored), then copies the packages as usual.
The stubs are generated on every build, so they always match the .proto.

The .proto lives outside this directory, so the package builds only from
the repository checkout; sdist is refused rather than making an archive
that could not build.
"""

import pathlib

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.errors import SetupError

HERE = pathlib.Path(__file__).resolve().parent
# -I root of the service's .proto files (proto/ at the repository root).
PROTO_ROOT = HERE.parent.parent / "proto"
# The .proto files to compile, relative to PROTO_ROOT; their paths give the
# Python module names (securebert/v1/securebert.proto -> securebert.v1).
PROTOS = ["securebert/v1/securebert.proto"]
# Where the generated modules go: the package source tree.
OUTPUT_ROOT = HERE / "src"


def generate_stubs():
    """Runs grpc_tools.protoc on PROTOS; raises SetupError if it fails."""
    import importlib.resources

    from grpc_tools import protoc

    missing = [p for p in PROTOS if not (PROTO_ROOT / p).is_file()]
    if missing:
        raise SetupError(f"cannot find {missing} under {PROTO_ROOT}: build securebert-client "
                         "from the securebert-serve repository checkout (client/python)")
    # google/protobuf/*.proto, should a .proto import one of them.
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    args = ["grpc_tools.protoc", f"--proto_path={PROTO_ROOT}", f"--proto_path={well_known}",
            f"--python_out={OUTPUT_ROOT}", f"--pyi_out={OUTPUT_ROOT}",
            f"--grpc_python_out={OUTPUT_ROOT}", *PROTOS]
    if protoc.main(args) != 0:
        raise SetupError(f"grpc_tools.protoc failed: {' '.join(args[1:])}")


class BuildPyWithStubs(build_py):
    """build_py that generates the stubs before it copies the packages."""

    def run(self):
        generate_stubs()
        super().run()


class NoSdist(sdist):
    """Refuses: the stubs need ../../proto, which an sdist would not hold."""

    def run(self):
        raise SetupError("securebert-client has no sdist: build a wheel from the repository "
                         "checkout (pip wheel client/python)")


setup(cmdclass={"build_py": BuildPyWithStubs, "sdist": NoSdist})
