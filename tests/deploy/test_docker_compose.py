"""docker-compose.yml, deploy/postgres-init.sql and the Dockerfile agree with each other and the code.

No Docker is needed: the files are read and cross-checked, so a renamed service, a database the
init script does not create, or a setting that ``Settings`` does not know fails here.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from core.settings import ENV_PREFIX, Settings
from server.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
INIT_SQL = ROOT / "deploy" / "postgres-init.sql"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
WEB = ROOT / "web"

APP_SERVICES = ("api", "migrate")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(compose, dict) and isinstance(compose.get("services"), dict)
    return dict(compose["services"])


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of compose's two forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(entry.partition("=")[::2] for entry in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency name -> condition, whichever of compose's two forms the service uses."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def created_databases() -> set[str]:
    """Names the init script creates; PostgreSQL folds unquoted names to lower case."""
    sql = re.sub(r"--[^\n]*", "", INIT_SQL.read_text())
    found = re.findall(r'CREATE\s+DATABASE\s+(?:"([^"]+)"|(\w+))', sql, flags=re.IGNORECASE)
    return {quoted or plain.lower() for quoted, plain in found}


def test_every_dependency_is_a_service(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dependency in depends_on(service):
            assert dependency in services, f"{name} depends on {dependency!r}, which is not a service"


def test_healthy_conditions_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    """``service_healthy`` on a service without a healthcheck would never be met."""
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            if condition == "service_healthy":
                check = services[dependency].get("healthcheck") or {}
                assert check.get("test"), f"{name} waits for {dependency} to be healthy, but it has no check"


def test_api_starts_after_migrations_and_its_backends(services: dict[str, dict[str, Any]]) -> None:
    api = depends_on(services["api"])
    assert api.get("migrate") == "service_completed_successfully"
    for backend in ("postgres", "redis", "neo4j"):
        assert api.get(backend) == "service_healthy", backend
    assert depends_on(services["migrate"]).get("postgres") == "service_healthy"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_databases_are_the_ones_the_init_script_creates(
    services: dict[str, dict[str, Any]], service: str
) -> None:
    env = environment(services[service])
    created = created_databases()
    names = []
    for variable in ("MYDRTV_DATABASE_URL", "MYDRTV_IDENTITY_DATABASE_URL"):
        url = urlsplit(env[variable])
        assert url.scheme in ("postgresql", "postgres"), variable
        assert url.hostname == "postgres" and "postgres" in services, variable
        assert url.password == environment(services["postgres"])["POSTGRES_PASSWORD"], variable
        name = url.path.lstrip("/")
        assert name in created, f"{variable} names {name!r}; the init script creates {sorted(created)}"
        names.append(name)
    assert names[0] != names[1], "personal data must live in a database of its own"


def test_both_app_services_use_the_same_databases(services: dict[str, dict[str, Any]]) -> None:
    api, migrate = (environment(services[name]) for name in APP_SERVICES)
    for variable in ("MYDRTV_DATABASE_URL", "MYDRTV_IDENTITY_DATABASE_URL"):
        assert api[variable] == migrate[variable], "migrate would prepare other databases than api uses"


def test_init_script_is_mounted(services: dict[str, dict[str, Any]]) -> None:
    mounts = [str(v).split(":") for v in services["postgres"].get("volumes", [])]
    assert any(
        (ROOT / source).resolve() == INIT_SQL and target.startswith("/docker-entrypoint-initdb.d/")
        for source, target, *_ in mounts
    ), mounts


def test_redis_url_points_at_the_redis_service(services: dict[str, dict[str, Any]]) -> None:
    url = urlsplit(environment(services["api"])["MYDRTV_REDIS_URL"])
    assert url.scheme in ("redis", "rediss")
    assert url.hostname == "redis" and "redis" in services


def test_graph_url_points_at_the_neo4j_service(services: dict[str, dict[str, Any]]) -> None:
    url = urlsplit(environment(services["api"])["MYDRTV_GRAPH_URL"])
    assert url.scheme in ("bolt", "neo4j")
    assert url.hostname == "neo4j" and "neo4j" in services
    # The server's NEO4J_AUTH is "user/password"; the URL must carry the same pair.
    assert f"{url.username}/{url.password}" == environment(services["neo4j"])["NEO4J_AUTH"]


def test_every_mydrtv_variable_is_a_setting(services: dict[str, dict[str, Any]]) -> None:
    fields = set(Settings.__struct_fields__)
    for name, service in services.items():
        for variable in environment(service):
            if variable.startswith(ENV_PREFIX):
                field = variable.removeprefix(ENV_PREFIX).lower()
                assert field in fields, f"{name} sets {variable}, but Settings has no field {field!r}"


def test_api_listens_on_every_interface_and_needs_a_jwt_secret(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["api"])
    assert env["MYDRTV_HOST"] == "0.0.0.0"
    # Taken from the caller's environment, and compose refuses to start without it.
    assert re.fullmatch(r"\$\{MYDRTV_JWT_SECRET:\?[^}]+\}", env["MYDRTV_JWT_SECRET"])
    assert re.fullmatch(r"\$\{MYDRTV_PRIVACY_MASTER_KEY:\?[^}]+\}", env["MYDRTV_PRIVACY_MASTER_KEY"])


def dockerfile_instruction(name: str) -> str:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    found = [line.split(None, 1)[1] for line in lines if line.upper().startswith(name + " ")]
    assert found, f"the Dockerfile has no {name}"
    return found[-1]  # the last one is the one that counts


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's build stages, each a list of (INSTRUCTION, arguments), continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        assert stages, f"{instruction} before the first FROM"
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def stage_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    return dict(
        word.partition("=")[::2] for name, args in stage if name == "ENV" for word in shlex.split(args)
    )


def test_the_image_carries_the_web_client_built_by_node() -> None:
    """A Node stage builds web/ from its lock file; the final image holds the build and serves it."""
    *builders, final = dockerfile_stages()
    names = {}
    for stage in builders:
        image, _, alias = stage[0][1].partition(" AS ")
        names[alias.strip().lower()] = (image.strip(), stage)
    web_stages = [name for name, (image, _) in names.items() if image.startswith("node:")]
    assert web_stages, "no stage FROM node:... builds the web client"
    image, web = names[web_stages[0]]
    assert re.fullmatch(r"node:\d+[\w.-]*", image), f"pin Node's major version, not {image!r}"
    workdir = next(args for name, args in web if name == "WORKDIR")
    steps = [(name, args) for name, args in web if name in ("COPY", "RUN")]
    copies = [args.split() for name, args in steps if name == "COPY"]
    assert copies[0][:-1] == ["web/package.json", "web/package-lock.json"], "npm ci needs the lock file"
    runs = [args for name, args in steps if name == "RUN"]
    assert runs[0].startswith("npm ci") and runs[-1] == "npm run build", runs
    assert ["web/", "./"] in copies, "the sources are copied before the build"
    assert steps.index(("RUN", runs[-1])) > steps.index(("COPY", "web/ ./"))
    package = json.loads((WEB / "package.json").read_text())
    assert "build" in package["scripts"] and (WEB / "package-lock.json").is_file()

    served = stage_env(final)["MYDRTV_WEB_DIST_DIR"]
    assert "web_dist_dir" in Settings.__struct_fields__
    copied = [args.split() for name, args in final if name == "COPY" and args.startswith("--from=")]
    assert [f"--from={web_stages[0]}", f"{workdir}/dist", served] in copied, copied


def test_the_build_context_leaves_local_builds_out() -> None:
    """Local node_modules, builds and e2e data would bloat the context and could shadow the image's own."""
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    for path in ("web/node_modules", "web/dist", "web/test-results", ".data", ".data-e2e"):
        assert path in ignored, f".dockerignore should leave {path} out"
    for needed in ("web", "web/src", "web/package-lock.json"):
        assert needed not in ignored, f"the web stage needs {needed}"


def test_dockerfile_entrypoint_is_mydrtv() -> None:
    entrypoint = dockerfile_instruction("ENTRYPOINT")
    argv = json.loads(entrypoint) if entrypoint.startswith("[") else entrypoint.split()
    assert argv == ["mydrtv"]


@pytest.mark.parametrize(
    ("service", "command"), [("api", "serve"), ("migrate", "migrate"), ("worker", "worker")]
)
def test_commands_are_mydrtv_subcommands(
    services: dict[str, dict[str, Any]], service: str, command: str
) -> None:
    """The image's entrypoint is ``mydrtv``, so a service's command is its arguments."""
    assert services[service].get("build") is not None, f"{service} must run the image built here"
    argv = services[service]["command"]
    argv = argv.split() if isinstance(argv, str) else [str(a) for a in argv]
    assert _parser().parse_args(argv).command == command


def test_the_worker_shares_the_api_s_databases_and_storage(services: dict[str, dict[str, Any]]) -> None:
    api, worker = environment(services["api"]), environment(services["worker"])
    for variable in ("MYDRTV_DATABASE_URL", "MYDRTV_STORAGE_URL", "MYDRTV_REDIS_URL"):
        assert api[variable] == worker[variable], f"{variable} differs between api and worker"
    # Transcoding runs in the worker service only; the API would otherwise take jobs too.
    assert Settings.from_env(api).media_worker is False
    assert Settings.from_env(worker).media_worker is True


def test_storage_url_points_at_minio_and_its_bucket(services: dict[str, dict[str, Any]]) -> None:
    from media.storage import open_storage
    from media.storage.s3 import S3Storage

    url = environment(services["api"])["MYDRTV_STORAGE_URL"]
    storage = open_storage(url)  # parses it as the server will
    assert isinstance(storage, S3Storage)
    parts = urlsplit(url)
    minio = environment(services["minio"])
    assert (parts.username, parts.password) == (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"])
    endpoint = urlsplit(dict(p.split("=", 1) for p in parts.query.split("&"))["endpoint_url"])
    assert endpoint.hostname == "minio" and "minio" in services
    bucket_command = " ".join(services["minio-bucket"]["command"])
    assert f"mc mb --ignore-existing media/{storage.bucket}" in bucket_command
    assert f"{minio['MINIO_ROOT_USER']} {minio['MINIO_ROOT_PASSWORD']}" in bucket_command
    for app in ("api", "worker"):
        assert depends_on(services[app]).get("minio-bucket") == "service_completed_successfully"
