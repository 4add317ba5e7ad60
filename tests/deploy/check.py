"""Checks deploy/ offline, so it cannot drift from the code and the README.

* deploy/k8s: renders the kustomize base with `kubectl kustomize`, validates
  every object against the Kubernetes schemas (kubernetes-validate, strict),
  and checks what the base promises: a Deployment with probes and resource
  requests per service and the gateway, the gateway's autoscaler and
  disruption budget, no session affinity.
* deploy/compose.yaml: valid against the Compose Specification (the
  compose-spec package, a binding of the Rust compose_spec crate: there is no
  Docker engine or compose plugin here); every container has a health check, the NATS nodes
  run JetStream and route to each other, one service has two replicas, two
  gateways stand behind the load balancer, and deploy/nginx.conf balances
  them round robin with no affinity; secrets come from .env.example's names.
* deploy/Dockerfile: builds `pulse` with --locked, runs as a non-root user.
* Both: every environment variable given to pulse is a row of the README's
  configuration table, and every container runs a real `pulse` subcommand.
* deploy/observe: prometheus.yml parses and scrapes each compose pulse
  container on the port it listens on (`PULSE_<NAME>_ADDR`), every pulse
  container is scraped; grafana-dashboard.json parses, and every metric its
  queries read is one the code writes (a `"pulse_…"` literal in the Rust
  sources) and the README lists; the panels cover connections, deliveries,
  push latency, outbox depth, relay lag, slow-consumer closes and errors.

Run by tests/deploy/check.sh (which installs its dependencies); exits 1 with
one line per problem.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import compose_spec
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.32.0"
SUBCOMMANDS = {"lists", "lean-coffee", "coaching", "tasks", "gateway", "suite"}
SERVICES = {"lists", "lean-coffee", "coaching", "tasks"}
KINDS = {
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
}
SECRETS = {"PULSE_JWT_SECRET", "PULSE_MASTER_KEY", "POSTGRES_PASSWORD"}

problems: list[str] = []


def problem(where: str, message: str) -> None:
    problems.append(f"{where}: {message}")


def readme_settings() -> set[str]:
    """The variables of the README's configuration table (its first column)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, re.MULTILINE))
    if not names:
        sys.exit("check: no settings found in the README's Configuration table")
    return names


def check_env_names(where: str, names, settings: set[str]) -> None:
    for name in names:
        if name not in settings:
            problem(where, f"{name} is not in the README's configuration table")


def check_kubernetes(settings: set[str]) -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "k8s")],
        capture_output=True,
        text=True,
    )
    if rendered.returncode != 0:
        problem("deploy/k8s", f"kubectl kustomize failed: {rendered.stderr.strip()}")
        return
    objects = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    by_kind: dict[str, dict[str, dict]] = {}
    for obj in objects:
        kind, name = obj.get("kind"), obj.get("metadata", {}).get("name")
        where = f"deploy/k8s {kind}/{name}"
        if (obj.get("apiVersion"), kind) not in KINDS:
            problem(where, f"unexpected apiVersion/kind {obj.get('apiVersion')}/{kind}")
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problem(where, f"not a valid {kind}: {error.message} at {list(error.path)}")
        by_kind.setdefault(kind, {})[name] = obj

    deployments = by_kind.get("Deployment", {})
    for name in sorted(SERVICES | {"gateway"}):
        if name not in deployments:
            problem("deploy/k8s", f"no Deployment {name}")
        if name not in by_kind.get("Service", {}):
            problem("deploy/k8s", f"no Service {name}")
    for name, deployment in deployments.items():
        check_pod(f"deploy/k8s Deployment/{name}", deployment, by_kind, settings)
    for name, service in by_kind.get("Service", {}).items():
        if service["spec"].get("sessionAffinity", "None") != "None":
            problem(f"deploy/k8s Service/{name}", "has session affinity")
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
        if "gateway" not in by_kind.get(kind, {}):
            problem("deploy/k8s", f"no {kind} for the gateway")
    hpa = by_kind.get("HorizontalPodAutoscaler", {}).get("gateway")
    if hpa and hpa["spec"]["scaleTargetRef"]["name"] != "gateway":
        problem("deploy/k8s HorizontalPodAutoscaler/gateway", "does not scale the gateway")


def check_pod(where: str, deployment: dict, by_kind: dict, settings: set[str]) -> None:
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        here = f"{where} container {container['name']}"
        args = container.get("args", [])
        if not args or args[0] not in SUBCOMMANDS:
            problem(here, f"runs {args}, not a pulse subcommand")
        names = [env["name"] for env in container.get("env", [])]
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["key"] not in secret_keys(by_kind, ref["name"]):
                problem(here, f"secret {ref['name']} has no key {ref['key']}")
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef")
            kind = "ConfigMap" if "configMapRef" in source else "Secret"
            referenced = by_kind.get(kind, {}).get(ref["name"])
            if referenced is None:
                problem(here, f"envFrom names a missing {kind} {ref['name']}")
                continue
            names += list(referenced.get("data", {})) + list(referenced.get("stringData", {}))
        check_env_names(here, names, settings)
        for probe in ("readinessProbe", "livenessProbe"):
            if probe not in container:
                problem(here, f"no {probe}")
        requests = container.get("resources", {}).get("requests", {})
        if not {"cpu", "memory"} <= requests.keys():
            problem(here, "no cpu and memory requests")


def secret_keys(by_kind: dict, name: str) -> set[str]:
    secret = by_kind.get("Secret", {}).get(name, {})
    return set(secret.get("data", {})) | set(secret.get("stringData", {}))


def check_compose(settings: set[str]) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    try:
        # Parsed with merge keys resolved: the binding does not resolve `<<`.
        compose_spec.PyCompose.from_json(json.dumps(compose))
    except ValueError as error:
        problem("deploy/compose.yaml", f"not a valid compose file: {error}")
    services = compose["services"]
    env_example = (DEPLOY / ".env.example").read_text()
    defined = set(re.findall(r"^([A-Z0-9_]+)=", env_example, re.MULTILINE))
    for name, service in services.items():
        where = f"deploy/compose.yaml {name}"
        if not service.get("healthcheck", {}).get("test"):
            problem(where, "no healthcheck")
        environment = service.get("environment", {})
        for key, value in environment.items():
            for variable in re.findall(r"\$\{([A-Z0-9_]+)", str(value)):
                if variable not in defined:
                    problem(where, f"${{{variable}}} is not in deploy/.env.example")
            if key in SECRETS and not str(value).startswith("${"):
                problem(where, f"{key} is written in the file, not taken from .env")
        if service.get("image", "").startswith("pulse"):
            command = service.get("command", [])
            if not command or command[0] not in SUBCOMMANDS:
                problem(where, f"runs {command}, not a pulse subcommand")
            check_env_names(where, environment, settings)

    nats = {name: s for name, s in services.items() if s.get("image", "").startswith("nats:")}
    if len(nats) != 3:
        problem("deploy/compose.yaml", f"{len(nats)} NATS nodes, not 3")
    volumes = set()
    for name, node in nats.items():
        where = f"deploy/compose.yaml {name}"
        command = " ".join(node.get("command", []))
        if "-js" not in command.split():
            problem(where, "JetStream is not enabled (-js)")
        for other in nats:
            if other != name and f"nats://{other}:6222" not in command:
                problem(where, f"has no cluster route to {other}")
        volumes.update(v.split(":")[0] for v in node.get("volumes", []))
    if len(volumes) != len(nats):
        problem("deploy/compose.yaml", "the NATS nodes do not each have a volume of their own")

    if not any(s.get("deploy", {}).get("replicas", 1) >= 2 for s in services.values()):
        problem("deploy/compose.yaml", "no service runs two replicas")
    gateways = [n for n, s in services.items() if s.get("command", [None])[0] == "gateway"]
    if len(gateways) < 2:
        problem("deploy/compose.yaml", f"{len(gateways)} gateways, not two or more")
    check_nginx(gateways)


def check_nginx(gateways: list[str]) -> None:
    where = "deploy/nginx.conf"
    text = (DEPLOY / "nginx.conf").read_text()
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for sticky in ("ip_hash", "hash ", "sticky", "least_conn", "random"):
        if sticky in code:
            problem(where, f"balances with `{sticky.strip()}`, not plain round robin")
    for gateway in gateways:
        if f"server {gateway}:8080" not in code:
            problem(where, f"does not balance over {gateway}:8080")
    for needed in ("proxy_set_header Upgrade", "proxy_buffering off", "proxy_http_version 1.1"):
        if needed not in code:
            problem(where, f"lacks `{needed}` (WebSockets and Server-Sent Events need it)")


# What the dashboard must show, by a metric each panel group reads.
DASHBOARD_NEEDS = {
    "connections": "pulse_gateway_connections",
    "deliveries": "pulse_gateway_events_delivered_total",
    "push latency": "pulse_gateway_push_latency_seconds",
    "outbox depth": "pulse_outbox_rows",
    "relay lag": "pulse_outbox_oldest_row_age_seconds",
    "slow-consumer closes": "pulse_gateway_slow_consumer_closes_total",
    "errors": "pulse_commands_total",
}


def code_metrics() -> set[str]:
    """Metric names the Rust sources write: every `"pulse_…"` string literal."""
    names: set[str] = set()
    for source in [*ROOT.glob("gateway/src/**/*.rs"), *ROOT.glob("libs/*/src/**/*.rs")]:
        names.update(re.findall(r'"(pulse_[a-z0-9_]+)', source.read_text()))
    return names


def readme_metrics() -> set[str]:
    """The metrics the README's Metrics section lists."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\* `(pulse_[a-z0-9_]+)", section, re.MULTILINE))


def check_observability(compose: dict) -> None:
    where = "deploy/observe/prometheus.yml"
    try:
        config = yaml.safe_load((DEPLOY / "observe" / "prometheus.yml").read_text())
    except yaml.YAMLError as error:
        problem(where, f"not YAML: {error}")
        return
    listening = {}
    for name, service in compose["services"].items():
        command = service.get("command", [None])
        if service.get("image", "").startswith("pulse") and command and command[0] in SUBCOMMANDS:
            variable = f"PULSE_{command[0].upper().replace('-', '_')}_ADDR"
            address = str(service.get("environment", {}).get(variable, ""))
            listening[name] = address.rsplit(":", 1)[-1]
    scraped = set()
    for job in config.get("scrape_configs", []):
        targets = [t for c in job.get("static_configs", []) for t in c.get("targets", [])]
        for sd in job.get("dns_sd_configs", []):
            targets += [f"{name}:{sd.get('port')}" for name in sd.get("names", [])]
        if not targets:
            problem(where, f"job {job.get('job_name')} has no targets")
        for target in targets:
            host, _, port = str(target).rpartition(":")
            if host not in listening:
                problem(where, f"{target} is not a pulse container of deploy/compose.yaml")
            elif listening[host] != port:
                problem(where, f"{target}: {host} listens on port {listening[host]}")
            scraped.add(host)
    for name in sorted(set(listening) - scraped):
        problem(where, f"{name} is not scraped")

    where = "deploy/observe/grafana-dashboard.json"
    try:
        dashboard = json.loads((DEPLOY / "observe" / "grafana-dashboard.json").read_text())
    except json.JSONDecodeError as error:
        problem(where, f"not JSON: {error}")
        return
    written, listed = code_metrics(), readme_metrics()
    read = set()
    for panel in dashboard.get("panels", []):
        if not panel.get("targets"):
            problem(where, f"panel {panel.get('title')!r} has no query")
        for target in panel.get("targets", []):
            for name in re.findall(r"\bpulse_[a-z0-9_]+", target.get("expr", "")):
                # A histogram's series are read by their suffixed names.
                stripped = re.sub(r"_(bucket|sum|count)$", "", name)
                base = stripped if stripped in written else name
                read.add(base)
                if base not in written:
                    problem(where, f"{name} is not a metric the code writes")
                elif base not in listed:
                    problem(where, f"{base} is not in the README's Metrics list")
    for topic, metric in DASHBOARD_NEEDS.items():
        if metric not in read:
            problem(where, f"no panel shows {topic} ({metric})")


def check_dockerfile() -> None:
    where = "deploy/Dockerfile"
    text = (DEPLOY / "Dockerfile").read_text()
    if "cargo build --release --locked -p pulse" not in text:
        problem(where, "does not build the pulse binary with --release --locked")
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    if not users or users[-1] in ("root", "0"):
        problem(where, "the runtime image does not run as a non-root user")


def main() -> None:
    settings = readme_settings()
    check_dockerfile()
    check_kubernetes(settings)
    check_compose(settings)
    check_observability(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))
    if problems:
        print("deploy check failed:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)
    print(
        f"deploy check: deploy/k8s, deploy/compose.yaml and deploy/observe agree with the code"
        f" and the README ({len(settings)} settings)"
    )


if __name__ == "__main__":
    main()
