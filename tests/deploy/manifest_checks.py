"""Property checks on one rendered overlay of deploy/ (what a schema cannot say).

validate_manifests.py calls check_overlay() on the parsed documents of each
`kustomize build`; it returns a Checker holding every failed expectation as a
message naming the object and the field, so one run reports every problem.
The expected values come from the server's own contract (docs/configuration.md,
docs/architecture.md) and the measurements in docs/performance.md; the
manifests' values are read from the rendered ConfigMap, never assumed. The
pod template's checks are in pod_checks.py.
"""

from typing import List, Optional

import pod_checks
from check_support import (CLIENT_PEER, DEPLOY_DOC, MONITORING_PEER, NAMESPACE, QUEUE_METRIC,
                           REPO_ROOT, Checker, Overlay, of_kind, selects, server_flags)


def check_overlay(docs: List[dict], overlay: Overlay) -> Checker:
    """Every property check on one overlay's documents."""
    c = Checker()
    counts = {kind: len(of_kind(docs, kind)) for kind in (
        "Deployment", "ConfigMap", "ServiceAccount", "Service", "HorizontalPodAutoscaler",
        "PodDisruptionBudget", "NetworkPolicy")}
    expected = {"Deployment": 1, "ConfigMap": 1, "ServiceAccount": 1, "Service": 2,
                "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 1, "NetworkPolicy": 1}
    if not c.expect(counts == expected, f"objects by kind {counts}, expected {expected}"):
        return c
    for doc in docs:
        c.expect(doc["metadata"].get("namespace") == NAMESPACE,
                 f"{doc['kind']} {doc['metadata']['name']}: namespace "
                 f"{doc['metadata'].get('namespace')!r}, expected {NAMESPACE!r}")
    ctx = pod_checks.PodContext.build(c, docs, overlay)
    if ctx is None:
        return c
    check_config(c, ctx, overlay)
    pod_checks.check_pod(c, ctx)
    pod_checks.check_model_source(c, ctx, overlay)
    pod_checks.check_resources(c, ctx, overlay)
    check_services(c, docs, ctx)
    check_autoscaling(c, docs, ctx, overlay)
    check_network_policy(c, of_kind(docs, "NetworkPolicy")[0], ctx, overlay)
    return c


def check_config(c: Checker, ctx: pod_checks.PodContext, overlay: Overlay) -> None:
    """The flags: real flag names, the device, drain and connection-age settings."""
    flags = server_flags()
    for key in sorted(ctx.config):
        name = key[len("SECUREBERT_"):].lower() if key.startswith("SECUREBERT_") else None
        c.expect(name in flags, f"ConfigMap sets {key}, which names no flag in server/main.cc "
                                f"(the server ignores an unknown SECUREBERT_ variable)")
    device = ctx.config.get("SECUREBERT_DEVICE", "cpu")
    c.expect(device == overlay.device, f"SECUREBERT_DEVICE is {device!r}, expected "
                                       f"{overlay.device!r}")
    dtype = ctx.config.get("SECUREBERT_DTYPE", "float32")
    want_dtype = "float16" if overlay.device == "cuda" else "float32"
    c.expect(dtype == want_dtype, f"SECUREBERT_DTYPE is {dtype!r}, expected {want_dtype!r}")
    for key in ("SECUREBERT_SHUTDOWN_GRACE_S", "SECUREBERT_SHUTDOWN_LINGER_MS",
                "SECUREBERT_MAX_CONNECTION_AGE_MS", "SECUREBERT_MAX_CONNECTION_AGE_GRACE_MS",
                "SECUREBERT_MODEL_DIR", "SECUREBERT_LISTEN", "SECUREBERT_METRICS_LISTEN"):
        c.expect(key in ctx.config, f"ConfigMap does not set {key}; the checks need its value "
                                    f"stated, not the server's default assumed")
    age = int(ctx.config.get("SECUREBERT_MAX_CONNECTION_AGE_MS", 0))
    age_grace = int(ctx.config.get("SECUREBERT_MAX_CONNECTION_AGE_GRACE_MS", 0))
    # Below a minute every client reconnects constantly; a grace of 0 cuts
    # off calls in flight whenever a connection ages out.
    c.expect(age >= 60000, f"SECUREBERT_MAX_CONNECTION_AGE_MS={age}: expected >= 60000")
    c.expect(0 < age_grace < age, f"SECUREBERT_MAX_CONNECTION_AGE_GRACE_MS={age_grace}: "
                                  f"expected between 0 and the age ({age})")


def _target_port(port: dict, container: dict) -> Optional[int]:
    """The container port a Service port's targetPort names (by name or number)."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for p in container.get("ports", []):
        if p.get("name") == target:
            return p.get("containerPort")
    return None


def check_services(c: Checker, docs: List[dict], ctx: pod_checks.PodContext) -> None:
    """One headless and one ClusterIP Service, both on the gRPC port of these pods."""
    services = of_kind(docs, "Service")
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    virtual = [s for s in services if s["spec"].get("clusterIP") != "None"]
    c.expect(len(headless) == 1, f"{len(headless)} Services with clusterIP None, expected 1")
    c.expect(len(virtual) == 1, f"{len(virtual)} Services with a cluster IP, expected 1")
    for svc in services:
        name, spec = svc["metadata"]["name"], svc["spec"]
        c.expect(spec.get("type", "ClusterIP") == "ClusterIP",
                 f"Service {name}: type {spec.get('type')!r}, expected ClusterIP")
        c.expect(selects(spec.get("selector"), ctx.pod_labels),
                 f"Service {name}: selector {spec.get('selector')} does not select the pods "
                 f"{ctx.pod_labels}")
        targets = [_target_port(p, ctx.server) for p in spec.get("ports", [])]
        c.expect(targets == [ctx.listen_port],
                 f"Service {name}: ports reach container ports {targets}, expected only the "
                 f"gRPC port [{ctx.listen_port}]")
        # A not-ready pod in DNS would get calls while it loads or drains.
        c.expect(not spec.get("publishNotReadyAddresses", False),
                 f"Service {name}: publishNotReadyAddresses must not be true")
    if len(headless) == 1:
        target = (f"dns:///{headless[0]['metadata']['name']}.{NAMESPACE}.svc.cluster.local:"
                  f"{ctx.listen_port}")
        text = DEPLOY_DOC.read_text(encoding="utf-8") if DEPLOY_DOC.is_file() else ""
        c.expect(target in text, f"docs/deploy.md does not give clients the headless "
                                 f"Service's target {target}")


def check_autoscaling(c: Checker, docs: List[dict], ctx: pod_checks.PodContext,
                      overlay: Overlay) -> None:
    """The HPA scales this Deployment on CPU (and queue depth); the PDB covers its pods."""
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[0]
    spec = hpa["spec"]
    want_ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": ctx.deployment_name}
    c.expect(hpa["apiVersion"] == "autoscaling/v2",
             f"HPA apiVersion {hpa['apiVersion']}, expected autoscaling/v2")
    c.expect(spec.get("scaleTargetRef") == want_ref,
             f"HPA scaleTargetRef {spec.get('scaleTargetRef')}, expected {want_ref}")
    c.expect(spec.get("minReplicas", 1) >= 2,
             f"HPA minReplicas {spec.get('minReplicas', 1)}: one pod leaves no capacity during "
             f"a drain or eviction; expected >= 2")
    c.expect(spec.get("maxReplicas", 0) > spec.get("minReplicas", 1),
             "HPA maxReplicas must exceed minReplicas")
    metrics = spec.get("metrics", [])
    cpu = [m for m in metrics if m.get("type") == "Resource"
           and m["resource"].get("name") == "cpu"
           and m["resource"]["target"].get("type") == "Utilization"]
    c.expect(len(cpu) == 1 and 0 < cpu[0]["resource"]["target"]["averageUtilization"] <= 100,
             f"HPA: expected one CPU Utilization metric in (0, 100], got {metrics}")
    queue = [m for m in metrics if m.get("type") == "Pods"
             and m["pods"]["metric"].get("name") == QUEUE_METRIC
             and m["pods"]["target"].get("type") == "AverageValue"]
    c.expect(len(queue) == (1 if overlay.queue_metric else 0),
             f"HPA: {len(queue)} Pods metrics on {QUEUE_METRIC}, expected "
             f"{1 if overlay.queue_metric else 0} (only the queue-autoscaling component adds it: "
             f"it needs prometheus-adapter)")
    c.expect(len(metrics) == len(cpu) + len(queue), f"HPA: unexpected metrics {metrics}")
    if overlay.queue_metric:
        source = (REPO_ROOT / "server" / "service" / "metrics.cc").read_text(encoding="utf-8")
        c.expect(f'"{QUEUE_METRIC}"' in source,
                 f"server/service/metrics.cc exports no gauge {QUEUE_METRIC}")
    pdb = of_kind(docs, "PodDisruptionBudget")[0]
    pdb_spec = pdb["spec"]
    c.expect(selects(pdb_spec.get("selector", {}).get("matchLabels"), ctx.pod_labels),
             f"PodDisruptionBudget selector {pdb_spec.get('selector')} does not select the pods "
             f"{ctx.pod_labels}")
    max_unavailable, min_available = pdb_spec.get("maxUnavailable"), pdb_spec.get("minAvailable")
    if max_unavailable is not None:
        allows_eviction = str(max_unavailable) not in ("0", "0%")
    else:
        # A percentage of minAvailable depends on the replica count of the day.
        allows_eviction = (isinstance(min_available, int) and
                           min_available < spec.get("minReplicas", 1))
    c.expect(allows_eviction, f"PodDisruptionBudget {pdb_spec} never allows an eviction at "
                              f"minReplicas {spec.get('minReplicas', 1)}: node drains would hang")


def _rules(rules: List[dict]) -> set:
    """A policy's rules as (port, protocol, peer) triples, to compare as sets."""
    triples = set()
    for rule in rules:
        peers = rule.get("from", rule.get("to")) or [None]  # None: any peer
        for port in rule.get("ports") or [{"port": None}]:  # None: any port
            for peer in peers:
                # A port range (endPort) opens more than `port`: then never equal.
                key = port.get("port") if "endPort" not in port else (port["port"], port["endPort"])
                triples.add((key, port.get("protocol", "TCP"), repr(peer)))
    return triples


def check_network_policy(c: Checker, policy: dict, ctx: pod_checks.PodContext,
                         overlay: Overlay) -> None:
    """Exactly gRPC from client pods and metrics from monitoring in; out only what's needed."""
    spec = policy["spec"]
    c.expect(selects(spec.get("podSelector", {}).get("matchLabels"), ctx.pod_labels),
             f"NetworkPolicy podSelector {spec.get('podSelector')} does not select the pods")
    c.expect(sorted(spec.get("policyTypes", [])) == ["Egress", "Ingress"],
             f"NetworkPolicy policyTypes {spec.get('policyTypes')}, expected Ingress and Egress")
    want_in = {(ctx.listen_port, "TCP", repr(CLIENT_PEER)),
               (ctx.metrics_port, "TCP", repr(MONITORING_PEER))}
    got_in = _rules(spec.get("ingress", []))
    c.expect(got_in == want_in, f"NetworkPolicy ingress allows {sorted(got_in, key=str)}, "
                                f"expected exactly {sorted(want_in, key=str)}")
    # The exporter resolves and downloads from the Hugging Face hub; with the
    # model on a PVC nothing in the pod connects out.
    want_out = set() if overlay.model_source == "pvc" else {
        (53, "UDP", "None"), (53, "TCP", "None"), (443, "TCP", "None")}
    got_out = _rules(spec.get("egress", []))
    c.expect(got_out == want_out, f"NetworkPolicy egress allows {sorted(got_out, key=str)}, "
                                  f"expected exactly {sorted(want_out, key=str)}")

