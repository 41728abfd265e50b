"""Planted faults that the property checks must report: the checks' own test.

validate_manifests.py calls run() with the documents it rendered. Each
mutation edits a deep copy of one overlay's documents the way a careless edit
of deploy/ would, and manifest_checks.check_overlay() must then report a
failure, absent from the unmutated overlay's, that contains the fragment
given. A check that can no longer fail shows up here as a missed mutation.
"""

import copy
from typing import Callable, Dict, List, NamedTuple, Tuple

import manifest_checks
from check_support import MALFORMED, Overlay


class Mutation(NamedTuple):
    overlay: str                   # the rendering to mutate
    fault: str                     # what it plants, for the report
    reported: str                  # a fragment the new failure must contain
    apply: Callable[[List[dict]], None]


def _one(docs: List[dict], kind: str, name: str = None) -> dict:
    return next(d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"]))


def _pod(docs: List[dict]) -> dict:
    return _one(docs, "Deployment")["spec"]["template"]["spec"]


def _container(docs: List[dict], name: str) -> dict:
    pod = _pod(docs)
    return next(k for k in pod.get("initContainers", []) + pod["containers"]
                if k["name"] == name)


def _config(docs: List[dict]) -> dict:
    return _one(docs, "ConfigMap")["data"]


def _rename_key(d: dict, old: str, new: str) -> None:
    d[new] = d.pop(old)


def _set_resource(docs: List[dict], kind: str, value) -> None:
    resources = _container(docs, "server")["resources"]
    resources["requests"][kind] = value
    resources["limits"][kind] = value


MUTATIONS = [
    Mutation("cpu", "headless Service given a cluster IP", "Services with clusterIP None",
             lambda d: _one(d, "Service", "securebert-serve-headless")["spec"].pop("clusterIP")),
    Mutation("cpu", "not-ready pods published", "publishNotReadyAddresses",
             lambda d: _one(d, "Service", "securebert-serve-headless")["spec"].update(
                 publishNotReadyAddresses=True)),
    Mutation("cpu", "readiness asks the overall service", "readinessProbe: service",
             lambda d: _container(d, "server")["readinessProbe"]["grpc"].update(service="")),
    Mutation("cpu", "readiness over HTTP", "readinessProbe: ['httpGet']",
             lambda d: _container(d, "server")["readinessProbe"].update(
                 httpGet={"path": "/readyz", "port": 9090})),
    Mutation("cpu", "liveness on the wrong port", "livenessProbe: port",
             lambda d: _container(d, "server")["livenessProbe"]["grpc"].update(port=8080)),
    Mutation("cpu", "grace period of 36 s (5 + 30 + 2 needed)", "terminationGracePeriodSeconds",
             lambda d: _pod(d).update(terminationGracePeriodSeconds=36)),
    Mutation("cpu", "preStop through a shell", "preStop",
             lambda d: _container(d, "server")["lifecycle"].update(
                 preStop={"exec": {"command": ["sleep", "5"]}})),
    Mutation("cpu", "writable root for the exporter",
             "container model-export: securityContext.readOnlyRootFilesystem",
             lambda d: _container(d, "model-export")["securityContext"].update(
                 readOnlyRootFilesystem=False)),
    Mutation("cpu", "a capability added", "capabilities",
             lambda d: _container(d, "server")["securityContext"]["capabilities"].update(
                 add=["NET_ADMIN"])),
    Mutation("cpu", "no pod seccomp profile", "pod securityContext.seccompProfile",
             lambda d: _pod(d)["securityContext"].pop("seccompProfile")),
    Mutation("cpu", "root user", "securityContext.runAsUser",
             lambda d: _pod(d)["securityContext"].update(runAsUser=0)),
    Mutation("cpu", "no /tmp for the server", "/tmp",
             lambda d: _container(d, "server").update(volumeMounts=[
                 m for m in _container(d, "server")["volumeMounts"] if m["mountPath"] != "/tmp"])),
    Mutation("cpu", "token mounted", "ServiceAccount: automountServiceAccountToken",
             lambda d: _one(d, "ServiceAccount").update(automountServiceAccountToken=True)),
    Mutation("cpu", "a misspelled flag", "names no flag",
             lambda d: _rename_key(_config(d), "SECUREBERT_MAX_CONNECTION_AGE_MS",
                                   "SECUREBERT_MAX_CONECTION_AGE_MS")),
    Mutation("cpu", "4 instances on 2 cores", "instances x intra_op_threads",
             lambda d: _config(d).update(SECUREBERT_INSTANCES="4")),
    Mutation("cpu", "1Gi for a ~1 GB process", "memory request",
             lambda d: _set_resource(d, "memory", "1Gi")),
    Mutation("cpu", "CPU limit above the request", "Guaranteed QoS",
             lambda d: _container(d, "server")["resources"]["limits"].update(cpu="4")),
    Mutation("cpu", "exporter without --force", "--force",
             lambda d: _container(d, "model-export").update(args=[
                 a for a in _container(d, "model-export")["args"] if a != "--force"])),
    Mutation("cpu", "scrape annotation on the wrong port", "scrape annotations",
             lambda d: _one(d, "Deployment")["spec"]["template"]["metadata"]["annotations"].update(
                 {"prometheus.io/port": "8080"})),
    Mutation("cpu", "HPA aimed at another Deployment", "scaleTargetRef",
             lambda d: _one(d, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"].update(
                 name="other")),
    Mutation("cpu", "PDB selecting other pods", "PodDisruptionBudget selector",
             lambda d: _one(d, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"].update(
                 {"app.kubernetes.io/component": "worker"})),
    Mutation("cpu", "gRPC allowed on the wrong port", "NetworkPolicy ingress",
             lambda d: _one(d, "NetworkPolicy")["spec"]["ingress"][0]["ports"][0].update(
                 port=50052)),
    Mutation("cpu", "metrics open to every namespace", "NetworkPolicy ingress",
             lambda d: _one(d, "NetworkPolicy")["spec"]["ingress"][1].update(
                 **{"from": [{"namespaceSelector": {}}]})),
    Mutation("gpu", "no GPU requested", "nvidia.com/gpu",
             lambda d: [_container(d, "server")["resources"][part].pop("nvidia.com/gpu")
                        for part in ("requests", "limits")]),
    Mutation("gpu", "float32 on the GPU", "SECUREBERT_DTYPE",
             lambda d: _config(d).update(SECUREBERT_DTYPE="float32")),
    Mutation("gpu", "CPU image on the GPU", "server image",
             lambda d: _container(d, "server").update(image="securebert-serve:0.1.0")),
    Mutation("cpu-pvc", "model volume back on an emptyDir", "persistentVolumeClaim",
             lambda d: _pod(d).update(volumes=[
                 {"name": "model", "emptyDir": {}} if v["name"] == "model" else v
                 for v in _pod(d)["volumes"]])),
    Mutation("cpu-pvc", "egress left open without the exporter", "NetworkPolicy egress",
             lambda d: _one(d, "NetworkPolicy")["spec"].update(
                 egress=[{"ports": [{"protocol": "TCP", "port": 443}]}])),
    Mutation("cpu-queue-autoscaling", "queue-depth metric dropped", "Pods metrics",
             lambda d: _one(d, "HorizontalPodAutoscaler")["spec"].update(metrics=[
                 m for m in _one(d, "HorizontalPodAutoscaler")["spec"]["metrics"]
                 if m["type"] != "Pods"])),
]


def run(rendered: Dict[str, List[dict]], overlays: Dict[str, Overlay]) -> Tuple[List[str], int]:
    """Applies every mutation; returns (a message per mutation not reported, count reported)."""
    missed, caught = [], 0
    baselines = {name: set(manifest_checks.check_overlay(copy.deepcopy(docs),
                                                         overlays[name]).failures)
                 for name, docs in rendered.items()}
    for m in MUTATIONS:
        if m.overlay not in rendered:
            missed.append(f"mutation {m.fault!r}: overlay {m.overlay} was not rendered")
            continue
        docs = copy.deepcopy(rendered[m.overlay])
        try:
            m.apply(docs)
            new = set(manifest_checks.check_overlay(docs, overlays[m.overlay]).failures)
        except MALFORMED as e:
            missed.append(f"mutation {m.fault!r} on {m.overlay}: crashed instead of reported: "
                          f"{e!r}")
            continue
        new -= baselines[m.overlay]
        if any(m.reported in f for f in new):
            caught += 1
        else:
            missed.append(f"mutation {m.fault!r} on {m.overlay}: no new failure mentions "
                          f"{m.reported!r} (new failures: {sorted(new)})")
    return missed, caught
