#!/usr/bin/env python3
"""Every image the Kubernetes overlays name is one a cluster can find.

Renders deploy/k8s/overlays/* with `kubectl kustomize` and checks each container
image (containers and initContainers of every workload): a Tchat image must be
one scripts/containers.sh builds, tchat/<target> from deploy/docker/Dockerfile,
tagged `dev` (the dev overlay, what the script tags every build) or the
project's version from CMakeLists.txt (the production overlay's release tag,
under any registry prefix); any other image must be one of the public images
listed here (the data stores and the error-pages nginx, which this project does
not build). With --docker, each Tchat image must also exist in the local engine
(/usr/bin/docker), under its local name tchat/<target>:<tag>. Prints PASS/FAIL
lines; exit 1 on failure.
"""

import pathlib
import re
import shutil
import subprocess
import sys

import yaml

from ops_check import check, summary

ROOT = pathlib.Path(__file__).resolve().parents[2]
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
# Public images the manifests use as they are (pulled from their registries).
PUBLIC = {"postgres", "redis", "scylladb/scylla", "nginxinc/nginx-unprivileged"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

def pod_spec(obj):
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def images_of(objects):
    out = []
    for o in objects:
        if o.get("kind") in WORKLOADS:
            spec = pod_spec(o)
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                out.append((f'{o["kind"]}/{o["metadata"]["name"]}', c["image"]))
    return out


def split_image(ref):
    """(repository without registry, tag) of an image reference."""
    name, _, tag = ref.rpartition(":") if ":" in ref.split("/")[-1] else (ref, "", "latest")
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts), tag


def main():
    use_docker = "--docker" in sys.argv[1:]
    version = re.search(r"project\(tchat VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text()).group(1)
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", DOCKERFILE.read_text(), re.M | re.I))
    targets -= {"build", "runtime", "prebuilt", "binaries"}
    check({"auth", "messaging", "payment", "notification", "migrate"} <= targets,
          f"deploy/docker/Dockerfile has a target per image ({sorted(targets)})")
    kubectl = shutil.which("kubectl")
    if not check(kubectl is not None, "kubectl is installed (renders the overlays)"):
        return 1
    overlays = sorted(p for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").is_file())
    check(len(overlays) >= 2, f"overlays: {[p.name for p in overlays]}")
    for overlay in overlays:
        r = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True)
        if not check(r.returncode == 0, f"kubectl kustomize {overlay.name}" + (": " + r.stderr if r.returncode else "")):
            continue
        images = images_of([o for o in yaml.safe_load_all(r.stdout) if o])
        tchat = [(w, i) for w, i in images if split_image(i)[0].startswith("tchat/")]
        check(len({split_image(i)[0] for _, i in tchat}) == 4,
              f"[{overlay.name}] the four services' images are Tchat images ({len(tchat)} references)")
        for workload, ref in images:
            repo, tag = split_image(ref)
            if repo.startswith("tchat/"):
                target = repo.split("/", 1)[1]
                ok = target in targets and tag in ("dev", version)
                check(ok, f"[{overlay.name}] {workload}: {ref} is built by scripts/containers.sh "
                          f"(tchat/{target}, tag dev or {version})")
                if ok and use_docker:
                    local = f"tchat/{target}:{tag}"
                    found = subprocess.run(["/usr/bin/docker", "image", "inspect", local],
                                           capture_output=True).returncode == 0
                    check(found, f"[{overlay.name}] {workload}: {local} exists in the local engine")
            else:
                check(repo in PUBLIC, f"[{overlay.name}] {workload}: {ref} is a known public image")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
