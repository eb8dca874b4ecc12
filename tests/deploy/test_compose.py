"""docker-compose.yaml: valid against the Compose Specification and complete for MIP (no Docker engine needed)."""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from tests.deploy.conftest import ROOT, MissingVariable, interpolate, load_script

COMPOSE_FILE = ROOT / "docker-compose.yaml"
SPEC_DIR = ROOT / "deploy" / "compose-spec"
AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
}
CORE_SERVICES = {"postgres", "redis", *AIRFLOW_SERVICES}
ONE_SHOT = {"airflow-init", "airflow-cli"}
SECRETS = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY")


@pytest.fixture(scope="module")
def make_env():
    return load_script(ROOT / "deploy" / "make_env.py")


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def dotenv(make_env) -> dict[str, str]:
    return make_env.generated_values()


@pytest.fixture(scope="module")
def compose(raw, dotenv) -> dict:
    """The file as docker compose sees it with the .env that deploy/make_env.py writes."""
    return interpolate(raw, dotenv)


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def schema_errors(document: dict) -> list[str]:
    schema = json.loads((SPEC_DIR / "compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def test_the_schema_copy_names_its_source_and_licence():
    readme = (SPEC_DIR / "README.md").read_text()
    assert "compose-spec/compose-spec" in readme and "schema/compose-spec.json" in readme
    assert "Apache License 2.0" in readme
    assert "Apache License" in (SPEC_DIR / "LICENSE").read_text()
    assert json.loads((SPEC_DIR / "compose-spec.json").read_text())["title"] == "Compose Specification"


def test_file_is_valid_against_the_compose_specification(raw, compose):
    assert schema_errors(raw) == []
    assert schema_errors(compose) == []


def test_the_schema_check_catches_mistakes(raw):
    broken = copy.deepcopy(raw)
    broken["services"]["redis"]["helthcheck"] = broken["services"]["redis"].pop("healthcheck")
    broken["services"]["airflow-worker"]["depends_on"]["redis"]["condition"] = "service_ready"
    errors = schema_errors(broken)
    assert any(e.startswith("services/redis") and "helthcheck" in e for e in errors), errors
    assert any(e.startswith("services/airflow-worker/depends_on") for e in errors), errors


def test_required_variables_are_exactly_what_make_env_writes(raw, dotenv):
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE_FILE.read_text()))
    assert required and required <= set(dotenv), f"make_env.py does not write {required - set(dotenv)}"
    with pytest.raises(MissingVariable, match=r"make_env\.py"):
        interpolate(raw, {})


def test_make_env_keeps_existing_values_and_makes_a_valid_fernet_key(make_env, tmp_path):
    from cryptography.fernet import Fernet

    path = tmp_path / ".env"
    path.write_text("MIP_JWT_SECRET=kept\n")
    assert "MIP_JWT_SECRET" not in make_env.write_env(path)
    values = make_env.read_env(path)
    assert values["MIP_JWT_SECRET"] == "kept"
    Fernet(values["MIP_FERNET_KEY"].encode())  # raises on a malformed key
    assert make_env.write_env(path) == []
    assert make_env.read_env(path) == values


def test_services_of_the_official_layout_and_the_sandbox_profile(services):
    assert set(services) >= CORE_SERVICES
    for name in CORE_SERVICES:
        assert "profiles" not in services[name], f"{name} must start with a plain `docker compose up`"
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["flower"]["profiles"] == ["flower"]


def test_long_running_services_have_health_checks(services):
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
            assert service.get("restart") == "always", name
    checks = {name: " ".join(s["healthcheck"]["test"]) for name, s in services.items() if "healthcheck" in s}
    assert "http://localhost:8080/api/v2/version" in checks["airflow-apiserver"]
    assert "http://localhost:8974/health" in checks["airflow-scheduler"]
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "inspect ping" in checks["airflow-worker"]
    assert "--job-type DagProcessorJob" in checks["airflow-dag-processor"]
    assert "--job-type TriggererJob" in checks["airflow-triggerer"]
    assert "pg_isready" in checks["postgres"] and "ping" in checks["redis"]


def test_dependencies_wait_for_health_or_completion(services):
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has no health check"
            if rule["condition"] == "service_completed_successfully":
                assert target in ONE_SHOT and "restart" not in services[target], (name, target)
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_workers_scale_with_docker_compose_scale(services):
    worker = services["airflow-worker"]
    assert worker["command"] == "celery worker"
    for fixed in ("container_name", "ports", "hostname"):
        assert fixed not in worker, f"airflow-worker sets {fixed}: --scale would clash"
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"  # warm shutdown of Celery


def test_airflow_services_share_one_image_configuration_and_secrets(services):
    first = services["airflow-apiserver"]
    image = first["image"]
    for name in AIRFLOW_SERVICES:
        service, env = services[name], services[name]["environment"]
        assert service["image"] == image and service["build"] == ".", name
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        for key in SECRETS:
            assert env[key] and env[key] == first["environment"][key], f"{name}: {key} differs or is empty"
    assert services["sandbox"]["image"] == image


def test_airflow_reaches_postgres_redis_and_the_execution_api(services):
    env = services["airflow-worker"]["environment"]
    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert (metadata.hostname, metadata.path) == ("postgres", "/airflow")
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "airflow"
    assert metadata.username == services["postgres"]["environment"]["POSTGRES_USER"]
    assert urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"]).hostname == "postgres"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    execution = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert execution.hostname == "airflow-apiserver" and execution.path == "/execution/"
    assert f"{execution.port}:{execution.port}" in services["airflow-apiserver"]["ports"]


def test_dags_plugins_and_include_are_mounted(compose, services):
    for name in AIRFLOW_SERVICES:
        mounts = dict(v.rsplit(":", 1)[::-1] for v in services[name]["volumes"])
        for folder in ("dags", "plugins", "include"):
            source = mounts[f"/opt/airflow/{folder}"]
            assert source == f"./{folder}", (name, folder, source)
        assert mounts["/opt/airflow/logs"] in compose["volumes"], name
    assert (ROOT / "dags").is_dir() and (ROOT / "include" / "mip").is_dir()
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], f"named volume {source} is not declared"


def test_mip_database_and_connections_come_from_the_environment(services):
    from mip.config import load_topology

    env = services["airflow-worker"]["environment"]
    mip = urlsplit(env["AIRFLOW_CONN_MIP_POSTGRES"])
    assert (mip.scheme, mip.hostname, mip.path) == ("postgresql", "postgres", "/mip")
    assert env["MIP_DATABASE_URL"] == env["AIRFLOW_CONN_MIP_POSTGRES"]
    assert env["MIP_CHANNELS_FILE"] == "/opt/airflow/include/channels.yaml"
    assert {"path": "deploy/accounts.env", "required": False} in services["airflow-worker"]["env_file"]
    assert "accounts.env" in (ROOT / "deploy" / ".gitignore").read_text().split()
    example = (ROOT / "deploy" / "accounts.env.example").read_text()
    for account in load_topology(ROOT / "include" / "channels.yaml").accounts:
        line = re.search(rf"^# (AIRFLOW_CONN_{account.connection_id.upper()})='(.*)'$", example, re.M)
        assert line, f"deploy/accounts.env.example has no connection for account {account.id}"
        connection = json.loads(line.group(2))
        assert connection["conn_type"] == "amazon_sp_api"
        assert connection["extra"]["seller_id"] == account.seller_id


def test_airflow_init_prepares_airflow_and_mip(services):
    init = services["airflow-init"]
    script = init["command"][-1]
    assert init["user"] == "0:0" and init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert "/entrypoint airflow version" in script  # runs the metadata migration first
    assert "/entrypoint python /opt/airflow/deploy/mip_init.py" in script
    assert (ROOT / "deploy" / "mip_init.py").exists()
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    sandbox_url = urlsplit(init["environment"]["MIP_SANDBOX_URL"])
    assert sandbox_url.hostname == "sandbox"
    assert init["depends_on"]["sandbox"] == {"condition": "service_healthy", "required": False}
    assert str(sandbox_url.port) in services["sandbox"]["command"]


def test_sandbox_service_runs_the_sandbox_module(services):
    sandbox = services["sandbox"]
    command = sandbox["command"]
    assert command[:3] == ["python", "-m", "sandbox.spapi"]
    port = command[command.index("--port") + 1]
    state = command[command.index("--state") + 1]
    assert any(v.endswith(f":{state}") for v in sandbox["volumes"]), "the sandbox state must outlive the container"
    assert f"http://localhost:{port}/_sandbox/health" in sandbox["healthcheck"]["test"]
    assert (ROOT / "sandbox").is_dir()


def test_the_sandbox_accepts_the_compose_command_line(services):
    from sandbox.spapi.server import parse_args

    command = services["sandbox"]["command"]
    settings = parse_args(command[3:])  # exits on an unknown option
    assert settings.port == int(command[command.index("--port") + 1])
    assert settings.host == "0.0.0.0", "in a container the sandbox must listen beyond loopback"


def test_no_pip_install_at_container_start(services):
    for name, service in services.items():
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in service.get("environment", {}), name
        assert "pip install" not in json.dumps(service.get("command", "")), name


def test_multi_machine_overrides_are_valid_and_fit_the_main_file(services, dotenv):
    main = yaml.safe_load((ROOT / "deploy" / "compose.main-host.yaml").read_text())
    worker_raw = yaml.safe_load((ROOT / "deploy" / "compose.worker-host.yaml").read_text())
    with pytest.raises(MissingVariable, match="MIP_WORKER_HOSTNAME"):
        interpolate(worker_raw, dotenv)
    worker = interpolate(worker_raw, {**dotenv, "MIP_WORKER_HOSTNAME": "worker-2.example.internal"})
    assert schema_errors(main) == [] and schema_errors(worker_raw) == [] and schema_errors(worker) == []
    assert set(main["services"]) <= set(services) and set(worker["services"]) == {"airflow-worker"}
    # workers on other machines reach what the main machine publishes
    env = services["airflow-worker"]["environment"]
    assert f"{urlsplit(env['AIRFLOW__CELERY__BROKER_URL']).port}:6379" in main["services"]["redis"]["ports"]
    assert f"{urlsplit(env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']).port}:5432" in main["services"]["postgres"]["ports"]
    # the api-server fetches task logs from the worker's host name, on the worker log server port
    assert worker["services"]["airflow-worker"]["hostname"] == "worker-2.example.internal"
    assert worker["services"]["airflow-worker"]["ports"] == ["8793:8793"]
    for variable in ("MIP_DB_HOST", "MIP_REDIS_HOST", "MIP_API_HOST"):
        assert variable in COMPOSE_FILE.read_text(), f"{variable} does not move a host to another machine"
