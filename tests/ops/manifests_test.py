#!/usr/bin/env python3
"""Checks the deployment manifests against what the runbook's commands rely on.

Every YAML file under deploy/ must parse. The Kubernetes objects of
deploy/k8s/base (and of each overlay, rendered with `kubectl kustomize` when
kubectl is installed) must carry the names, labels, namespace, probes,
resources and security settings that the runbook and the scripts use; the
docker-compose file and the Dockerfiles must have every service, multi-stage
Debian 12 builds and non-root users. Prints PASS/FAIL lines; exit 1 on failure.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:  # python3-yaml (scripts/install-deps.sh)
    print("FAIL: PyYAML is not installed (Debian package python3-yaml)")
    sys.exit(1)

from ops_check import check, summary  # noqa: E402 (after the PyYAML check)

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SERVICES = {"auth": 8081, "messaging": 8082, "payment": 8083, "notification": 8084}
# The runbook's configmap-performance.yml, verbatim.
PERFORMANCE_CONFIG = {
    "db_max_open_conns": "50", "db_max_idle_conns": "10", "db_conn_max_lifetime": "5m",
    "redis_pool_size": "50", "redis_min_idle_conns": "10", "redis_dial_timeout": "5s",
    "redis_read_timeout": "3s", "redis_write_timeout": "3s", "http_client_timeout": "30s",
    "http_client_max_idle_conns": "100", "http_client_max_conns_per_host": "10",
}

def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# --- Every YAML file under deploy/ parses.
yaml_files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))
parse_errors = []
for p in yaml_files:
    try:
        load_all(p)
    except yaml.YAMLError as e:
        parse_errors.append(f"{p.relative_to(ROOT)}: {e}")
check(not parse_errors and len(yaml_files) > 10,
      f"{len(yaml_files)} YAML files under deploy/ parse" + "".join("\n  " + e for e in parse_errors))


# --- Kustomizations reference files that exist.
def kustomize_resources(directory):
    """The objects of a kustomization without kubectl: its resources, recursively
    (only plain resource lists; overlays need kubectl)."""
    k = load_all(directory / "kustomization.yaml")[0]
    objects = []
    for r in k.get("resources", []):
        target = directory / r
        if target.is_dir():
            objects += kustomize_resources(target)
        else:
            objects += load_all(target)
    return objects


kustomization_dirs = sorted(p.parent for p in K8S.rglob("kustomization.yaml"))
for d in kustomization_dirs:
    k = load_all(d / "kustomization.yaml")[0]
    missing = [r for r in k.get("resources", []) if not (d / r).exists()]
    check(not missing, f"{d.relative_to(ROOT)}: every resource exists {missing or ''}")

renderings = {"base (files)": kustomize_resources(K8S / "base")}
kubectl = shutil.which("kubectl")
if kubectl:
    for d in kustomization_dirs:
        name = str(d.relative_to(K8S))
        r = subprocess.run([kubectl, "kustomize", str(d)], capture_output=True, text=True)
        if check(r.returncode == 0, f"kubectl kustomize {name}" + (": " + r.stderr.strip() if r.returncode else "")):
            renderings[name] = [o for o in yaml.safe_load_all(r.stdout) if o]
else:
    print("NOTE: kubectl not installed: overlays not rendered, base checked from its files")

secrets_doc = load_all(K8S / "secrets.example.yaml")
secret_keys = {s["metadata"]["name"]: set(s.get("stringData", {})) for s in secrets_doc}


def objects_of(objs, kind):
    return {o["metadata"]["name"]: o for o in objs if o.get("kind") == kind}


def containers(pod_spec):
    return pod_spec.get("initContainers", []) + pod_spec.get("containers", [])


ERROR_PAGES = "tchat-error-pages"
# The controller's own errors that error-pages.yaml answers, with the API's codes.
ERROR_CODES = {404: "not_found", 413: "payload_too_large", 502: "unavailable", 503: "unavailable",
               504: "unavailable"}


def error_page_answers(conf):
    """{status: body} of the `return` lines of the error backend's nginx.conf, and
    the X-Code each is chosen by (None: the default answer)."""
    answers = {}
    for m in re.finditer(r'(?:if \(\$http_x_code = "(\d+)"\) \{\s*)?return (\d+) \'([^\']*)\';', conf):
        answers[int(m.group(2))] = (m.group(1), m.group(3).replace("\\n", ""))
    return answers


def check_error_pages(label, ingress, configmaps, deployments, services, policies):
    """The ingress controller's own errors are JSON (issue 17): 404 for a path no
    route serves (catch-all path), 413/502/503/504 through custom-http-errors."""
    ann = ingress["metadata"].get("annotations", {})
    intercepted = {int(c) for c in str(ann.get("nginx.ingress.kubernetes.io/custom-http-errors", "")).split(",")
                   if c.strip().isdigit()}
    check(intercepted == set(ERROR_CODES) - {404}
          and ann.get("nginx.ingress.kubernetes.io/default-backend") == ERROR_PAGES,
          f"[{label}] Ingress: custom-http-errors 413,502,503,504 go to {ERROR_PAGES} ({sorted(intercepted)})")
    catch_all = [p for r in ingress["spec"]["rules"] for p in r["http"]["paths"] if p["path"] == "/"]
    check(len(catch_all) == 1 and catch_all[0]["pathType"] == "Prefix"
          and catch_all[0]["backend"]["service"]["name"] == ERROR_PAGES,
          f"[{label}] Ingress: any other path (/) goes to {ERROR_PAGES}")
    conf = configmaps.get(ERROR_PAGES, {}).get("data", {}).get("nginx.conf", "")
    answers = error_page_answers(conf)
    bad = []
    for status, code in ERROR_CODES.items():
        x_code, body = answers.get(status, (None, ""))
        try:
            err = json.loads(body)["error"]
            ok = err["code"] == code and bool(err["message"])
        except (ValueError, KeyError, TypeError):
            ok = False
        # 404 is the answer without an X-Code; every other status answers its own X-Code.
        ok = ok and x_code == (None if status == 404 else str(status))
        if not ok:
            bad.append(status)
    check(conf and not bad and "default_type application/json;" in conf and "listen 8080;" in conf,
          f"[{label}] {ERROR_PAGES}: JSON error bodies for {sorted(ERROR_CODES)} {bad or ''}")
    d = deployments.get(ERROR_PAGES, {}).get("spec", {})
    tpl = d.get("template", {})
    c = (tpl.get("spec", {}).get("containers") or [{}])[0]
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    check(d.get("selector", {}).get("matchLabels", {}).get("app") == ERROR_PAGES
          and tpl.get("metadata", {}).get("labels", {}).get("app") == ERROR_PAGES
          and mounts.get("/etc/nginx/nginx.conf", {}).get("subPath") == "nginx.conf"
          and c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/healthz"
          and c.get("securityContext", {}).get("readOnlyRootFilesystem") is True
          and tpl.get("spec", {}).get("securityContext", {}).get("runAsNonRoot") is True,
          f"[{label}] Deployment {ERROR_PAGES}: its nginx.conf mounted, probed, non-root, read-only")
    s = services.get(ERROR_PAGES, {}).get("spec", {})
    check(s.get("selector", {}).get("app") == ERROR_PAGES and any(p["port"] == 8080 for p in s.get("ports", [])),
          f"[{label}] Service {ERROR_PAGES}: port 8080")
    reachable = any(
        p["spec"]["podSelector"].get("matchLabels", {}).get("app") == ERROR_PAGES
        and any(f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                == "ingress-nginx" for rule in p["spec"].get("ingress", []) for f in rule.get("from", []))
        for p in policies.values())
    check(reachable, f"[{label}] NetworkPolicy: the ingress controller reaches {ERROR_PAGES}")


MEDIA_INGRESS = "tchat-ingress-media"
MEDIA_PORT = 8085


def nginx_location(conf, prefix):
    """The body of `location ^~ PREFIX { ... }` (no nested blocks), or None."""
    m = re.search(r"location \^~ " + re.escape(prefix) + r" \{([^}]*)\}", conf or "")
    return m.group(1) if m else None


def size_bytes(text):
    m = re.fullmatch(r"(\d+)([kmg]?)", str(text).strip().lower())
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2)] if m else 0


def check_media(label, ingress, configmaps, deployments, services, policies):
    """Attachments (services/messaging/README.md): uploads of 100 MiB reach the
    service unbuffered, and signed media URLs reach an nginx that serves the file
    from the media volume through an internal /_media/ location (X-Accel-Redirect)."""
    ann = (ingress or {}).get("metadata", {}).get("annotations", {})
    paths = {p["path"]: (p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
             for r in (ingress or {}).get("spec", {}).get("rules", []) for p in r["http"]["paths"]}
    check(paths == {"/v1/media": ("Prefix", "messaging-service", 8082),
                    "/media/": ("Prefix", "messaging-service", MEDIA_PORT)},
          f"[{label}] {MEDIA_INGRESS}: /v1/media to messaging 8082, /media/ to its media gateway {MEDIA_PORT}")
    check(size_bytes(ann.get("nginx.ingress.kubernetes.io/proxy-body-size", "")) >= 100 << 20
          and ann.get("nginx.ingress.kubernetes.io/proxy-request-buffering") == "off",
          f"[{label}] {MEDIA_INGRESS}: bodies up to 100 MiB, streamed (request buffering off)")
    check(ann.get("nginx.ingress.kubernetes.io/default-backend") == ERROR_PAGES,
          f"[{label}] {MEDIA_INGRESS}: the controller's errors are JSON ({ERROR_PAGES})")
    spec = deployments.get("messaging-service", {}).get("spec", {}).get("template", {}).get("spec", {})
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    service_c = (spec.get("containers") or [{}])[0]
    env = {e["name"]: e.get("value") for e in service_c.get("env", [])}
    media_dir = env.get("TCHAT_MEDIA_DIR", "")
    media_volume = next((n for n, v in volumes.items()
                         if v.get("persistentVolumeClaim", {}).get("claimName") == "messaging-media"), None)
    check(bool(media_dir) and any(m["name"] == media_volume and m["mountPath"] == media_dir
                                  for m in service_c.get("volumeMounts", [])),
          f"[{label}] messaging-service: TCHAT_MEDIA_DIR ({media_dir}) is the messaging-media volume")
    gateways = [c for c in spec.get("containers", [])[1:]
                if any(p.get("containerPort") == MEDIA_PORT for p in c.get("ports", []))]
    gw = gateways[0] if gateways else {}
    mounts = {m["mountPath"]: m for m in gw.get("volumeMounts", [])}
    conf_mount = mounts.get("/etc/nginx/nginx.conf", {})
    conf_volume = volumes.get(conf_mount.get("name"), {}).get("configMap", {}).get("name")
    conf = configmaps.get(conf_volume, {}).get("data", {}).get("nginx.conf", "")
    check(len(gateways) == 1 and mounts.get(media_dir, {}).get("name") == media_volume
          and mounts[media_dir].get("readOnly") is True,
          f"[{label}] messaging pod: one media gateway on {MEDIA_PORT} with the media volume read-only at {media_dir}")
    internal = nginx_location(conf, "/_media/") or ""
    check("internal;" in internal and f"alias {media_dir}/;" in internal and "nosniff" in internal,
          f"[{label}] media gateway: internal /_media/ serves {media_dir}/ with nosniff (X-Accel-Redirect target)")
    public = nginx_location(conf, "/media/") or ""
    check(f"listen {MEDIA_PORT};" in conf and "proxy_pass http://127.0.0.1:8082;" in public
          and "sendfile on;" in conf,
          f"[{label}] media gateway: /media/ asks the service beside it; files go out with sendfile")
    svc_ports = {p.get("port"): p.get("targetPort") for p in
                 services.get("messaging-service", {}).get("spec", {}).get("ports", [])}
    check(svc_ports.get(MEDIA_PORT) == "media", f"[{label}] Service messaging-service: port {MEDIA_PORT} (media)")
    reachable = any(
        any(p.get("port") == MEDIA_PORT for p in rule.get("ports", []))
        and any(f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                == "ingress-nginx" for f in rule.get("from", []))
        for pol in policies.values()
        if "messaging-service" in str(pol["spec"].get("podSelector"))
        for rule in pol["spec"].get("ingress", []))
    check(reachable, f"[{label}] NetworkPolicy: the ingress controller reaches the media gateway ({MEDIA_PORT})")


def check_rendering(label, objs):
    """Checks one complete set of objects (the base, or a rendered overlay)."""
    ns = [o for o in objs if o["kind"] == "Namespace"]
    check([n["metadata"]["name"] for n in ns] == ["tchat"], f"[{label}] Namespace tchat")
    wrong_ns = [f'{o["kind"]}/{o["metadata"]["name"]}' for o in objs
                if o["kind"] != "Namespace" and o["metadata"].get("namespace") != "tchat"]
    check(not wrong_ns, f"[{label}] every object is in namespace tchat {wrong_ns or ''}")

    deployments = objects_of(objs, "Deployment")
    services = objects_of(objs, "Service")
    hpas = objects_of(objs, "HorizontalPodAutoscaler")
    pdbs = objects_of(objs, "PodDisruptionBudget")
    configmaps = objects_of(objs, "ConfigMap")
    statefulsets = objects_of(objs, "StatefulSet")
    want = {f"{s}-service" for s in SERVICES} | {ERROR_PAGES}
    check(set(deployments) == want, f"[{label}] Deployments {sorted(want)}")

    for svc, port in SERVICES.items():
        name = f"{svc}-service"
        d = deployments.get(name)
        if not d:
            continue
        tpl = d["spec"]["template"]
        labels = tpl["metadata"].get("labels", {})
        selector = d["spec"]["selector"]["matchLabels"]
        check(labels.get("app") == name and "version" in labels
              and all(labels.get(k) == v for k, v in selector.items()),
              f"[{label}] {name}: pods labelled app={name} and version, selector matches")
        spec = tpl["spec"]
        c = spec["containers"][0]
        # The runbook's patches address the container by the deployment's name.
        check(c["name"] == name, f"[{label}] {name}: container named {name}")
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        check(ports.get("http") == port, f"[{label}] {name}: port {port} named http")
        live = c.get("livenessProbe", {}).get("httpGet", {})
        ready = c.get("readinessProbe", {}).get("httpGet", {})
        check(live.get("path") == "/health" and ready.get("path") == "/health/ready"
              and live.get("port") in ("http", port) and ready.get("port") in ("http", port),
              f"[{label}] {name}: liveness /health, readiness /health/ready")
        res = c.get("resources", {})
        check(all(k in res.get(t, {}) for t in ("requests", "limits") for k in ("cpu", "memory")),
              f"[{label}] {name}: cpu and memory requests and limits")
        pod_sc, sc = spec.get("securityContext", {}), c.get("securityContext", {})
        check((sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")) is True
              and (sc.get("runAsUser") or pod_sc.get("runAsUser", 0)) != 0
              and sc.get("readOnlyRootFilesystem") is True
              and sc.get("allowPrivilegeEscalation") is False and not sc.get("privileged"),
              f"[{label}] {name}: non-root, read-only root filesystem, no privilege escalation")
        env_from = {e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e}
        check(env_from == {"tchat-config", "tchat-performance-config"},
              f"[{label}] {name}: environment from tchat-config and tchat-performance-config")
        env = {e["name"]: e for e in c.get("env", [])}
        check(env.get("PORT", {}).get("value") == str(port)
              and f"/tchat_{svc}" in env.get("DATABASE_URL", {}).get("value", ""),
              f"[{label}] {name}: PORT={port}, DATABASE_URL names tchat_{svc}")
        db_url = env.get("DATABASE_URL", {}).get("value", "")
        check(db_url.startswith(f"postgresql://tchat_{svc}:$(")
              and env.get("DATABASE_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef")
              == {"name": "postgres-secret", "key": f"{svc}-password"},
              f"[{label}] {name}: connects as its own role tchat_{svc} (password {svc}-password)")
        redis_ref = env.get("REDIS_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef", {})
        check(env.get("REDIS_URL", {}).get("value", "").startswith("redis://:$(REDIS_PASSWORD)@")
              and redis_ref.get("name") == "redis-secret",
              f"[{label}] {name}: REDIS_URL carries the password of Secret redis-secret")
        refs = [(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
        unknown = [r for r in refs if r[1] not in secret_keys.get(r[0], set())]
        check(not unknown, f"[{label}] {name}: secret keys documented in secrets.example.yaml {unknown or ''}")

        s = services.get(name)
        check(s is not None and s["spec"]["selector"].get("app") == name
              and "version" in s["spec"]["selector"]
              and any(p["port"] == port for p in s["spec"]["ports"]),
              f"[{label}] Service {name}: selects app and version, port {port}")
        h = hpas.get(f"{name}-hpa")
        metrics = {m["resource"]["name"]: m["resource"]["target"].get("averageUtilization")
                   for m in (h or {}).get("spec", {}).get("metrics", [])}
        check(h is not None and h["spec"]["scaleTargetRef"]["name"] == name
              and h["spec"]["minReplicas"] == 2 and h["spec"]["maxReplicas"] == 10
              and metrics == {"cpu": 70, "memory": 80},
              f"[{label}] HPA {name}-hpa: 2-10 replicas, cpu 70%, memory 80%")
        pdb = [p for p in pdbs.values() if p["spec"]["selector"]["matchLabels"].get("app") == name]
        check(len(pdb) == 1, f"[{label}] PodDisruptionBudget for {name}")

    perf = configmaps.get("tchat-performance-config", {}).get("data")
    check(perf == PERFORMANCE_CONFIG, f"[{label}] tchat-performance-config holds the runbook's keys and values")
    check("db_max_connections" in configmaps.get("tchat-config", {}).get("data", {}),
          f"[{label}] tchat-config has db_max_connections (the runbook patches it)")

    tchat_config = configmaps.get("tchat-config", {}).get("data", {})
    proxies = str(tchat_config.get("TCHAT_TRUSTED_PROXIES", "")).replace(",", " ").split()
    check(bool(proxies) and all(re.fullmatch(r"[0-9a-f.:]+/\d+", p) for p in proxies)
          and not any(p.endswith("/0") for p in proxies),
          f"[{label}] tchat-config: TCHAT_TRUSTED_PROXIES lists the pod network's CIDRs ({proxies})")
    dev_otp = str(tchat_config.get("TCHAT_DEV_OTP", "0")) == "1"
    check(not dev_otp or str(tchat_config.get("TCHAT_DEV_OTP_ALLOW_NETWORK", "0")) == "1",
          f"[{label}] tchat-config: development OTP on pods (0.0.0.0) only with TCHAT_DEV_OTP_ALLOW_NETWORK")
    redis_c = statefulsets.get("redis", {}).get("spec", {}).get("template", {}).get("spec", {})
    redis_c = (redis_c.get("containers") or [{}])[0]
    redis_env = {e["name"]: e for e in redis_c.get("env", [])}
    check("--requirepass" in redis_c.get("args", [])
          and redis_env.get("REDISCLI_AUTH", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("name")
          == "redis-secret",
          f"[{label}] Redis requires the password of Secret redis-secret")
    init = configmaps.get("postgres-init", {}).get("data", {}).get("10-tchat.sh", "")
    check("CREATE ROLE tchat_$svc LOGIN" in init
          and "REVOKE ALL ON DATABASE tchat_$svc FROM PUBLIC" in init
          and "GRANT CONNECT, TEMPORARY ON DATABASE tchat_$svc TO tchat_$svc" in init
          and "SUPERUSER" not in init.replace("NOSUPERUSER", ""),
          f"[{label}] postgres-init: a role per service, CONNECT on its own database only")

    check({"postgres", "postgres-replica", "scylla", "redis"} <= set(statefulsets),
          f"[{label}] StatefulSets postgres, postgres-replica, scylla, redis")
    for name in ("postgres-master", "postgres-replica", "redis", "scylla"):
        check(name in services, f"[{label}] Service {name}")
    for o in list(statefulsets.values()) + list(deployments.values()):
        bad = [c["name"] for c in containers(o["spec"]["template"]["spec"])
               if not {"cpu", "memory"} <= set(c.get("resources", {}).get("limits", {}))
               or c.get("securityContext", {}).get("privileged")
               or c.get("securityContext", {}).get("allowPrivilegeEscalation") is not False]
        check(not bad, f"[{label}] {o['kind']} {o['metadata']['name']}: limits set, unprivileged {bad or ''}")

    ingresses = objects_of(objs, "Ingress")
    ok = set(ingresses) == {"tchat-ingress", MEDIA_INGRESS}
    backends = set()
    for ingress in ingresses.values():
        ing = ingress["spec"]
        tls = ing.get("tls", [])
        ok = ok and (any(t.get("secretName") == "tchat-tls" and "api.tchat.sea" in t.get("hosts", []) for t in tls)
                     and all(r.get("host") == "api.tchat.sea" for r in ing["rules"]))
        backends |= {(p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
                     for r in ing["rules"] for p in r["http"]["paths"]}
    ok = ok and backends == ({(f"{s}-service", p) for s, p in SERVICES.items()}
                             | {(ERROR_PAGES, 8080), ("messaging-service", MEDIA_PORT)})
    check(ok, f"[{label}] Ingresses tchat-ingress and {MEDIA_INGRESS}: api.tchat.sea with TLS secret "
          "tchat-tls, routes to the four services and messaging's media gateway")
    if "tchat-ingress" in ingresses:
        check_error_pages(label, ingresses["tchat-ingress"], configmaps, deployments, services,
                          objects_of(objs, "NetworkPolicy"))
    check_media(label, ingresses.get(MEDIA_INGRESS), configmaps, deployments, services,
                objects_of(objs, "NetworkPolicy"))

    policies = objects_of(objs, "NetworkPolicy")
    deny = policies.get("default-deny", {}).get("spec", {})
    check(deny.get("podSelector") == {} and set(deny.get("policyTypes", [])) == {"Ingress", "Egress"},
          f"[{label}] NetworkPolicy default-deny covers every pod, both directions")

    def egress_targets(app):
        out = set()
        for p in policies.values():
            sel = p["spec"]["podSelector"]
            applies = (sel == {} or sel.get("matchLabels", {}).get("app") == app
                       or any(app in e.get("values", []) for e in sel.get("matchExpressions", [])))
            if not applies:
                continue
            for rule in p["spec"].get("egress", []):
                for to in rule.get("to", []):
                    target = to.get("podSelector", {}).get("matchLabels", {}).get("app")
                    if target:
                        out.add(target)
        return out

    for svc in SERVICES:
        targets = egress_targets(f"{svc}-service")
        need = {"postgres", "redis"} | ({"auth-service"} if svc != "auth" else set())
        # Account deletion: auth asks payment to close the wallets first.
        need |= {"payment-service"} if svc == "auth" else set()
        need |= {"scylla"} if svc == "messaging" else set()
        check(targets == need, f"[{label}] {svc}-service may reach exactly {sorted(need)} (got {sorted(targets)})")


for label, objs in renderings.items():
    check_rendering(label, objs)

# --- docker-compose.yml
compose = load_all(DEPLOY / "docker-compose.yml")[0]["services"]
check({"auth", "messaging", "payment", "notification", "postgres", "redis", "scylla", "prometheus"}
      <= set(compose), "docker-compose.yml: the four services, PostgreSQL, Redis, ScyllaDB, Prometheus")
for svc, port in SERVICES.items():
    c = compose.get(svc, {})
    build = c.get("build", {})
    dockerfile = build.get("dockerfile", "")
    env = c.get("environment", {})
    port_var = f"TCHAT_{svc.upper()}_PORT"
    check((ROOT / dockerfile).is_file() and build.get("target") == svc
          and f"127.0.0.1:${{{port_var}:-{port}}}:{port}" in c.get("ports", [])
          and c.get("image") == f"tchat/{svc}:dev"
          and str(env.get("PORT")) == str(port) and f"/tchat_{svc}" in env.get("DATABASE_URL", ""),
          f"docker-compose.yml: {svc} builds target {svc} of {dockerfile} as tchat/{svc}:dev, "
          f"port {port} (or ${port_var}), its database")
check(any(v.endswith(":/var/lib/tchat/media") for v in compose.get("messaging", {}).get("volumes", [])),
      "docker-compose.yml: messaging keeps attachments on a volume (/var/lib/tchat/media)")
published = [p for c in compose.values() for p in c.get("ports", [])]
check(published and all(str(p).startswith("127.0.0.1:") for p in published),
      f"docker-compose.yml: every published port is on 127.0.0.1 {published}")
compose_text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
secret_names = ["POSTGRES_PASSWORD", "TCHAT_ADMIN_TOKEN", "TCHAT_PSP_WEBHOOK_SECRET", "TCHAT_OTP_PEPPER"]
defaulted = sorted({m for m in re.findall(r"\$\{(\w+):?-", compose_text) if m in secret_names})
required = {m for m in re.findall(r"\$\{(\w+):\?", compose_text)}
check(not defaulted and set(secret_names) <= required,
      f"docker-compose.yml: secrets are required (${{X:?...}}), none has a default {defaulted or ''}")
deps_ok = all(dep in compose for c in compose.values() for dep in c.get("depends_on", {}))
check(deps_ok, "docker-compose.yml: every depends_on names a service")
prom_volumes = compose.get("prometheus", {}).get("volumes", [])
check(any(v.startswith("./prometheus:") for v in prom_volumes),
      "docker-compose.yml: Prometheus mounts deploy/prometheus (config and alert rules)")
prom_cfg = load_all(DEPLOY / "prometheus" / "prometheus.yml")[0]
job = [j for j in prom_cfg["scrape_configs"] if j["job_name"] == "tchat-services"]
targets = set(job[0]["static_configs"][0]["targets"]) if job else set()
check(targets == {f"{s}:{p}" for s, p in SERVICES.items()},
      "deploy/prometheus/prometheus.yml: job tchat-services scrapes the four compose services")
k8s_prom = load_all(DEPLOY / "prometheus" / "prometheus-k8s.yml")[0]
check(any(j["job_name"] == "tchat-services" for j in k8s_prom["scrape_configs"])
      and k8s_prom["rule_files"] == ["alerts.yml"],
      "deploy/prometheus/prometheus-k8s.yml: job tchat-services with alerts.yml")

# --- deploy/docker/Dockerfile: a builder and a stage per image, all Debian 12,
# non-root (uid 10001, as the manifests), the service's port and health check.
dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text(encoding="utf-8")
stages = {}
for m in re.finditer(r"^FROM\s+(\S+)\s+AS\s+(\w+)\s*$(.*?)(?=^FROM\s|\Z)", dockerfile, re.M | re.S):
    stages[m.group(2)] = (m.group(1), m.group(3))
base_arg = re.search(r"^ARG BASE_IMAGE=(\S+)", dockerfile, re.M)
check(base_arg is not None and re.match(r"debian:(12|bookworm)", base_arg.group(1)) is not None
      and "build" in stages and stages.get("prebuilt", ("",))[0] == "scratch"
      and stages.get("binaries", ("",))[0] == "${BINARIES}"
      and all(f in ("${BASE_IMAGE}", "runtime") for n, (f, _) in stages.items() if n not in ("prebuilt", "binaries")),
      f"Dockerfile: every stage on Debian 12 (BASE_IMAGE), a builder stage or a host build's binaries "
      f"({sorted(stages)})")
# The builder compiles with the project's release flags: the build type
# scripts/build.sh gives build/ (the images built either way run alike).
host_type = re.search(r'build_dir="\$TCHAT_ROOT/build"\s+cmake_args=\(-DCMAKE_BUILD_TYPE=(\w+)',
                      (ROOT / "scripts" / "build.sh").read_text(encoding="utf-8"))
builder_types = re.findall(r"-DCMAKE_BUILD_TYPE=(\w+)", stages.get("build", ("", ""))[1])
check(host_type is not None and builder_types == [host_type.group(1)]
      and "CMAKE_CXX_FLAGS" not in stages.get("build", ("", ""))[1],
      f"Dockerfile: the builder's build type {builder_types} is scripts/build.sh's for build/ "
      f"({host_type.group(1) if host_type else None}), no flags of its own")
check(not re.search(r"^#\s*syntax=", dockerfile, re.M),
      "Dockerfile: no '# syntax=' line (the engine's own frontend: no image from Docker Hub)")
for svc, port in list(SERVICES.items()) + [("migrate", None)]:
    frm, body = stages.get(svc, ("", ""))
    users = re.findall(r"^USER\s+(\S+)", body, re.M)
    ok = frm == "runtime" and users and users[-1] == "10001:10001" and f"/out/tchat-{svc}" in body
    if port:
        ok = ok and re.search(rf"^ENV PORT={port}\b", body, re.M) and re.search(rf"^EXPOSE\s+{port}\b", body, re.M) \
            and "HEALTHCHECK" in body and f'ENTRYPOINT ["/usr/local/bin/tchat-{svc}"]' in body
    check(bool(ok), f"Dockerfile: target {svc} runs tchat-{svc} as 10001:10001"
          + (f", port {port}, HEALTHCHECK" if port else ""))

# --- The local gateway (deploy/nginx/) serves signed media URLs the same way.
gateway_conf = (DEPLOY / "nginx" / "tchat-gateway.conf.template").read_text(encoding="utf-8")
local_internal = nginx_location(gateway_conf, "/_media/") or ""
check("internal;" in local_internal and "alias @@MEDIA_DIR@@/;" in local_internal
      and "proxy_pass http://tchat_messaging;" in (nginx_location(gateway_conf, "/media/") or ""),
      "tchat-gateway.conf.template: /media/ to messaging, internal /_media/ from the media store")

sys.exit(summary())
