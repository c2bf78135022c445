from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from libs.common.db import service_metadata
from libs.common.platform import ServicePlatform

SCHEMA = "victim_support"
metadata = service_metadata(SCHEMA)
platform = ServicePlatform(SCHEMA, metadata)


class Base(DeclarativeBase):
    metadata = metadata
