"""What the deploy/ checks share: expectations, the Checker, and small helpers.

Imported by manifest_checks.py and pod_checks.py (and, for Overlay, by
validate_manifests.py). Constants here are the contract the manifests are
held to; each says where its value comes from.
"""

import dataclasses
import re
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "securebert"
HEALTH_SERVICE = "securebert.v1.SecureBert"
# Peak RSS of the base-model server after c=64 on 2 cores (docs/performance.md).
MEASURED_PEAK_RSS_BYTES = 982e6
# The least memory request accepted, as a multiple of that peak.
MEMORY_HEADROOM = 1.5
CLIENT_PEER = {"podSelector": {"matchLabels": {"securebert-client": "true"}}}
MONITORING_PEER = {"namespaceSelector": {"matchLabels": {
    "kubernetes.io/metadata.name": "monitoring"}}}
QUEUE_METRIC = "securebert_queue_requests"
# The images' non-root user (the lead's image contract, docs/deploy.md).
RUN_AS_ID = 10001
EXPORTER_IMAGE = "securebert-serve-exporter:0.1.0"
# The exporter's source for the real model (it downloads from the hub).
EXPORTER_SOURCE = ["--hf", "ehsanaghaei/SecureBERT"]
# Seconds a model load and warm-up may take before liveness starts.
MIN_STARTUP_BUDGET_S = 120
DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"


@dataclasses.dataclass(frozen=True)
class Overlay:
    """A kustomization to render and what its rendering must hold."""
    name: str              # in messages and the summary
    path: str              # relative to the repository root
    device: str            # "cpu" or "cuda"
    server_image: str      # the server container's image, tag included
    model_source: str      # "export" (init container + emptyDir) or "pvc"
    queue_metric: bool     # whether the HPA also scales on QUEUE_METRIC


class Checker:
    """Collects failed expectations; counts the ones that held."""

    def __init__(self) -> None:
        self.failures: List[str] = []  # one message per failed expectation
        self.passed = 0                # expectations that held

    def expect(self, ok: bool, message: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failures.append(message)
        return ok


def server_flags() -> set:
    """The flag names securebert-server defines (ABSL_FLAG in server/main.cc)."""
    source = (REPO_ROOT / "server" / "main.cc").read_text(encoding="utf-8")
    return set(re.findall(r"ABSL_FLAG\(\s*[\w:]+\s*,\s*(\w+)\s*,", source))


def parse_quantity(value) -> float:
    """A Kubernetes quantity ("2", "500m", "2Gi", "1.5G") as a plain number."""
    text = str(value)
    suffixes = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6,
                "G": 1e9, "T": 1e12, "m": 1e-3}
    for suffix, scale in suffixes.items():
        if text.endswith(suffix):
            return float(text[:-len(suffix)]) * scale
    return float(text)


def port_of(address: str) -> int:
    """The port of a host:port listen address."""
    return int(address.rsplit(":", 1)[1])


def selects(selector: Optional[dict], labels: dict) -> bool:
    """Whether a matchLabels-style selector (non-empty) matches `labels`."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def of_kind(docs: List[dict], kind: str) -> List[dict]:
    return [d for d in docs if d.get("kind") == kind]


def config_of(docs: List[dict]) -> Dict[str, str]:
    """The data of the (single) flags ConfigMap."""
    maps = of_kind(docs, "ConfigMap")
    return dict(maps[0].get("data", {})) if maps else {}


# What a check raises when a manifest lacks a field it reads (a rendering
# broken in a way the schema allowed); reported as a failure, not a crash.
MALFORMED = (KeyError, IndexError, TypeError, AttributeError, ValueError, StopIteration)
