"""deploy/k8s holds manifests Kubernetes accepts and that agree with the code they run.

No cluster is needed: each object is validated against the Kubernetes API's published JSON
schemas (strict: an unknown or misspelt field fails), then cross-checked with the server: the
commands exist, every setting is one ``Settings`` knows, probes hit real routes, and the
selectors of Services, budgets, autoscalers and the Ingress find the pods they mean.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.identity.crypto import new_master_key
from core.settings import ENV_PREFIX, Settings
from server.cli import _parser
from server.factory import create_app

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # the oldest release still in its providers' support windows
ROLES = ("api", "gateway", "worker")


def _kustomization() -> dict[str, Any]:
    return dict(yaml.safe_load((K8S / "kustomization.yaml").read_text()))


def _objects() -> list[dict[str, Any]]:
    found = []
    for resource in _kustomization()["resources"]:
        found += [doc for doc in yaml.safe_load_all((K8S / resource).read_text()) if doc]
    return found


OBJECTS = _objects()


def _one(kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def _pod(role: str) -> dict[str, Any]:
    return dict(_one("Deployment", f"mydrtv-{role}")["spec"]["template"])


def _container(role: str) -> dict[str, Any]:
    (container,) = _pod(role)["spec"]["containers"]
    return dict(container)


def _route_paths() -> set[str]:
    """The server's routes; building the app connects to nothing, so placeholder URLs do."""
    offline = Settings(
        database_url="postgresql://offline@127.0.0.1:1/main",
        identity_database_url="postgresql://offline@127.0.0.1:1/identity",
        jwt_secret="offline" * 8,
        privacy_master_key=new_master_key(),
    )
    return {route.path for route in create_app(offline).routes}


def _settings_named(names: list[str], where: str) -> None:
    fields = set(Settings.__struct_fields__)
    for name in names:
        assert name.startswith(ENV_PREFIX), f"{where}: {name} is not a MYDRTV_ setting"
        assert name.removeprefix(ENV_PREFIX).lower() in fields, f"{where}: Settings has no {name}"


def _example_secrets() -> dict[str, str]:
    lines = (K8S / "secrets.example.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_every_object_is_valid_for_the_kubernetes_api(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_a_misspelt_field_would_be_caught() -> None:
    """The check above can fail: strict validation refuses a field the API does not have."""
    broken = yaml.safe_load(yaml.safe_dump(_one("Deployment", "mydrtv-api")))
    broken["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_each_role_is_a_deployment_running_a_real_command() -> None:
    commands = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for role in ROLES:
        args = _container(role)["args"]
        assert args[0] in commands, f"{role} runs {args}, which mydrtv does not know"
    assert _container("worker")["args"] == ["worker"]
    assert _one("Job", "mydrtv-migrate")["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


def test_every_setting_is_one_the_server_knows() -> None:
    config = _one("ConfigMap", "mydrtv-config")["data"]
    _settings_named(list(config), "ConfigMap")
    _settings_named(list(_example_secrets()), "secrets.example.env")
    for role in ROLES:
        _settings_named([e["name"] for e in _container(role).get("env", [])], role)


def test_config_and_secrets_come_from_the_configmap_and_the_secret() -> None:
    shipped = [o for o in OBJECTS if o["kind"] == "Secret"]
    assert not shipped, "secrets are created by the operator, not shipped"
    for role in ROLES:
        sources = _container(role)["envFrom"]
        assert {"configMapRef": {"name": "mydrtv-config"}} in sources, role
        assert {"secretRef": {"name": "mydrtv-secrets"}} in sources, role
    secrets = _example_secrets()
    needs = (
        "database_url",
        "identity_database_url",
        "redis_url",
        "graph_url",
        "storage_url",
        "jwt_secret",
        "privacy_master_key",
    )
    for needed in needs:
        assert ENV_PREFIX + needed.upper() in secrets, f"secrets.example.env lacks {needed}"
    assert "CHANGE-ME" in secrets["MYDRTV_JWT_SECRET"], "the example must not carry a usable secret"


def test_http_probes_hit_routes_the_server_has_on_the_port_it_listens_on() -> None:
    paths = _route_paths()
    port = int(_one("ConfigMap", "mydrtv-config")["data"]["MYDRTV_PORT"])
    for role in ("api", "gateway"):
        container = _container(role)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == port
        for probe in ("readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert get["path"] in paths and get["port"] == "http", (role, probe)
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"


def test_the_worker_s_probes_read_the_heartbeat_it_writes() -> None:
    container = _container("worker")
    env = {e["name"]: e["value"] for e in container["env"]}
    heartbeat = env["MYDRTV_WORKER_HEARTBEAT_FILE"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert heartbeat in " ".join(container[probe]["exec"]["command"]), probe


def test_gateways_have_time_to_say_goodbye_before_they_are_killed() -> None:
    spec = _pod("gateway")["spec"]
    pre_stop = int(_container("gateway")["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert spec["terminationGracePeriodSeconds"] >= pre_stop + 30
    strategy = _one("Deployment", "mydrtv-gateway")["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0, "a rolling update must never leave fewer gateways"


@pytest.mark.parametrize("role", ROLES)
def test_budgets_autoscalers_and_services_find_their_pods(role: str) -> None:
    name = f"mydrtv-{role}"
    labels = _pod(role)["metadata"]["labels"]
    deployment = _one("Deployment", name)
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert _one("PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = _one("HorizontalPodAutoscaler", name)["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", name)
    hpa = _one("HorizontalPodAutoscaler", name)["spec"]
    assert hpa["minReplicas"] >= 1 and hpa["maxReplicas"] > hpa["minReplicas"]
    # An autoscaler on CPU needs a CPU request to compute utilisation against.
    assert "cpu" in _container(role)["resources"]["requests"]
    if role != "worker":
        service = _one("Service", name)["spec"]
        assert service["selector"].items() <= labels.items()
        ports = {p["name"] for p in _container(role)["ports"]}
        assert {p["targetPort"] for p in service["ports"]} <= ports


def test_the_ingress_sends_websockets_to_the_gateways_and_the_rest_to_the_api() -> None:
    (rule,) = _one("Ingress", "mydrtv")["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {"/ws": "mydrtv-gateway", "/": "mydrtv-api"}
    assert "/ws" in _route_paths()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_every_object() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert len(docs) == len(OBJECTS)
    assert {doc["metadata"]["namespace"] for doc in docs} == {"mydrtv"}


def test_the_github_workflow_runs_what_ci_runs() -> None:
    """The hosted workflow mirrors .ci/run: the same entry point, on the same Python and Node."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["container"]["image"].startswith("python:3.11-")
    steps = job["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in steps)
    node = next(step for step in steps if step.get("uses", "").startswith("actions/setup-node@"))
    assert node["with"]["node-version"] == "20"
    assert job["timeout-minutes"] <= 90


@pytest.mark.parametrize("role", ROLES)
def test_prometheus_scrapes_a_port_and_path_the_pod_serves_metrics_on(role: str) -> None:
    annotations = _pod(role)["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    ports = {p["containerPort"] for p in _container(role)["ports"]}
    assert int(annotations["prometheus.io/port"]) in ports
    assert annotations["prometheus.io/path"] == "/metrics"
    assert _one("ConfigMap", "mydrtv-config")["data"]["MYDRTV_METRICS"] == "true"
    if role == "worker":  # no HTTP server: its own listener, on the annotated port
        env = {e["name"]: e["value"] for e in _container(role)["env"]}
        assert env["MYDRTV_METRICS_PORT"] == annotations["prometheus.io/port"]
    else:
        offline = Settings(
            database_url="postgresql://offline@127.0.0.1:1/main",
            identity_database_url="postgresql://offline@127.0.0.1:1/identity",
            jwt_secret="offline" * 8,
            privacy_master_key=new_master_key(),
            metrics=True,
        )
        assert "/metrics" in {route.path for route in create_app(offline).routes}
