"""Who may use notifications: every officer role that acts (an NGO is told nothing here), each
caller only about themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.auth import Role
from libs.common.context import Context, requires
from services.notifications.settings import NotificationsSettings

Ctx = Context[NotificationsSettings]

RECIPIENTS = (
    Role.intake_officer,
    Role.investigator,
    Role.prosecutor,
    Role.court_clerk,
    Role.social_worker,
    Role.supervisor,
    Role.admin,
    Role.auditor,
)

Recipient = Annotated[Ctx, Depends(requires(*RECIPIENTS))]

Admin = Annotated[Ctx, Depends(requires(Role.admin))]
"""The channels' administration: failed deliveries and the provinces' gateways."""
