"""The pinned kustomize and kubeconform, found through scripts/go-tools.sh.

Used by validate_manifests.py. scripts/go-tools.sh installs the pinned
versions (idempotently) and prints the directory holding them; this module
checks that the binaries there are those pins before trusting their verdicts,
renders overlays, and validates YAML against the schemas in
tests/data/k8s-schemas. Every failure raises ToolError with a message naming
what to run or fix.
"""

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[2]
GO_TOOLS = REPO_ROOT / "scripts" / "go-tools.sh"
SCHEMA_ROOT = REPO_ROOT / "tests" / "data" / "k8s-schemas"
KUBERNETES_VERSION = "1.30.0"
# kubeconform's own naming of its standalone schema sets (the layout of
# yannh/kubernetes-json-schema). The strict suffix only resolves with -strict,
# so dropping -strict makes every lookup fail instead of loosening the check.
SCHEMA_TEMPLATE = str(SCHEMA_ROOT) + (
    "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
    "/{{ .ResourceKind }}{{ .KindSuffix }}.json")
# What go-tools.sh writes into <bin>/.<name>.version after installing a pin.
PINS = {
    "kustomize": "sigs.k8s.io/kustomize/kustomize/v5@v5.8.1",
    "kubeconform": "github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0",
}
# kubeconform statuses; anything but valid fails, skipped included.
STATUS_VALID = "statusValid"


class ToolError(RuntimeError):
    """A tool is missing, is not the pinned version, or failed to run."""


def find_tools() -> Dict[str, Path]:
    """Runs scripts/go-tools.sh and returns {name: path} for the pinned tools."""
    try:
        run = subprocess.run([str(GO_TOOLS)], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=False, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ToolError(f"{GO_TOOLS.name} could not run: {e}") from e
    if run.returncode != 0 or not run.stdout.strip():
        raise ToolError(f"{GO_TOOLS.name} failed (exit {run.returncode}); it installs kustomize "
                        f"and kubeconform with Go (scripts/setup.sh installs Go):\n"
                        f"{run.stderr.strip()}")
    bin_dir = Path(run.stdout.strip().splitlines()[-1])
    tools = {}
    for name, pin in PINS.items():
        path = bin_dir / name
        stamp = bin_dir / f".{name}.version"
        if not path.is_file():
            raise ToolError(f"{path} is missing after {GO_TOOLS.name}")
        recorded = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else "(none)"
        if recorded != pin:
            raise ToolError(f"{path} is {recorded}, not the pinned {pin}: rerun {GO_TOOLS.name}")
        tools[name] = path
    # go install stamps kubeconform as "development", so only kustomize can
    # confirm its version itself; the stamp above covers both.
    version = subprocess.run([str(tools["kustomize"]), "version"], capture_output=True,
                             text=True, check=False).stdout.strip()
    if version != PINS["kustomize"].rsplit("@", 1)[1]:
        raise ToolError(f"{tools['kustomize']} reports version {version!r}, pinned "
                        f"{PINS['kustomize']}")
    return tools


def verify_schemas() -> int:
    """Checks every schema file against the sha256 list in SOURCES.txt; returns the count.

    The schemas decide what passes, so one edited by hand must not go unnoticed.
    """
    sources = SCHEMA_ROOT / "SOURCES.txt"
    schema_dir = SCHEMA_ROOT / f"v{KUBERNETES_VERSION}-standalone-strict"
    expected = {}
    for line in sources.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            expected[parts[1]] = parts[0]
    present = sorted(p.name for p in schema_dir.glob("*.json"))
    if sorted(expected) != present:
        raise ToolError(f"{schema_dir} holds {present}, SOURCES.txt lists {sorted(expected)}")
    for name, digest in expected.items():
        actual = hashlib.sha256((schema_dir / name).read_bytes()).hexdigest()
        if actual != digest:
            raise ToolError(f"{schema_dir / name}: sha256 {actual}, SOURCES.txt says {digest}")
    return len(expected)


def kustomize_build(tools: Dict[str, Path], directory: Path) -> str:
    """The rendered YAML of one kustomization directory."""
    run = subprocess.run([str(tools["kustomize"]), "build", str(directory)],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise ToolError(f"kustomize build {directory.relative_to(REPO_ROOT)} failed:\n"
                        f"{run.stderr.strip()}")
    return run.stdout


def kubeconform(tools: Dict[str, Path], yaml_text: str) -> List[dict]:
    """kubeconform's verdict on every document of `yaml_text`, one dict each.

    Strict (unknown fields and duplicate keys fail), against the local schemas
    only, and without -ignore-missing-schemas: a kind with no schema is an
    error, never a skip.
    """
    command = [str(tools["kubeconform"]), "-strict", "-verbose", "-output", "json",
               "-kubernetes-version", KUBERNETES_VERSION, "-schema-location", SCHEMA_TEMPLATE,
               # One goroutine: the documents are few and the machine is shared.
               "-n", "1", "-"]
    run = subprocess.run(command, input=yaml_text, capture_output=True, text=True, check=False)
    try:
        resources = json.loads(run.stdout).get("resources") or []
    except json.JSONDecodeError as e:
        raise ToolError(f"kubeconform printed no JSON (exit {run.returncode}): "
                        f"{run.stderr.strip() or run.stdout[:500]}") from e
    invalid = [r for r in resources if r.get("status") != STATUS_VALID]
    # Its exit status and its per-document verdicts must agree, or one of the
    # two is not what this module thinks it is.
    if (run.returncode == 0) != (not invalid):
        raise ToolError(f"kubeconform exit {run.returncode} contradicts its verdicts {resources}")
    return resources
