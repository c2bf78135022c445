"""deploy/observability/: the alerting rules pass promtool's checks and their own unit tests, and
the rules, the dashboard and the scrape config name only metrics the code exports and every
service compose runs (a renamed metric would otherwise leave an alert that can never fire)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import DEPLOY, ROOT, dns_name, services

OBSERVABILITY = DEPLOY / "observability"
RULES = OBSERVABILITY / "rules.yml"
RULE_TESTS = OBSERVABILITY / "rules_test.yml"
DASHBOARD = OBSERVABILITY / "grafana" / "ctip.json"
SCRAPE = OBSERVABILITY / "prometheus.yml"
ENSURE = DEPLOY / "local" / "ensure-promtool.sh"
PROMTOOL = Path("/usr/bin/promtool")
METRIC = re.compile(r"\b(ctip_[a-z0-9_]+|up)\b")
DEFINED = re.compile(r"(?:Counter|Gauge|Histogram)\(\s*\"(ctip_[a-z0-9_]+)\"", re.S)


@cache
def promtool() -> str:
    if not PROMTOOL.exists():
        if shutil.which("apt-get") is None:
            pytest.fail(f"{PROMTOOL} is missing: install Debian's prometheus ({ENSURE})")
        done = subprocess.run([str(ENSURE)], capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"could not install promtool:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    return str(PROMTOOL)


def run(*args: str, cwd: Path = OBSERVABILITY) -> str:
    done = subprocess.run([promtool(), *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def exported() -> set[str]:
    """The metric names the code defines, as Prometheus exposes them."""
    names = {"up"}
    for path in [*(ROOT / "libs").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        for name in DEFINED.findall(path.read_text()):
            names |= {name, f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_rules_are_valid() -> None:
    assert "SUCCESS" in run("check", "rules", RULES.name)


def test_the_rules_pass_their_unit_tests() -> None:
    assert "SUCCESS" in run("test", "rules", RULE_TESTS.name)


def test_every_alert_has_a_unit_test() -> None:
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in rules()} == tested


def test_every_alert_names_a_severity_and_a_runbook_that_exists() -> None:
    for rule in rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        document, _, anchor = rule["annotations"]["runbook"].partition("#")
        headings = {
            re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", (ROOT / document).read_text(), re.M)
        }
        assert anchor in headings, (rule["alert"], document, anchor)


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_only_metrics_the_code_exports(source: str) -> None:
    exprs = [r["expr"] for r in rules()] if source == "rules" else dashboard_exprs()
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert used, source
    assert used - exported() == set()


def test_the_dashboard_shows_what_every_alert_watches() -> None:
    shown = {name for expr in dashboard_exprs() for name in METRIC.findall(expr)}
    watched = {name for rule in rules() for name in METRIC.findall(rule["expr"])}
    assert watched <= shown


def test_prometheus_scrapes_every_api_and_worker(tmp_path: Path) -> None:
    config = yaml.safe_load(SCRAPE.read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    expected = {f"{dns_name(s)}-worker:9100" for s in services()}
    assert expected <= targets
    assert len({t for t in targets if t.split(":")[0].endswith("-api")}) == len(services())
    # promtool checks the config with the rules beside it, as the container mounts them
    config["rule_files"] = [str(RULES)]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    assert "SUCCESS" in run("check", "config", "prometheus.yml", cwd=tmp_path)
