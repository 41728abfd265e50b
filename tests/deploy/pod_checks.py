"""Property checks on the Deployment's pod template: probes, drain timing,
security contexts, volumes, the model's source and the container resources.

Called by manifest_checks.check_overlay() with a PodContext it builds once per
overlay; every function records into the Checker and returns nothing.
"""

import dataclasses
import posixpath
from typing import Dict, List, Optional

from check_support import (EXPORTER_IMAGE, EXPORTER_SOURCE, HEALTH_SERVICE,
                           MEASURED_PEAK_RSS_BYTES, MEMORY_HEADROOM, MIN_STARTUP_BUDGET_S,
                           RUN_AS_ID, Checker, Overlay, config_of, of_kind, parse_quantity,
                           port_of, selects)

PROBES = {"startupProbe": HEALTH_SERVICE, "readinessProbe": HEALTH_SERVICE,
          # Liveness asks about the server as a whole, the "" service.
          "livenessProbe": ""}
# Flags whose automatic values count the node's cores, not the pod's.
THREAD_FLAGS = ("SECUREBERT_INSTANCES", "SECUREBERT_INTRA_OP_THREADS",
                "SECUREBERT_TOKENIZER_THREADS")


@dataclasses.dataclass
class PodContext:
    """What every pod check reads, resolved once from the rendered documents."""
    deployment: dict        # the Deployment document
    pod: dict               # its spec.template.spec
    pod_labels: dict        # its spec.template.metadata.labels
    server: dict            # the container named "server"
    config: Dict[str, str]  # the flags ConfigMap's data
    config_name: str        # its name, hash suffix included
    service_account: dict   # the ServiceAccount document
    listen_port: int        # from SECUREBERT_LISTEN
    metrics_port: int       # from SECUREBERT_METRICS_LISTEN

    @property
    def deployment_name(self) -> str:
        return self.deployment["metadata"]["name"]

    @property
    def containers(self) -> List[dict]:
        """Init containers and containers alike."""
        return self.pod.get("initContainers", []) + self.pod.get("containers", [])

    @staticmethod
    def build(c: Checker, docs: List[dict], overlay: Overlay) -> Optional["PodContext"]:
        deployment = of_kind(docs, "Deployment")[0]
        template = deployment["spec"]["template"]
        servers = [k for k in template["spec"].get("containers", []) if k["name"] == "server"]
        if not c.expect(len(servers) == 1, f"{overlay.name}: no container named server"):
            return None
        config = config_of(docs)
        return PodContext(
            deployment=deployment, pod=template["spec"],
            pod_labels=template.get("metadata", {}).get("labels", {}), server=servers[0],
            config=config, config_name=of_kind(docs, "ConfigMap")[0]["metadata"]["name"],
            service_account=of_kind(docs, "ServiceAccount")[0],
            listen_port=port_of(config.get("SECUREBERT_LISTEN", "0.0.0.0:50051")),
            metrics_port=port_of(config.get("SECUREBERT_METRICS_LISTEN", "0.0.0.0:9090")))


def check_pod(c: Checker, ctx: PodContext) -> None:
    """Everything about the pod template except the model and the resources."""
    spec = ctx.deployment["spec"]
    # The HPA owns the count; a replicas field would reset it on every apply.
    c.expect("replicas" not in spec, "Deployment sets spec.replicas; the HPA owns it")
    c.expect(selects(spec["selector"].get("matchLabels"), ctx.pod_labels),
             f"Deployment selector {spec['selector']} does not match its pods {ctx.pod_labels}")
    sa_name = ctx.service_account["metadata"]["name"]
    c.expect(ctx.pod.get("serviceAccountName") == sa_name,
             f"pod serviceAccountName {ctx.pod.get('serviceAccountName')!r}, expected {sa_name!r}")
    c.expect(ctx.service_account.get("automountServiceAccountToken") is False,
             "ServiceAccount: automountServiceAccountToken must be false")
    c.expect(ctx.pod.get("automountServiceAccountToken") is False,
             "pod: automountServiceAccountToken must be false")
    # Service links put SECUREBERT_SERVE_* variables where the server reads flags.
    c.expect(ctx.pod.get("enableServiceLinks") is False, "pod: enableServiceLinks must be false")
    for spread in ctx.pod.get("topologySpreadConstraints", []):
        c.expect(selects(spread.get("labelSelector", {}).get("matchLabels"), ctx.pod_labels),
                 f"topologySpreadConstraint {spread} does not select the pods")
    check_security(c, ctx)
    check_volumes(c, ctx)
    check_server_container(c, ctx)
    check_probes(c, ctx)
    check_drain(c, ctx)


def check_security(c: Checker, ctx: PodContext) -> None:
    """Non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp."""
    pod_sc = ctx.pod.get("securityContext", {})
    for field, want in (("runAsNonRoot", True), ("runAsUser", RUN_AS_ID),
                        ("runAsGroup", RUN_AS_ID), ("fsGroup", RUN_AS_ID)):
        c.expect(pod_sc.get(field) == want,
                 f"pod securityContext.{field} is {pod_sc.get(field)!r}, expected {want!r}")
    c.expect(pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
             f"pod securityContext.seccompProfile {pod_sc.get('seccompProfile')}, expected "
             f"RuntimeDefault")
    for k in ctx.containers:
        sc, name = k.get("securityContext", {}), k["name"]
        for field, want in (("allowPrivilegeEscalation", False), ("readOnlyRootFilesystem", True),
                            ("runAsNonRoot", True)):
            c.expect(sc.get(field) is want,
                     f"container {name}: securityContext.{field} is {sc.get(field)!r}, "
                     f"expected {want}")
        c.expect(sc.get("privileged", False) is False, f"container {name}: privileged")
        c.expect(sc.get("runAsUser", RUN_AS_ID) == RUN_AS_ID,
                 f"container {name}: runAsUser {sc.get('runAsUser')!r} overrides the pod's")
        caps = sc.get("capabilities", {})
        c.expect(caps.get("drop") == ["ALL"] and not caps.get("add"),
                 f"container {name}: capabilities {caps}, expected drop [ALL] and no add")
        c.expect(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
                 f"container {name}: securityContext.seccompProfile {sc.get('seccompProfile')}, "
                 f"expected RuntimeDefault")


def check_volumes(c: Checker, ctx: PodContext) -> None:
    """Every mount names a volume and every volume is mounted; /tmp is an emptyDir."""
    volumes = {v["name"]: v for v in ctx.pod.get("volumes", [])}
    mounted = set()
    for k in ctx.containers:
        mounts = k.get("volumeMounts", [])
        for m in mounts:
            mounted.add(m["name"])
            c.expect(m["name"] in volumes,
                     f"container {k['name']}: mounts {m['name']!r}, which is no volume")
        tmp = [m for m in mounts if m["mountPath"] == "/tmp"]
        # The root filesystem is read-only; libraries still want a /tmp.
        c.expect(len(tmp) == 1 and "emptyDir" in volumes.get(tmp[0]["name"], {}),
                 f"container {k['name']}: no emptyDir mounted at /tmp")
    unused = sorted(set(volumes) - mounted)
    c.expect(not unused, f"volumes no container mounts: {unused}")


def check_server_container(c: Checker, ctx: PodContext) -> None:
    """Entrypoint, ports, flags from the ConfigMap, scrape annotations."""
    s = ctx.server
    # Flags come from the ConfigMap only; the entrypoint is the server.
    c.expect("command" not in s and "args" not in s,
             "server: command/args set; the image's entrypoint and the ConfigMap carry the flags")
    refs = [e.get("configMapRef", {}).get("name") for e in s.get("envFrom", [])]
    c.expect(refs == [ctx.config_name],
             f"server: envFrom {s.get('envFrom')}, expected one configMapRef to "
             f"{ctx.config_name!r}")
    ports = {p.get("name"): p.get("containerPort") for p in s.get("ports", [])}
    want = {"grpc": ctx.listen_port, "metrics": ctx.metrics_port}
    c.expect(ports == want, f"server ports {ports}, expected {want} (from the ConfigMap)")
    annotations = ctx.deployment["spec"]["template"].get("metadata", {}).get("annotations", {})
    want_ann = {"prometheus.io/scrape": "true", "prometheus.io/port": str(ctx.metrics_port),
                "prometheus.io/path": "/metrics"}
    got_ann = {k: annotations.get(k) for k in want_ann}
    c.expect(got_ann == want_ann, f"pod scrape annotations {got_ann}, expected {want_ann}")


def check_probes(c: Checker, ctx: PodContext) -> None:
    """Native gRPC probes on the gRPC port, asking grpc.health.v1 about the right service."""
    for name, service in PROBES.items():
        probe = ctx.server.get(name)
        if not c.expect(probe is not None, f"server: no {name}"):
            continue
        other = sorted({"httpGet", "exec", "tcpSocket"} & set(probe))
        c.expect("grpc" in probe and not other, f"server {name}: {other or 'no grpc'}; expected "
                                                f"a native gRPC probe")
        grpc = probe.get("grpc", {})
        c.expect(grpc.get("port") == ctx.listen_port,
                 f"server {name}: port {grpc.get('port')}, expected {ctx.listen_port}")
        c.expect(grpc.get("service", "") == service,
                 f"server {name}: service {grpc.get('service', '')!r}, expected {service!r}")
    startup = ctx.server.get("startupProbe") or {}
    budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    c.expect(budget >= MIN_STARTUP_BUDGET_S,
             f"server startupProbe allows {budget} s to load and warm up, expected >= "
             f"{MIN_STARTUP_BUDGET_S}")


def check_drain(c: Checker, ctx: PodContext) -> None:
    """preStop sleep, then the drain, all inside terminationGracePeriodSeconds."""
    pre_stop = ctx.server.get("lifecycle", {}).get("preStop", {})
    sleep_s = pre_stop.get("sleep", {}).get("seconds", 0)
    # The kubelet's sleep action: the image need not contain a shell.
    c.expect(set(pre_stop) == {"sleep"} and 0 < sleep_s <= 15,
             f"server preStop {pre_stop}: expected a sleep of 1-15 s")
    grace_s = int(ctx.config.get("SECUREBERT_SHUTDOWN_GRACE_S", 30))
    linger_s = int(ctx.config.get("SECUREBERT_SHUTDOWN_LINGER_MS", 2000)) / 1000
    period = ctx.pod.get("terminationGracePeriodSeconds", 30)
    c.expect(period > grace_s + linger_s + sleep_s,
             f"terminationGracePeriodSeconds {period} <= preStop {sleep_s} s + shutdown_grace "
             f"{grace_s} s + linger {linger_s} s: the kubelet would kill a draining pod")


def check_model_source(c: Checker, ctx: PodContext, overlay: Overlay) -> None:
    """The server reads the model read-only from an exporter-filled emptyDir or a PVC."""
    model_dir = ctx.config.get("SECUREBERT_MODEL_DIR", "")
    mounts = [m for m in ctx.server.get("volumeMounts", [])
              if model_dir == m["mountPath"] or model_dir.startswith(m["mountPath"] + "/")]
    if not c.expect(len(mounts) == 1, f"server: no mount holds SECUREBERT_MODEL_DIR "
                                      f"{model_dir!r}"):
        return
    mount = mounts[0]
    c.expect(mount.get("readOnly") is True, "server: the model mount must be readOnly")
    volume = next((v for v in ctx.pod.get("volumes", []) if v["name"] == mount["name"]), {})
    inits = ctx.pod.get("initContainers", [])
    if overlay.model_source == "pvc":
        claim = volume.get("persistentVolumeClaim", {})
        c.expect(bool(claim.get("claimName")) and claim.get("readOnly") is True,
                 f"model volume {volume}: expected a read-only persistentVolumeClaim")
        c.expect("emptyDir" not in volume, "model volume still has an emptyDir")
        c.expect(not inits, f"init containers {[k['name'] for k in inits]} left with a PVC")
        return
    c.expect("emptyDir" in volume, f"model volume {volume}: expected an emptyDir")
    exporters = [k for k in inits if k.get("image") == EXPORTER_IMAGE]
    if not c.expect(len(inits) == 1 and len(exporters) == 1,
                    f"init containers {[k.get('image') for k in inits]}, expected one "
                    f"{EXPORTER_IMAGE}"):
        return
    args = exporters[0].get("args", [])
    pairs = list(zip(args, args[1:]))
    c.expect(tuple(EXPORTER_SOURCE) in pairs and ("--out", model_dir) in pairs
             and "--force" in args,
             f"exporter args {args}: expected {EXPORTER_SOURCE}, --out {model_dir} and --force "
             f"(a restarted pod finds the previous export)")
    # The exporter renames a sibling directory into place: it needs the parent.
    out = [m for m in exporters[0].get("volumeMounts", []) if m["name"] == mount["name"]]
    c.expect(len(out) == 1 and out[0]["mountPath"] == posixpath.dirname(model_dir)
             and not out[0].get("readOnly", False),
             f"exporter mounts of the model volume {out}: expected it writable at "
             f"{posixpath.dirname(model_dir)}")
    env = {e["name"]: e.get("value", "") for e in exporters[0].get("env", [])}
    writable = [m["mountPath"] for m in exporters[0].get("volumeMounts", [])
                if not m.get("readOnly", False)]
    c.expect(any(env.get("HF_HOME", "").startswith(p + "/") for p in writable),
             f"exporter HF_HOME {env.get('HF_HOME')!r} is not on a writable volume "
             f"(the root filesystem is read-only)")


def check_resources(c: Checker, ctx: PodContext, overlay: Overlay) -> None:
    """Guaranteed QoS, memory from the measured RSS, threads pinned to the CPU request."""
    c.expect(ctx.server.get("image") == overlay.server_image,
             f"server image {ctx.server.get('image')!r}, expected {overlay.server_image!r}")
    for k in ctx.containers:
        res = k.get("resources", {})
        req, lim = res.get("requests", {}), res.get("limits", {})
        for r in ("cpu", "memory"):
            c.expect(r in req and r in lim and parse_quantity(req[r]) == parse_quantity(lim[r]),
                     f"container {k['name']}: {r} request {req.get(r)} and limit {lim.get(r)} "
                     f"must both be set and equal (Guaranteed QoS)")
        gpu_req, gpu_lim = req.get("nvidia.com/gpu"), lim.get("nvidia.com/gpu")
        if k is ctx.server and overlay.device == "cuda":
            c.expect(str(gpu_lim) == "1" and gpu_req in (None, gpu_lim),
                     f"server: nvidia.com/gpu limit {gpu_lim} request {gpu_req}, expected 1")
        else:
            c.expect(gpu_req is None and gpu_lim is None,
                     f"container {k['name']}: asks for nvidia.com/gpu on {overlay.device}")
    req = ctx.server.get("resources", {}).get("requests", {})
    memory = parse_quantity(req.get("memory", 0))
    c.expect(memory >= MEASURED_PEAK_RSS_BYTES * MEMORY_HEADROOM,
             f"server memory request {req.get('memory')} is below {MEMORY_HEADROOM} x the "
             f"measured peak RSS of {MEASURED_PEAK_RSS_BYTES / 1e6:.0f} MB")
    cores = parse_quantity(req.get("cpu", 0))
    threads = {f: int(ctx.config.get(f, 0)) for f in THREAD_FLAGS}
    c.expect(all(v > 0 for v in threads.values()),
             f"{threads}: each must be set above 0; 0 counts the node's cores, not the pod's")
    compute = threads["SECUREBERT_INSTANCES"] * threads["SECUREBERT_INTRA_OP_THREADS"]
    if overlay.device == "cpu":
        c.expect(compute == cores, f"instances x intra_op_threads = {compute}, expected the "
                                   f"{cores:g} cores requested")
    else:
        c.expect(compute <= cores, f"instances x intra_op_threads = {compute} exceeds the "
                                   f"{cores:g} cores requested")
    c.expect(threads["SECUREBERT_TOKENIZER_THREADS"] <= cores,
             f"tokenizer_threads {threads['SECUREBERT_TOKENIZER_THREADS']} exceeds the "
             f"{cores:g} cores requested")
