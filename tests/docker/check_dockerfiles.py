#!/usr/bin/env python3
"""Checks the container files against each other and against the manifests.

docker/Dockerfile.cuda cannot be built on this project's machines (no NVIDIA
base image is reachable), so nothing but this check keeps it honest. It
parses both Dockerfiles and asserts that:

  - the server stages (the last of each) promise the same runtime contract:
    ENTRYPOINT (exec form, so the server is PID 1 and gets SIGTERM), USER
    (numeric, not root), EXPOSE, HEALTHCHECK, STOPSIGNAL, every SECUREBERT_*
    ENV default, and the model path (SECUREBERT_MODEL_DIR under /models, the
    model stage's output copied to /models);
  - the build and model stages are the same instruction for instruction (one
    build for both images; a second image build reuses its layers);
  - that contract is what deploy/base relies on (UID/GID, container ports,
    model path) and docker/compose.yaml uses (image tags of CMakeLists.txt's
    version, the exporter target and entrypoint, the volume, health gating,
    a stop grace above the drain's);
  - .dockerignore keeps build trees, models, the venv and the Go tools out of
    the build context.

To show the checks can fail, each planted drift in MUTATIONS must be
reported; an unreported one fails the run.

  /usr/bin/python3 tests/docker/check_dockerfiles.py [--cuda FILE]
"""

import argparse
import fnmatch
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED_STAGES = ("build", "model")
# Directories of the repository root the build context must not carry.
MUST_IGNORE = ("build", "build-asan", "build-debian-torch", "models", ".venv", ".tools")
# --shutdown_grace_s plus --shutdown_linger_ms of server/main.cc's defaults.
DRAIN_SECONDS = 32


class Instruction(NamedTuple):
    keyword: str  # upper case, e.g. "ENV"
    args: str  # the rest of the instruction, continuation lines joined


class Stage(NamedTuple):
    name: str  # the AS name, or its index when it has none
    base: str  # the FROM image or stage
    instructions: List[Instruction]  # after FROM


def parse_dockerfile(text: str) -> List[Stage]:
    """Stages of a Dockerfile: comments dropped, backslash continuations joined."""
    logical: List[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # also inside a continued instruction, as Docker does
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current.strip())
    stages: List[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, words[0], []))
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, args))
    return stages


def parse_env(args: str) -> Dict[str, str]:
    """ENV A=1 B="2 3", or the legacy ENV A 1."""
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def runtime_contract(stages: List[Stage]) -> Dict[str, object]:
    """What the server stage (the last) promises the container runtime."""
    stage = stages[-1]
    contract: Dict[str, object] = {"expose": [], "env": {}, "copies_model": False}
    for keyword, args in stage.instructions:
        if keyword == "ENTRYPOINT":
            try:
                contract["entrypoint"] = json.loads(args)
            except ValueError:
                contract["entrypoint"] = "shell form: " + args
        elif keyword in ("USER", "STOPSIGNAL", "HEALTHCHECK"):
            contract[keyword.lower()] = args
        elif keyword == "EXPOSE":
            contract["expose"] = sorted(contract["expose"] + args.split())
        elif keyword == "ENV":
            contract["env"].update({k: v for k, v in parse_env(args).items()
                                    if k.startswith("SECUREBERT_")})
        elif keyword == "COPY" and re.fullmatch(r"--from=model\s+\S+\s+/models/?", args):
            contract["copies_model"] = True
    return contract


def contract_problems(contract: Dict[str, object], where: str) -> List[str]:
    """Properties each server stage must have on its own."""
    problems = []
    entrypoint = contract.get("entrypoint")
    if entrypoint != ["/usr/local/bin/securebert-server"]:
        problems.append(f"{where}: ENTRYPOINT {entrypoint!r} is not the exec form of "
                        "/usr/local/bin/securebert-server")
    user = str(contract.get("user", ""))
    if not re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user):
        problems.append(f"{where}: USER {user!r} is not a numeric non-root UID:GID")
    model_dir = contract["env"].get("SECUREBERT_MODEL_DIR", "")
    if not model_dir.startswith("/models/") or not contract["copies_model"]:
        problems.append(f"{where}: the model is not at /models (SECUREBERT_MODEL_DIR="
                        f"{model_dir!r}, model stage copied: {contract['copies_model']})")
    listen_port = contract["env"].get("SECUREBERT_LISTEN", "").rpartition(":")[2]
    if listen_port not in contract["expose"]:
        problems.append(f"{where}: SECUREBERT_LISTEN's port {listen_port!r} is not EXPOSEd")
    if "securebert-client health" not in str(contract.get("healthcheck", "")):
        problems.append(f"{where}: HEALTHCHECK does not run `securebert-client health`")
    return problems


def compare_contracts(cpu: Dict[str, object], cuda: Dict[str, object]) -> List[str]:
    """Every field of the CPU server stage that the CUDA one states differently."""
    return [f"Dockerfile.cuda: {key} is {cuda.get(key)!r}, the CPU image's is {cpu.get(key)!r}"
            for key in sorted(set(cpu) | set(cuda)) if cpu.get(key) != cuda.get(key)]


def compare_shared_stages(cpu: List[Stage], cuda: List[Stage]) -> List[str]:
    """The build and model stages must be identical in both Dockerfiles."""
    by_name = [{s.name: s for s in stages} for stages in (cpu, cuda)]
    problems = []
    for name in SHARED_STAGES:
        a, b = by_name[0].get(name), by_name[1].get(name)
        if a is None or b is None:
            problems.append(f"stage {name!r} missing (CPU: {a is not None}, CUDA: {b is not None})")
        elif a != b:
            diff = next((f"{x.keyword} {x.args!r} / {y.keyword} {y.args!r}"
                         for x, y in zip(a.instructions, b.instructions) if x != y),
                        "a different number of instructions")
            problems.append(f"stage {name!r} differs between the Dockerfiles: {diff}")
    return problems


def dockerignore_problems(text: str) -> List[str]:
    """Root directories in MUST_IGNORE that no .dockerignore pattern excludes."""
    patterns = [line.strip().strip("/") for line in text.splitlines()
                if line.strip() and not line.startswith(("#", "!"))]
    return [f".dockerignore does not exclude {name}/" for name in MUST_IGNORE
            if not any(fnmatch.fnmatchcase(name, p) for p in patterns)]


def manifest_problems(contract: Dict[str, object], deployment: dict, server_env: str) -> List[str]:
    """deploy/base must run the image as it is built (docs/deploy.md lists these)."""
    problems = []
    pod = deployment["spec"]["template"]["spec"]
    uid, _, gid = str(contract.get("user", "")).partition(":")
    security = pod.get("securityContext", {})
    if (str(security.get("runAsUser")), str(security.get("runAsGroup"))) != (uid, gid):
        problems.append(f"deploy/base runs as {security.get('runAsUser')}:"
                        f"{security.get('runAsGroup')}, the image's USER is {uid}:{gid}")
    server = next(c for c in pod["containers"] if c["name"] == "server")
    for port in server.get("ports", []):
        if str(port["containerPort"]) not in contract["expose"]:
            problems.append(f"deploy/base port {port['containerPort']} is not EXPOSEd")
    env = dict(line.split("=", 1) for line in server_env.splitlines()
               if line and not line.startswith("#"))
    if env.get("SECUREBERT_MODEL_DIR") != contract["env"].get("SECUREBERT_MODEL_DIR"):
        problems.append(f"deploy/base SECUREBERT_MODEL_DIR={env.get('SECUREBERT_MODEL_DIR')}, "
                        f"the image's is {contract['env'].get('SECUREBERT_MODEL_DIR')}")
    return problems


def compose_problems(compose: dict, cpu: List[Stage], version: str) -> List[str]:
    """docker/compose.yaml: export once into a named volume, then serve, health-gated."""
    problems = []
    services = compose.get("services", {})
    export, server, smoke = (services.get(n, {}) for n in ("export", "server", "smoke"))
    exporter = next((s for s in cpu if s.name == "exporter"), None)
    if exporter is None or export.get("build", {}).get("target") != "exporter":
        problems.append("compose: `export` is not built from docker/Dockerfile's exporter stage")
    else:
        # deploy/base runs the init container as the server's user too.
        users = [i.args for i in exporter.instructions if i.keyword == "USER"]
        server_user = runtime_contract(cpu).get("user")
        if users[-1:] != [server_user]:
            problems.append(f"exporter stage: USER {users} is not the server's {server_user}")
        entrypoint = next(json.loads(i.args) for i in exporter.instructions
                          if i.keyword == "ENTRYPOINT")
        if " ".join(entrypoint) not in " ".join(export.get("entrypoint", [])):
            problems.append(f"compose: `export` does not run the exporter's entrypoint {entrypoint}")
    for service, image in ((export, f"securebert-serve-exporter:{version}"),
                           (server, f"securebert-serve:{version}")):
        if service.get("image") != image:
            problems.append(f"compose: image {service.get('image')!r}, expected {image!r}")
    volume = next((v.split(":")[0] for v in export.get("volumes", []) if ":/models" in v), None)
    if volume not in compose.get("volumes", {}) or f"{volume}:/models:ro" not in server.get(
            "volumes", []):
        problems.append("compose: the model is not in a named volume at /models, "
                        "written by `export` and mounted read-only by `server`")
    if server.get("depends_on", {}).get("export", {}).get(
            "condition") != "service_completed_successfully":
        problems.append("compose: `server` does not wait for the export to complete")
    if smoke.get("depends_on", {}).get("server", {}).get("condition") != "service_healthy":
        problems.append("compose: nothing is gated on the server's health check")
    grace = re.fullmatch(r"(\d+)s", str(server.get("stop_grace_period", "")))
    if not grace or int(grace.group(1)) <= DRAIN_SECONDS:
        problems.append(f"compose: stop_grace_period {server.get('stop_grace_period')!r} "
                        f"is not above the drain's {DRAIN_SECONDS} s")
    return problems


def project_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(securebert-serve VERSION ([0-9.]+)", text).group(1)


def all_problems(cpu_text: str, cuda_text: str, ignore_text: str,
                 compose: Optional[dict] = None) -> List[str]:
    """Every check above, on the given texts (the self-test passes mutated ones)."""
    cpu, cuda = parse_dockerfile(cpu_text), parse_dockerfile(cuda_text)
    cpu_contract, cuda_contract = runtime_contract(cpu), runtime_contract(cuda)
    version = project_version()
    problems = contract_problems(cpu_contract, "Dockerfile")
    problems += contract_problems(cuda_contract, "Dockerfile.cuda")
    problems += compare_contracts(cpu_contract, cuda_contract)
    problems += compare_shared_stages(cpu, cuda)
    problems += dockerignore_problems(ignore_text)
    problems += manifest_problems(
        cpu_contract, yaml.safe_load((ROOT / "deploy/base/deployment.yaml").read_text()),
        (ROOT / "deploy/base/server.env").read_text())
    if compose is None:
        compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
    problems += compose_problems(compose, cpu, version)
    for label, stages in (("Dockerfile", cpu), ("Dockerfile.cuda", cuda)):
        labels = " ".join(i.args for i in stages[-1].instructions if i.keyword == "LABEL")
        if f'org.opencontainers.image.version="{version}' not in labels:
            problems.append(f"{label}: image version label is not {version} (CMakeLists.txt)")
    return problems


# (what drifts, file, text to replace, replacement): each must be reported.
MUTATIONS = [
    ("CUDA user", "cuda", "USER 10001:10001", "USER 10002:10001"),
    ("CUDA root user", "cuda", "USER 10001:10001", "USER 0:0"),
    ("CUDA port", "cuda", "EXPOSE 50051 9090", "EXPOSE 50051"),
    ("CUDA health check", "cuda", "--deadline_ms 4000", "--deadline_ms 9000"),
    ("CUDA shell-form entrypoint", "cuda", 'ENTRYPOINT ["/usr/local/bin/securebert-server"]',
     "ENTRYPOINT /usr/local/bin/securebert-server"),
    ("CUDA env default", "cuda", "SECUREBERT_METRICS_LISTEN=0.0.0.0:9090",
     "SECUREBERT_METRICS_LISTEN=0.0.0.0:9091"),
    ("CUDA model path", "cuda", "SECUREBERT_MODEL_DIR=/models/securebert",
     "SECUREBERT_MODEL_DIR=/opt/model"),
    ("CUDA build stage", "cuda", "--target securebert-server securebert-server-cuda",
     "--target securebert-server-cuda"),
    ("CPU stop signal", "cpu", "STOPSIGNAL SIGTERM", "STOPSIGNAL SIGINT"),
    ("CPU user against deploy/base", "cpu", "USER 10001:10001", "USER 10009:10009"),
    ("CPU exporter user", "cpu", "USER 10001:10001\nWORKDIR /home/securebert",
     "USER 10003:10001\nWORKDIR /home/securebert"),
    ("dockerignore venv", "ignore", "\n.venv\n", "\n"),
    ("dockerignore build trees", "ignore", "\nbuild*\n", "\nbuild\n"),
]


def mutated_compose(compose: dict) -> dict:
    """compose.yaml with a stop grace shorter than the drain."""
    drifted = json.loads(json.dumps(compose))
    drifted["services"]["server"]["stop_grace_period"] = "10s"
    return drifted


def self_test(texts: Dict[str, str], compose: dict) -> List[str]:
    """The planted drifts that went unreported (none when the checks work)."""
    missed = []
    for what, which, old, new in MUTATIONS:
        if old not in texts[which]:
            missed.append(f"{what}: {old!r} is no longer in the {which} file, update MUTATIONS")
            continue
        # The last occurrence: the server stage comes last in both Dockerfiles.
        head, _, tail = texts[which].rpartition(old)
        drifted = dict(texts, **{which: head + new + tail})
        if not all_problems(drifted["cpu"], drifted["cuda"], drifted["ignore"], compose):
            missed.append(f"{what}: not reported")
    if not all_problems(texts["cpu"], texts["cuda"], texts["ignore"], mutated_compose(compose)):
        missed.append("compose stop grace: not reported")
    return missed


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--cuda", type=Path, default=ROOT / "docker/Dockerfile.cuda",
                        help="the CUDA Dockerfile to check (default: docker/Dockerfile.cuda)")
    args = parser.parse_args(argv)
    texts = {"cpu": (ROOT / "docker/Dockerfile").read_text(), "cuda": args.cuda.read_text(),
             "ignore": (ROOT / ".dockerignore").read_text()}
    compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
    problems = all_problems(texts["cpu"], texts["cuda"], texts["ignore"], compose)
    for problem in problems:
        print(f"FAIL {problem}")
    missed = self_test(texts, compose) if not problems else []
    for miss in missed:
        print(f"FAIL self-test: {miss}")
    if problems or missed:
        return 1
    print(f"ok: Dockerfile and Dockerfile.cuda agree; deploy/base, compose.yaml and "
          f".dockerignore match; {len(MUTATIONS) + 1} planted drifts all reported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
