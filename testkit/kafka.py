"""Kafka as a run left it: what its consumers gave up on."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, TopicPartition


async def dead_letters(bootstrap: str, prefix: str) -> dict[str, list[str]]:
    """Every record of this run's ``.dlt`` topics, by topic: the error class of each."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.startswith(prefix) and t.endswith(".dlt")]
        parts = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        found: dict[str, list[str]] = {t: [] for t in topics}
        if not parts:
            return found
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        deadline = time.monotonic() + 30
        while any(await consumer.position(p) < end[p] for p in parts):
            if time.monotonic() > deadline:
                break
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    headers = dict(record.headers or ())
                    found[tp.topic].append(
                        headers.get("dlt-error-class", b"?").decode()
                        + ": "
                        + headers.get("dlt-error-message", b"").decode()[:200]
                    )
        return found
    finally:
        await consumer.stop()
