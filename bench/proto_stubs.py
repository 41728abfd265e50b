"""securebert.v1 Python stubs generated at run time from the .proto (grpc_tools.protoc).

The transformers peer (transformers_peer.py) and the harness's parity check of the peers
(harness/peer_check.py) use them; neither needs the build's generated package, so they
run from a checkout with only the venv. The stubs go to a directory the caller owns (a
temporary one); it is put first on sys.path. The generator is the repo's server test
harness's (tests/parity/server_under_test.py), as bench/tokenizer_vs_hf.py uses it too.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "parity"))

from server_under_test import generate_stubs as generate  # noqa: E402,F401  pylint: disable=wrong-import-position
