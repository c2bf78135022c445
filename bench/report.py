"""Figures and their presentation: percentiles, the machine a run happened on, table and JSON.

Kept apart from :mod:`bench.events` so the measuring code reads as the pipeline it measures.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
KAFKA_POM = ROOT / "deploy/local/kafka/pom.xml"


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: the value a reader can find in the raw data, no interpolation."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def latency_summary(seconds: list[float]) -> dict[str, float | int]:
    """Milliseconds, rounded to what the clock and the event loop can honestly resolve."""
    values = sorted(s * 1000 for s in seconds)
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "min_ms": round(values[0], 2),
        "mean_ms": round(sum(values) / len(values), 2),
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(values[-1], 2),
    }


def kafka_version() -> str:
    try:
        found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", KAFKA_POM.read_text())
    except OSError:
        return "unknown"
    return found.group(1) if found else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _nproc() -> int:
    try:
        out = subprocess.run(["nproc"], capture_output=True, text=True, timeout=5, check=True)  # noqa: S607
        return int(out.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return len(os.sched_getaffinity(0))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def machine_info(postgres_version: str, load_before: tuple[float, ...]) -> dict[str, Any]:
    """Load averages before and after: on a shared box, other work shows up in the figures."""
    return {
        "nproc": _nproc(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "kafka": kafka_version(),
        "postgresql": postgres_version,
        "aiokafka": _version("aiokafka"),
        "sqlalchemy": _version("sqlalchemy"),
        "asyncpg": _version("asyncpg"),
    }


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    out = [line, "  ".join("-" * w for w in widths)]
    for row in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(out)


def render(result: dict[str, Any]) -> str:
    m, p = result["machine"], result["parameters"]
    parts = [
        f"ctip event pipeline benchmark, {result['started_at']}",
        f"machine: {m['nproc']} cores ({m['cpu']}), {m['platform']}",
        f"load average (1/5/15 min) before {m['load_average_before']}, "
        f"after {m['load_average_after']}",
        f"python {m['python']}, Kafka {m['kafka']}, PostgreSQL {m['postgresql']}, "
        f"aiokafka {m['aiokafka']}, SQLAlchemy {m['sqlalchemy']}, asyncpg {m['asyncpg']}",
        "parameters: " + ", ".join(f"{k}={v}" for k, v in p.items()),
        "",
    ]
    latency = result.get("latency", {})
    if latency:
        rows = []
        for name, r in latency.items():
            s = r["summary"]
            rows.append(
                [
                    name,
                    f"{s.get('count', 0)}/{r['events']}",
                    f"{r['achieved_rate']:.1f}",
                    f"{r['process_cpu_percent']:.0f}",
                    *(
                        f"{s.get(k, float('nan')):.1f}"
                        for k in ("min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms")
                    ),
                ]
            )
        split = [
            [
                f"{name}: {stage}",
                *(f"{figures.get(k, float('nan')):.1f}" for k in ("p50_ms", "p95_ms", "p99_ms")),
            ]
            for name, r in latency.items()
            for stage, figures in r["stages"].items()
        ]
        parts += [
            "Latency: writer's commit returned -> consumer committed the offset (ms)",
            _table(
                ["relay", "measured", "rate/s", "cpu%", "min", "p50", "p95", "p99", "max"],
                rows,
            ),
            "",
            "Where the time goes (ms; acked = the relay's send was acknowledged, "
            "fetched = the record reached the consumer loop)",
            _table(["relay: stage", "p50", "p95", "p99"], split),
            "",
        ]
    thr = result.get("throughput")
    if thr:
        rows = [
            ["outbox insert (Outbox.add, 1000/txn)", *_rate(thr["insert"])],
            [f"relay (NOTIFY, batch {thr['relay']['batch_size']})", *_rate(thr["relay"])],
            ["raw AIOKafkaProducer", *_rate(thr["raw"])],
            ["inbox consumer (casework, 1 txn/poll)", *_rate(thr["consumer"])],
        ]
        if "raw_consumer" in thr:
            rows.append(["raw AIOKafkaConsumer (parse, commit/poll)", *_rate(thr["raw_consumer"])])
        parts += [
            f"Throughput: {thr['events']} events",
            _table(["stage", "seconds", "events/s"], rows),
            f"relay / raw = {thr['ratio_relay_to_raw']:.3f} "
            f"(raw is {1 / thr['ratio_relay_to_raw']:.1f}x faster)"
            if thr["ratio_relay_to_raw"]
            else "",
            f"inbox consumer / raw consumer = {thr['consumer']['ratio_to_raw']:.3f} "
            f"({thr['consumer']['records_per_poll']} records per poll)"
            if "ratio_to_raw" in thr["consumer"]
            else "",
            "",
        ]
    parts.append(f"bench took {result['duration_seconds']:.1f} s")
    return "\n".join(parts)


def _rate(stage: dict[str, Any]) -> list[str]:
    return [f"{stage['seconds']:.3f}", f"{stage['events_per_second']:.0f}"]


def write_json(result: dict[str, Any], started: datetime) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"events-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
