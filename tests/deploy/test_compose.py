"""deploy/compose.yaml and deploy/.env.example against the services, settings and README."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from libs.common.kafka import DEFAULT_PARTITIONS
from tests.deploy.support import (
    ALL_INTERFACES,
    DEPLOY,
    compose_services,
    ctip_role,
    dns_name,
    is_setting,
    nginx_locations,
    nginx_route,
    read_env_file,
    readable_by,
    readme_ports,
    secret_settings,
    services,
    settings_class,
)
from tests.deploy.tools import compose_command

ENV_EXAMPLE = DEPLOY / ".env.example"
POSTGRES_INIT = DEPLOY / "postgres" / "10-ctip.sh"
METRICS = ["--metrics-port", "9100", "--metrics-host", ALL_INTERFACES]


def official_image(definition: dict) -> str:
    """The image of ``${CTIP_X_IMAGE:-official}``: the default that a plain install runs."""
    image = str(definition["image"])
    found = re.fullmatch(r"\$\{CTIP_\w+_IMAGE:-([^}]+)\}", image)
    assert found, f"{image}: the image is a CTIP_*_IMAGE variable with the official default"
    return found.group(1)


def containers(role: str, service: str) -> list[str]:
    return [
        name
        for name, definition in compose_services().items()
        if ctip_role(definition) == (role, service)
    ]


def one_container(role: str, service: str) -> dict:
    found = containers(role, service)
    assert len(found) == 1, f"compose: expected one `{role} {service}` container, found {found}"
    return compose_services()[found[0]]


def depends_on(definition: dict) -> dict[str, str]:
    value = definition.get("depends_on", {})
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in value.items()}


@pytest.mark.parametrize("service", services())
def test_every_service_has_a_one_shot_migration_job(service: str) -> None:
    job = one_container("migrate", service)
    assert job["command"] == ["migrate", service]
    assert job.get("restart") == "no"
    assert depends_on(job).get("postgres") == "service_healthy"


@pytest.mark.parametrize("service", services())
def test_every_service_has_an_api_without_background_work(service: str) -> None:
    api = one_container("serve", service)
    command = api["command"]
    assert "--api-only" in command
    assert command[command.index("--host") + 1] == ALL_INTERFACES


@pytest.mark.parametrize("service", services())
def test_every_service_has_a_worker(service: str) -> None:
    worker = one_container("worker", service)
    command = worker["command"]
    assert command[2:6] == METRICS, "the worker's gauges are scraped on 9100"
    assert "9100" in worker["expose"]
    extra = command[6:]
    assert extra in ([], ["--only", "relay"], ["--only", "consumers"], ["--only", "delivery"])


@pytest.mark.parametrize("role", ["serve", "worker"])
@pytest.mark.parametrize("service", services())
def test_apis_and_workers_start_after_their_migration_and_healthy_data_stores(
    service: str, role: str
) -> None:
    (migration,) = containers("migrate", service)
    needs = depends_on(one_container(role, service))
    assert needs.get(migration) == "service_completed_successfully"
    assert needs.get("postgres") == "service_healthy"
    assert needs.get("kafka") == "service_healthy"


def test_every_long_running_container_has_a_healthcheck() -> None:
    for name, definition in compose_services().items():
        if definition.get("restart") == "no":
            continue
        check = definition.get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), name


def test_ctip_containers_run_unprivileged_and_read_only() -> None:
    for name, definition in compose_services().items():
        if ctip_role(definition) is None:
            continue
        assert definition.get("user") not in (None, "0", "root"), name
        assert definition.get("read_only") is True, name
        assert "ALL" in definition.get("cap_drop", []), name


@pytest.mark.parametrize("service", services())
def test_every_environment_variable_is_a_setting_of_the_service_it_is_given_to(
    service: str,
) -> None:
    for role in ("migrate", "serve", "worker"):
        for name in containers(role, service):
            for variable in compose_services()[name].get("environment", {}):
                assert readable_by(variable, service), f"{name}: {variable} is no setting"


@pytest.mark.parametrize("service", services())
def test_only_the_migration_job_holds_the_owner_role_the_others_run_as_the_runtime_role(
    service: str,
) -> None:
    """The audit log's protection rests on it: the runtime role cannot switch the append-only
    trigger off nor rewrite a row, the owner can (issue 13, Medium 6)."""
    job = one_container("migrate", service)["environment"]
    assert job["CTIP_MIGRATION_DATABASE_URL"].startswith("postgresql+asyncpg://ctip:${DB_PASSWORD")
    for role in ("serve", "worker"):
        for name in containers(role, service):
            env = compose_services()[name]["environment"]
            assert env["CTIP_DATABASE_URL"].startswith("postgresql+asyncpg://ctip_app:"), name
            assert "CTIP_MIGRATION_DATABASE_URL" not in env, name
            assert not any("DB_PASSWORD}" in str(v) for v in env.values()), name


def test_postgres_init_makes_the_runtime_role_owning_nothing() -> None:
    script = POSTGRES_INIT.read_text()
    assert "CREATE ROLE ctip_app LOGIN NOINHERIT PASSWORD :'runtime_password';" in script
    assert "OWNER TO ctip_app" not in script


def test_secrets_are_interpolated_from_the_env_file_never_written_in_compose() -> None:
    for name, definition in compose_services().items():
        if ctip_role(definition) is None:
            continue
        for variable, value in definition.get("environment", {}).items():
            if variable in secret_settings():
                assert "${" in str(value), f"{name}: {variable} has a literal value"


def test_env_example_holds_only_settings_and_variables_compose_uses() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = read_env_file(ENV_EXAMPLE)
    for variable in example:
        assert variable in used, f".env.example: {variable} is not used by compose.yaml"
        if variable.startswith("CTIP_") and not re.fullmatch(r"CTIP_\w+_IMAGE", variable):
            assert is_setting(variable), f".env.example: {variable} is no setting"
    assert used <= set(example), f"undocumented in .env.example: {sorted(used - set(example))}"


def test_env_example_is_production_and_ships_no_usable_secret() -> None:
    from libs.common.settings import DEV_FIELD_KEY, DEV_INDEX_KEY, DEV_JWT_SECRET

    example = read_env_file(ENV_EXAMPLE)
    assert example["CTIP_ENVIRONMENT"] == "production"
    for required in ("CTIP_FIELD_KEYS", "CTIP_BLIND_INDEX_KEY", "CTIP_JWT_JWKS_URL"):
        assert required in example
    for variable in ("CTIP_FIELD_KEYS", "CTIP_BLIND_INDEX_KEY", "CTIP_JWT_SECRET"):
        assert example[variable] in ("", "REPLACE-ME", "REPLACE-ME:not-a-key"), variable
    assert not {DEV_FIELD_KEY, DEV_INDEX_KEY, DEV_JWT_SECRET} & set(example.values())
    assert example["CTIP_AUDIT_KEY"] == "REPLACE-ME"
    for password in (
        "POSTGRES_PASSWORD",
        "DB_PASSWORD",
        "DB_APP_PASSWORD",
        "KEYCLOAK_ADMIN_PASSWORD",
    ):
        assert example[password] == "", f"{password} must be chosen, not shipped"


def test_env_files_with_secrets_are_git_ignored() -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    ignored = subprocess.run(
        [git, "check-ignore", "-q", "deploy/.env"], cwd=DEPLOY.parent, check=False
    )
    assert ignored.returncode == 0, "deploy/.env must be git-ignored"


@pytest.mark.parametrize("service", services())
def test_api_ports_agree_with_settings_readme_and_gateway(service: str) -> None:
    port = settings_class(service).model_fields["http_port"].default
    assert readme_ports()[service] == port
    api = one_container("serve", service)
    command = api["command"]
    if "--port" in command:
        assert int(command[command.index("--port") + 1]) == port
    assert str(port) in [str(p) for p in api.get("expose", [])]
    (name,) = containers("serve", service)
    routes = {
        nginx_route(location, body)
        for location, body in nginx_locations(DEPLOY / "gateway" / "nginx.conf").items()
    }
    assert (name, port, "/v1/") in routes


@pytest.mark.parametrize("service", services())
def test_gateway_routes_only_each_service_v1_prefix_stripped(service: str) -> None:
    """Health, metrics and docs stay on the internal network."""
    locations = nginx_locations(DEPLOY / "gateway" / "nginx.conf")
    prefixes = {f"/{service}/v1/", f"/{dns_name(service)}/v1/"} & set(locations)
    assert prefixes, f"gateway: no route for {service}"
    (api,) = containers("serve", service)
    for prefix in prefixes:
        route = nginx_route(prefix, locations[prefix])
        assert route is not None and route[0] == api and route[2] == "/v1/", prefix
    for location, body in locations.items():
        route = nginx_route(location, body)
        if route is not None and route[0] == api:
            where = location.removeprefix("= ")
            if where == "/dashboard":
                continue
            # the prefix, or a path under it sent to the same path under /v1/ (a stream)
            under = [p for p in prefixes if where.startswith(p)]
            assert under, f"{location} reaches {api} outside its /v1/"
            assert route[2] == "/v1/" + where.removeprefix(under[0]), location


def test_gateway_serves_the_dashboard_from_outreach_with_gateway_relative_bases() -> None:
    path = DEPLOY / "gateway" / "nginx.conf"
    route = nginx_route("= /dashboard", nginx_locations(path)["= /dashboard"])
    (outreach,) = containers("serve", "outreach")
    assert route is not None and route[0] == outreach and route[2] == "/dashboard"
    config = re.search(
        r"location = /dashboard/config\.json \{.*?return 200 '(.*?)';", path.read_text(), re.S
    )
    assert config, "gateway: /dashboard/config.json"
    bases = json.loads(config.group(1))
    locations = nginx_locations(path)
    assert set(bases) == set(services())
    for base in bases.values():
        assert f"{base}/v1/" in locations, f"dashboard base {base} is not routed"


def test_gateway_publishes_the_only_host_port_of_the_ctip_containers() -> None:
    for name, definition in compose_services().items():
        if ctip_role(definition) is not None:
            assert "ports" not in definition, f"{name} is published past the gateway"
    gateway = compose_services()["gateway"]
    assert gateway["volumes"] == ["./gateway/nginx.conf:/etc/nginx/nginx.conf:ro"]


def test_postgres_16_with_the_extensions_the_services_use() -> None:
    postgres = compose_services()["postgres"]
    assert re.match(r"postgres:16\b", official_image(postgres))
    mounts = dict(v.split(":")[:2] for v in postgres["volumes"])
    assert mounts["./postgres/10-ctip.sh"].startswith("/docker-entrypoint-initdb.d/")
    assert POSTGRES_INIT.stat().st_mode & 0o005 == 0o005, "the entrypoint runs it as postgres"
    script = POSTGRES_INIT.read_text()
    for extension in ("pg_trgm", "unaccent"):
        assert f"CREATE EXTENSION IF NOT EXISTS {extension}" in script


def test_kafka_4_kraft_single_node_with_the_services_partition_count() -> None:
    kafka = compose_services()["kafka"]
    assert re.match(r"apache/kafka:4\.", official_image(kafka))
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert int(env["KAFKA_NUM_PARTITIONS"]) == DEFAULT_PARTITIONS
    for definition in compose_services().values():
        if ctip_role(definition):
            assert definition["environment"]["CTIP_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_keycloak_is_an_optional_profile_with_the_realm_export() -> None:
    keycloak = compose_services()["keycloak"]
    assert keycloak["profiles"] == ["keycloak"]
    assert "--import-realm" in keycloak["command"]
    mounts = [v.split(":")[0] for v in keycloak["volumes"]]
    assert "./keycloak/ctip-realm.json" in mounts
    assert (DEPLOY / "keycloak" / "ctip-realm.json").is_file()
    for definition in compose_services().values():
        assert "keycloak" not in depends_on(definition), "the profile must stay optional"


def test_docker_compose_accepts_the_file() -> None:
    candidate = compose_command()
    # Every value the file demands (``${NAME:?...}``) and the example leaves empty gets one.
    demanded = re.findall(r"\$\{(\w+):\?", (DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    example = read_env_file(ENV_EXAMPLE)
    env = {**{name: "01" for name in demanded}, **{k: v for k, v in example.items() if v}}
    result = subprocess.run(
        [*candidate, "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_readme_ports_agree_with_the_design_when_it_is_checked_out_beside() -> None:
    design = DEPLOY.parent.parent / "shared" / "DESIGN.md"
    if not design.is_file():
        pytest.skip(f"{design} is not present")
    line = next(
        line for line in design.read_text(encoding="utf-8").splitlines() if "Default ports" in line
    )
    paragraph = design.read_text(encoding="utf-8").split(line, 1)[1].split("\n\n", 1)[0]
    found = dict(re.findall(r"(\w+) (\d{4})", line + paragraph))
    for service, port in readme_ports().items():
        assert int(found[service]) == port, service
