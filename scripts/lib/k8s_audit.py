#!/usr/bin/env python3
"""Security audit of Kubernetes objects (a YAML stream on stdin), for
scripts/security-audit.sh: the container settings the runbook's audit looks for
(privileged containers), and the ones that keep a compromised container
contained. Prints one line per finding: "FAIL ...", "WARN ..." or "OK ...";
exits 1 when there is a FAIL.
"""
import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
# Containers whose image cannot run otherwise (documented in their manifest).
ROOT_ALLOWED = {"scylla"}

objects = [o for o in yaml.safe_load_all(sys.stdin) if o]
fails = 0


def report(level, message):
    global fails
    print(f"{level} {message}")
    if level == "FAIL":
        fails += 1


for o in objects:
    kind, name = o.get("kind"), o.get("metadata", {}).get("name")
    if kind == "Secret" and (o.get("data") or o.get("stringData")):
        report("WARN", f"Secret/{name} has its values in the manifests (keep real secrets out of git)")
    if kind not in WORKLOADS:
        continue
    spec = o["spec"]["template"]["spec"]
    pod_sc = spec.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            report("FAIL", f"{kind}/{name}: {flag}")
    if spec.get("automountServiceAccountToken") is not False:
        report("WARN", f"{kind}/{name}: service account token mounted")
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        where = f"{kind}/{name} container {c['name']}"
        sc = c.get("securityContext", {})
        if sc.get("privileged"):
            report("FAIL", f"{where}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            report("FAIL", f"{where}: allowPrivilegeEscalation not false")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        if non_root is not True or user == 0:
            report("WARN" if name in ROOT_ALLOWED else "FAIL", f"{where}: may run as root")
        if sc.get("readOnlyRootFilesystem") is not True:
            report("WARN" if name in ROOT_ALLOWED else "FAIL", f"{where}: writable root filesystem")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            report("WARN" if name in ROOT_ALLOWED else "FAIL", f"{where}: capabilities not dropped")
        if not {"cpu", "memory"} <= set(c.get("resources", {}).get("limits", {})):
            report("FAIL", f"{where}: no cpu/memory limits")
        image = c.get("image", "")
        if image.endswith(":latest") or ":" not in image.split("/")[-1]:
            report("WARN", f"{where}: image {image} has no fixed tag")

workloads = sum(1 for o in objects if o.get("kind") in WORKLOADS)
policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
if not any(p["spec"].get("podSelector") == {} and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
           for p in policies):
    report("FAIL", "no default-deny NetworkPolicy")
print(f"OK {workloads} workloads and {len(policies)} network policies audited, {fails} failure(s)")
sys.exit(1 if fails else 0)
