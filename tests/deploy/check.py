"""Checks deploy/ offline, so it cannot drift from the code and the README.

* deploy/compose.yaml: every container has a health check, the NATS nodes
  run JetStream and route to each other, one service has two replicas, two
  gateways stand behind the load balancer, and deploy/nginx.conf balances
  them round robin with no affinity; secrets come from .env.example's names.
* deploy/Dockerfile: builds `pulse` with --locked, runs as a non-root user.
* Every environment variable given to pulse is a row of the README's
  configuration table, and every container runs a real `pulse` subcommand.

Run by tests/deploy/check.sh (which installs its dependencies); exits 1 with
one line per problem.
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SUBCOMMANDS = {"lists", "lean-coffee", "coaching", "tasks", "gateway", "suite"}
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


def check_compose(settings: set[str]) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
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
    check_compose(settings)
    if problems:
        print("deploy check failed:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)
    print(f"deploy check: deploy/compose.yaml agrees with the README ({len(settings)} settings)")


if __name__ == "__main__":
    main()
