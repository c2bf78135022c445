"""deploy/k8s (Kustomize base + production overlay) against the services and settings."""

from __future__ import annotations

import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from libs.common.kafka import DEFAULT_PARTITIONS
from tests.deploy.support import (
    ALL_INTERFACES,
    DEPLOY,
    K8S_BASE,
    K8S_PRODUCTION,
    dns_name,
    is_setting,
    load_yaml_documents,
    nginx_locations,
    nginx_route,
    read_env_file,
    readme_ports,
    secret_settings,
    services,
    settings_class,
)
from tests.deploy.tools import kubectl_command

CONSUMING = {s for s in services() if (DEPLOY.parent / "services" / s / "consumers.py").exists()}


def kustomization(directory: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return loaded


@cache
def base_objects() -> tuple[dict[str, Any], ...]:
    docs: list[dict[str, Any]] = []
    for resource in kustomization(K8S_BASE)["resources"]:
        docs += load_yaml_documents(K8S_BASE / resource)
    return tuple(docs)


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in base_objects() if o["kind"] == kind}


def get(kind: str, name: str) -> dict[str, Any]:
    found = objects(kind)
    assert name in found, f"k8s base: no {kind} {name}"
    return found[name]


def pod(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"])
        if expression["operator"] == "In" and present not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and present in expression["values"]:
            return False
    return True


def test_every_yaml_file_of_the_base_is_a_resource_and_every_resource_exists() -> None:
    listed = set(kustomization(K8S_BASE)["resources"])
    on_disk = {
        str(p.relative_to(K8S_BASE))
        for p in K8S_BASE.rglob("*.yaml")
        if p.name != "kustomization.yaml"
    }
    assert listed == on_disk


def assert_hardened(workload: dict[str, Any]) -> None:
    spec = pod(workload)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec.get("automountServiceAccountToken") is False
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {"requests", "limits"} <= set(container["resources"])


def assert_ctip_configured(workload: dict[str, Any]) -> None:
    (container,) = pod(workload)["containers"]
    assert container["image"] == "ctip"
    sources = container["envFrom"]
    assert {"configMapRef": {"name": "ctip-config"}} in sources
    assert {"secretRef": {"name": "ctip-secrets"}} in sources
    for variable in container.get("env", []):
        assert is_setting(variable["name"]), variable["name"]


@pytest.mark.parametrize("service", services())
def test_every_service_has_an_api_deployment_probed_and_hardened(service: str) -> None:
    api = get("Deployment", f"{dns_name(service)}-api")
    (container,) = pod(api)["containers"]
    args = container["args"]
    assert args[:2] == ["serve", service] and "--api-only" in args
    assert args[args.index("--host") + 1] == ALL_INTERFACES
    port = settings_class(service).model_fields["http_port"].default
    assert port == readme_ports()[service]
    assert int(args[args.index("--port") + 1]) == port
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert_hardened(api)
    assert_ctip_configured(api)


@pytest.mark.parametrize("service", services())
def test_every_service_has_a_worker_deployment(service: str) -> None:
    worker = get("Deployment", f"{dns_name(service)}-worker")
    (container,) = pod(worker)["containers"]
    assert container["args"][:2] == ["worker", service]
    assert_hardened(worker)
    assert_ctip_configured(worker)


@pytest.mark.parametrize("service", services())
def test_every_service_has_a_migration_job(service: str) -> None:
    job = get("Job", f"{dns_name(service)}-migrate")
    (container,) = pod(job)["containers"]
    assert container["args"] == ["migrate", service]
    assert pod(job)["restartPolicy"] in ("Never", "OnFailure")
    assert_hardened(job)
    assert_ctip_configured(job)


@pytest.mark.parametrize("service", services())
def test_service_hpa_and_pdbs_select_the_api_and_worker_pods(service: str) -> None:
    name = dns_name(service)
    api, worker = get("Deployment", f"{name}-api"), get("Deployment", f"{name}-worker")
    for workload in (api, worker):
        assert selects(workload["spec"]["selector"], pod_labels(workload))
    svc = get("Service", f"{name}-api")
    assert selects({"matchLabels": svc["spec"]["selector"]}, pod_labels(api))
    assert not selects({"matchLabels": svc["spec"]["selector"]}, pod_labels(worker))
    port = settings_class(service).model_fields["http_port"].default
    assert svc["spec"]["ports"][0]["port"] == port
    assert svc["spec"]["ports"][0]["targetPort"] in ("http", port)
    hpa = get("HorizontalPodAutoscaler", f"{name}-api")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"{name}-api",
    }
    assert selects(get("PodDisruptionBudget", f"{name}-api")["spec"]["selector"], pod_labels(api))
    pdb = get("PodDisruptionBudget", f"{name}-worker")["spec"]["selector"]
    assert selects(pdb, pod_labels(worker))


@pytest.mark.parametrize("service", services())
def test_gateway_routes_each_service_to_its_kubernetes_service(service: str) -> None:
    locations = nginx_locations(K8S_BASE / "gateway" / "nginx.conf")
    prefixes = {f"/{service}/v1/", f"/{dns_name(service)}/v1/"} & set(locations)
    assert prefixes, f"k8s gateway: no route for {service}"
    port = settings_class(service).model_fields["http_port"].default
    for prefix in prefixes:
        route = nginx_route(prefix, locations[prefix])
        assert route == (f"{dns_name(service)}-api", port, "/v1/")


def test_k8s_gateway_has_the_routes_of_the_compose_gateway() -> None:
    def routes(path: Any) -> dict[str, tuple[str, int, str] | None]:
        return {loc: nginx_route(loc, body) for loc, body in nginx_locations(path).items()}

    assert routes(K8S_BASE / "gateway" / "nginx.conf") == routes(DEPLOY / "gateway" / "nginx.conf")


def test_gateway_config_is_generated_from_its_file_and_mounted() -> None:
    generators = kustomization(K8S_BASE)["configMapGenerator"]
    (nginx,) = [g for g in generators if g["name"] == "gateway-nginx"]
    assert nginx["files"] == ["nginx.conf=gateway/nginx.conf"]
    gateway = get("Deployment", "gateway")
    volumes = {v["name"]: v for v in pod(gateway)["volumes"]}
    assert volumes["config"]["configMap"]["name"] == "gateway-nginx"
    assert_hardened(gateway)


def test_ingress_sends_everything_to_the_gateway() -> None:
    (ingress,) = objects("Ingress").values()
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"]["name"] == "gateway"
    assert ingress["spec"]["tls"]


def test_configmap_keys_are_settings_and_hold_no_secret() -> None:
    data = get("ConfigMap", "ctip-config")["data"]
    for key in data:
        assert is_setting(key), f"ctip-config: {key} is no setting"
        assert key not in secret_settings(), f"ctip-config: {key} belongs in the Secret"
    assert data["CTIP_ENVIRONMENT"] == "production"


def test_no_secret_values_are_committed_only_referenced() -> None:
    assert not objects("Secret")
    production = kustomization(K8S_PRODUCTION)
    base = kustomization(K8S_BASE)
    assert "secretGenerator" not in production and "secretGenerator" not in base
    example = read_env_file(DEPLOY / "k8s" / "ctip-secrets.env.example")
    migration = read_env_file(DEPLOY / "k8s" / "ctip-migration-secrets.env.example")
    for key, value in (example | migration).items():
        assert is_setting(key), key
        assert "REPLACE-ME" in value, f"{key}: placeholder only"
    assert secret_settings() <= set(example) | set(migration)
    assert set(migration) == {"CTIP_MIGRATION_DATABASE_URL"}
    assert "CTIP_MIGRATION_DATABASE_URL" not in example
    assert example["CTIP_DATABASE_URL"].startswith("postgresql+asyncpg://ctip_app:")


@pytest.mark.parametrize("service", services())
def test_only_the_migration_job_reads_the_owner_roles_secret(service: str) -> None:
    """APIs and workers run as the runtime role, which cannot rewrite the audit log nor switch
    its trigger off; the owner's URL reaches the migration Job alone (issue 13, Medium 6)."""
    owner = {"secretRef": {"name": "ctip-migration-secrets"}}
    (job,) = pod(get("Job", f"{dns_name(service)}-migrate"))["containers"]
    assert owner in job["envFrom"]
    for role in ("api", "worker"):
        (container,) = pod(get("Deployment", f"{dns_name(service)}-{role}"))["containers"]
        assert owner not in container["envFrom"], role


@pytest.mark.parametrize("service", services())
def test_every_worker_exports_its_metrics_to_monitoring_only(service: str) -> None:
    """The audit chain's gauges (ctip_audit_chain_ok...) come from the worker."""
    worker = get("Deployment", f"{dns_name(service)}-worker")
    (container,) = pod(worker)["containers"]
    args = container["args"]
    port = int(args[args.index("--metrics-port") + 1])
    assert args[args.index("--metrics-host") + 1] == ALL_INTERFACES
    assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container["ports"]
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    admitting = [
        rule
        for p in network_policies().values()
        if p["spec"]["podSelector"] != {} and selects(p["spec"]["podSelector"], pod_labels(worker))
        for rule in p["spec"].get("ingress", [])
    ]
    assert admitting
    for rule in admitting:
        assert rule["ports"] == [{"protocol": "TCP", "port": "metrics"}]
        for peer in rule["from"]:
            assert peer == {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
            }


def network_policies() -> dict[str, dict[str, Any]]:
    return objects("NetworkPolicy")


def ctip_pods() -> list[dict[str, str]]:
    return [
        pod_labels(o)
        for o in base_objects()
        if o["kind"] in ("Deployment", "Job") and o["metadata"]["name"] != "gateway"
    ]


def test_network_policies_deny_by_default() -> None:
    deny = [
        p
        for p in network_policies().values()
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "a default-deny NetworkPolicy"


@pytest.mark.parametrize(("store", "port"), [("postgres", 5432), ("kafka", 9092)])
def test_every_ctip_pod_may_reach_the_data_stores_and_only_they_are_admitted(
    store: str, port: int
) -> None:
    store_labels = {"ctip.vn/datastore": store}
    egress_rules = [
        (p["spec"]["podSelector"], rule)
        for p in network_policies().values()
        for rule in p["spec"].get("egress", [])
        if any(
            selects(peer.get("podSelector", {"matchLabels": {"x": "y"}}), store_labels)
            for peer in rule.get("to", [])
        )
        and {"protocol": "TCP", "port": port} in rule.get("ports", [])
    ]
    for labels in ctip_pods():
        assert any(selects(selector, labels) for selector, _ in egress_rules), labels
    admitting = [
        p
        for p in network_policies().values()
        if selects(p["spec"]["podSelector"], store_labels)
        and "Ingress" in p["spec"]["policyTypes"]
        and p["spec"].get("ingress")
    ]
    assert admitting, f"an ingress policy on the {store} pods"
    gateway_labels = pod_labels(get("Deployment", "gateway"))
    for policy in admitting:
        for rule in policy["spec"]["ingress"]:
            assert rule.get("from"), "an ingress rule without `from` admits everyone"
            for peer in rule["from"]:
                assert not selects(peer.get("podSelector", {}), gateway_labels)
                assert "namespaceSelector" not in peer or "podSelector" in peer


def test_only_the_gateway_outreach_monitoring_and_casework_to_intake_reach_the_apis() -> None:
    """casework's API reaches intake's alone (for the files of a case's tip)."""
    api_labels = {s: pod_labels(get("Deployment", f"{dns_name(s)}-api")) for s in services()}
    policies = [
        p
        for p in network_policies().values()
        if p["spec"]["podSelector"] != {}
        and any(selects(p["spec"]["podSelector"], a) for a in api_labels.values())
    ]
    assert any(p["spec"].get("ingress") for p in policies)
    gateway = pod_labels(get("Deployment", "gateway"))
    outreach = api_labels["outreach"]
    casework = api_labels["casework"]
    worker = pod_labels(get("Deployment", "intake-worker"))
    for policy in policies:
        reached = {s for s, a in api_labels.items() if selects(policy["spec"]["podSelector"], a)}
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from")
            for peer in rule["from"]:
                if "podSelector" not in peer:
                    assert peer["namespaceSelector"]["matchLabels"]
                    continue
                assert not selects(peer["podSelector"], worker)
                if selects(peer["podSelector"], casework):
                    assert reached == {"intake"}
                else:
                    assert selects(peer["podSelector"], gateway) or selects(
                        peer["podSelector"], outreach
                    )


def test_production_overlay_sets_namespace_tag_and_worker_replicas_within_partitions() -> None:
    overlay = kustomization(K8S_PRODUCTION)
    assert "../../base" in overlay["resources"]
    assert overlay["namespace"]
    (ctip,) = [i for i in overlay["images"] if i["name"] == "ctip"]
    assert ctip["newTag"] not in ("", "latest")
    deployments = objects("Deployment")
    for entry in overlay["replicas"]:
        assert entry["name"] in deployments, entry["name"]
    counts = {e["name"]: e["count"] for e in overlay["replicas"]}
    for service in CONSUMING:
        # more consumers than partitions sit idle
        assert counts.get(f"{dns_name(service)}-worker", 1) <= DEFAULT_PARTITIONS


def kubectl_kustomize(directory: Any) -> list[dict[str, Any]]:
    command = [kubectl_command(), "kustomize", str(directory)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_kubectl_renders_the_base() -> None:
    rendered = kubectl_kustomize(K8S_BASE)
    assert {o["kind"] for o in rendered} >= {"Deployment", "Job", "NetworkPolicy", "ConfigMap"}


def test_kubectl_renders_production_in_its_namespace_with_the_tagged_image() -> None:
    rendered = kubectl_kustomize(K8S_PRODUCTION)
    overlay = kustomization(K8S_PRODUCTION)
    (ctip,) = [i for i in overlay["images"] if i["name"] == "ctip"]
    image = f"{ctip['newName']}:{ctip['newTag']}"
    for o in rendered:
        if o["kind"] != "Namespace":
            assert o["metadata"].get("namespace") == overlay["namespace"], o["metadata"]["name"]
        if o["kind"] in ("Deployment", "Job") and o["metadata"]["name"] != "gateway":
            assert o["spec"]["template"]["spec"]["containers"][0]["image"] == image


# Validated offline against the Kubernetes OpenAPI schemas that kubernetes-validate ships: no
# cluster runs here, so this is the check on paper that an apiserver would make on apply.
KUBERNETES_VERSION = "1.32.0"


@pytest.mark.parametrize("directory", [K8S_BASE, K8S_PRODUCTION], ids=["base", "production"])
def test_every_rendered_object_is_valid_against_the_kubernetes_schemas(directory: Any) -> None:
    import kubernetes_validate

    invalid = {}
    for o in kubectl_kustomize(directory):
        try:
            kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            invalid[f"{o['kind']}/{o['metadata']['name']}"] = str(exc)[:300]
    assert invalid == {}


def test_the_schema_check_catches_a_misspelt_field() -> None:
    import kubernetes_validate

    (deployment, *_) = [o for o in kubectl_kustomize(K8S_BASE) if o["kind"] == "Deployment"]
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_ingress_lets_evidence_files_through_to_the_gateway() -> None:
    (ingress,) = objects("Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "26m"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"


def test_the_ingress_passes_notification_streams_unbuffered() -> None:
    """The gateway sends each Server-Sent Event on as the API writes it; so must the Ingress."""
    (ingress,) = objects("Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    timeout = annotations.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")
    heartbeat = settings_class("notifications").model_fields["stream_heartbeat_seconds"].default
    assert heartbeat < int(timeout), "a silent stream would be cut between heartbeats"
