"""Kafka clients configured the one way this project uses them."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from libs.common.settings import ServiceSettings

log = logging.getLogger("ctip.kafka")

DEFAULT_PARTITIONS = 3


def new_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """Idempotent, ``acks=all``: no duplicates from the producer's own retries, order per key."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"ctip-{settings.service_name}",
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=10000,
        max_batch_size=1024 * 1024,
        compression_type=None,
    )


def new_consumer(settings: ServiceSettings, topics: list[str], group_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        client_id=f"ctip-{settings.service_name}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=200,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
    )


async def ensure_topics(
    settings: ServiceSettings, topics: list[str], partitions: int = DEFAULT_PARTITIONS
) -> None:
    """Create the topics (and nothing else) if they do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", missing)
    finally:
        await admin.close()
