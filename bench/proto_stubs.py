"""securebert.v1 Python stubs generated at run time from the .proto (grpc_tools.protoc).

The transformers peer (transformers_peer.py) and the harness's parity check of the peers
(harness/peer_check.py) use them; neither needs the build's generated package, so they
run from a checkout with only the venv. The stubs go to a directory the caller owns (a
temporary one); it is put first on sys.path.
"""

import importlib
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO_ROOT / "proto"
PROTO_FILE = PROTO_ROOT / "securebert" / "v1" / "securebert.proto"


def generate(out_dir: Path, python: str = sys.executable, timeout_s: float = 120.0):
    """(securebert_pb2, securebert_pb2_grpc), generated into out_dir and imported."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [python, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"--python_out={out_dir}",
         f"--grpc_python_out={out_dir}", str(PROTO_FILE)],
        capture_output=True, text=True, timeout=timeout_s, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"grpc_tools.protoc failed ({result.returncode}):\n{result.stderr}")
    sys.path.insert(0, str(out_dir))
    importlib.invalidate_caches()
    return (importlib.import_module("securebert.v1.securebert_pb2"),
            importlib.import_module("securebert.v1.securebert_pb2_grpc"))
