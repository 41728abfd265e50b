#!/usr/bin/python3
"""Offline validation of the Kubernetes manifests in deploy/.

  /usr/bin/python3 tests/deploy/validate_manifests.py

Needs Debian's python3-yaml and the pinned kustomize and kubeconform that
scripts/go-tools.sh installs (it is run to find them). No cluster, no network
once the tools are installed. In order:

1. The schemas in tests/data/k8s-schemas match the checksums in SOURCES.txt.
2. Every kustomization under deploy/ (except base/, which is not applied on
   its own) is listed in OVERLAYS, so a new overlay cannot go unchecked.
3. Each overlay is rendered with `kustomize build`, and every document is
   validated by kubeconform in strict mode against the Kubernetes 1.30
   schemas; a kind without a schema fails.
4. The properties no schema expresses are asserted on the parsed documents
   (manifest_checks.py, pod_checks.py).
5. The check is shown able to fail: each manifest in tests/deploy/broken/ must
   be rejected for its planted fault (and accepted once it is fixed), and each
   planted fault in mutations.py must be reported by step 4.

Exits 0 with a summary when everything holds, 1 listing every failure.
"""

import sys
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

import k8s_tools
import manifest_checks
import mutations
from check_support import MALFORMED, Overlay

REPO_ROOT = k8s_tools.REPO_ROOT
BROKEN_DIR = Path(__file__).resolve().parent / "broken"
OVERLAYS = [
    Overlay("cpu", "deploy/cpu", device="cpu", server_image="securebert-serve:0.1.0",
            model_source="export", queue_metric=False),
    Overlay("gpu", "deploy/gpu", device="cuda", server_image="securebert-serve:0.1.0-cuda",
            model_source="export", queue_metric=False),
    Overlay("cpu-pvc", "deploy/examples/cpu-pvc", device="cpu",
            server_image="securebert-serve:0.1.0", model_source="pvc", queue_metric=False),
    Overlay("cpu-queue-autoscaling", "deploy/examples/cpu-queue-autoscaling", device="cpu",
            server_image="securebert-serve:0.1.0", model_source="export", queue_metric=True),
]
# file in BROKEN_DIR: (the planted fault, its fix or None, what kubeconform must say)
BROKEN = {
    "deployment-misspelled-field.yaml":
        ("readinesProbe:", "readinessProbe:", "additional properties 'readinesProbe' not allowed"),
    "deployment-wrong-type.yaml":
        ('terminationGracePeriodSeconds: "45"', "terminationGracePeriodSeconds: 45",
         "got string, want null or integer"),
    # No fix: a kind without a schema can only be rejected.
    "unknown-kind.yaml": ("kind: PodMonitor", None, "could not find schema for PodMonitor"),
    "configmap-duplicate-key.yaml":
        ("  SECUREBERT_DEVICE: cpu\n", "", 'key "SECUREBERT_DEVICE" already set in map'),
}


def unlisted_kustomizations() -> List[str]:
    """Kustomizations under deploy/ that OVERLAYS does not render (base/ excepted)."""
    found = set()
    for path in (REPO_ROOT / "deploy").rglob("kustomization.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        directory = path.parent.relative_to(REPO_ROOT).as_posix()
        if doc.get("kind") == "Kustomization" and directory != "deploy/base":
            found.add(directory)
    return sorted(found - {o.path for o in OVERLAYS})


def validate_overlay(tools, overlay: Overlay) -> Tuple[List[dict], int, List[str], int]:
    """Renders and validates one overlay.

    Returns (documents, how many kubeconform found valid, failures, properties that held).
    """
    text = k8s_tools.kustomize_build(tools, REPO_ROOT / overlay.path)
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    failures = []
    verdicts = k8s_tools.kubeconform(tools, text)
    valid = sum(v.get("status") == k8s_tools.STATUS_VALID for v in verdicts)
    for v in verdicts:
        if v.get("status") != k8s_tools.STATUS_VALID:
            failures.append(f"kubeconform: {v.get('kind')} {v.get('name')}: {v.get('status')} "
                            f"{v.get('msg')}")
    if len(verdicts) != len(docs):
        failures.append(f"kubeconform judged {len(verdicts)} documents, kustomize rendered "
                        f"{len(docs)}")
    try:
        checker = manifest_checks.check_overlay(docs, overlay)
    except MALFORMED as e:
        return docs, valid, failures + [f"a check could not read the manifests: {e!r}"], 0
    return docs, valid, failures + checker.failures, checker.passed


def check_broken(tools) -> Tuple[List[str], int, int]:
    """Each broken manifest is rejected for its fault and, fixed, accepted.

    Returns (failures, rejected as expected, accepted once fixed).
    """
    failures, rejected, fixed = [], 0, 0
    present = sorted(p.name for p in BROKEN_DIR.glob("*.yaml"))
    if present != sorted(BROKEN):
        failures.append(f"{BROKEN_DIR} holds {present}, BROKEN lists {sorted(BROKEN)}")
    for name, (fault, fix, said) in sorted(BROKEN.items()):
        text = (BROKEN_DIR / name).read_text(encoding="utf-8")
        if text.count(fault) != 1:
            failures.append(f"broken/{name}: the fault {fault!r} is not in it exactly once")
            continue
        verdicts = k8s_tools.kubeconform(tools, text)
        messages = " ".join(str(v.get("msg")) for v in verdicts)
        if verdicts and all(v.get("status") != k8s_tools.STATUS_VALID for v in verdicts) \
                and said in messages:
            rejected += 1
        else:
            failures.append(f"broken/{name}: expected a rejection saying {said!r}, got {verdicts}")
        if fix is None:
            continue
        verdicts = k8s_tools.kubeconform(tools, text.replace(fault, fix))
        if verdicts and all(v.get("status") == k8s_tools.STATUS_VALID for v in verdicts):
            fixed += 1
        else:
            failures.append(f"broken/{name}: still rejected with the fault fixed, so something "
                            f"else is wrong with it: {verdicts}")
    return failures, rejected, fixed


def main() -> int:
    failures: List[str] = []
    try:
        tools = k8s_tools.find_tools()
        schemas = k8s_tools.verify_schemas()
    except k8s_tools.ToolError as e:
        print(f"validate_manifests: FAIL: {e}", file=sys.stderr)
        return 1
    failures += [f"{d}: a kustomization OVERLAYS does not check" for d in unlisted_kustomizations()]
    print(f"deploy manifests: kustomize {k8s_tools.PINS['kustomize'].rsplit('@', 1)[1]}, "
          f"kubeconform {k8s_tools.PINS['kubeconform'].rsplit('@', 1)[1]} -strict, "
          f"Kubernetes {k8s_tools.KUBERNETES_VERSION} schemas ({schemas}, checksums verified)")
    rendered: Dict[str, List[dict]] = {}
    for overlay in OVERLAYS:
        try:
            docs, valid, problems, passed = validate_overlay(tools, overlay)
        except k8s_tools.ToolError as e:
            failures.append(f"{overlay.name}: {e}")
            continue
        rendered[overlay.name] = docs
        failures += [f"{overlay.name}: {p}" for p in problems]
        state = "ok" if not problems else f"{len(problems)} FAILED"
        print(f"  {overlay.name:<23} {overlay.path:<40} {valid} of {len(docs)} documents "
              f"valid, {passed} properties hold: {state}")
    broken_failures, rejected, fixed = check_broken(tools)
    failures += broken_failures
    print(f"  broken manifests: {rejected} of {len(BROKEN)} rejected for their planted fault, "
          f"{fixed} accepted once fixed")
    overlays = {o.name: o for o in OVERLAYS}
    missed, caught = mutations.run(rendered, overlays)
    failures += missed
    print(f"  property checks: {caught} of {len(mutations.MUTATIONS)} planted faults reported")
    sys.stdout.flush()  # the summary before the failures, when both go to one terminal
    if failures:
        print(f"validate_manifests: FAIL ({len(failures)}):", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print("validate_manifests: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
