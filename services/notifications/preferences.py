"""How each person wants to hear: channels, quiet hours, the daily digest. One's own only; a
person who never chose has the defaults of ``domain.py``."""

from __future__ import annotations

from services.notifications import domain, repository
from services.notifications.access import Ctx
from services.notifications.models import Preference
from services.notifications.schemas import PreferencesIn, PreferencesOut, QuietHours


def _shown(stored: Preference) -> PreferencesOut:
    quiet = None
    if stored.quiet_start is not None and stored.quiet_end is not None:
        quiet = QuietHours(start=stored.quiet_start, end=stored.quiet_end)
    return PreferencesOut(
        channels=[domain.Channel(c) for c in stored.channels],
        quiet_hours=quiet,
        email_digest=stored.email_digest,
        updated_at=stored.updated_at,
    )


async def get_preferences(ctx: Ctx) -> PreferencesOut:
    stored = await repository.preference(ctx.session, ctx.require_principal().sub)
    if stored is None:
        return PreferencesOut(
            channels=list(domain.DEFAULT_CHANNELS),
            quiet_hours=None,
            email_digest=domain.DEFAULT_EMAIL_DIGEST,
        )
    return _shown(stored)


async def put_preferences(ctx: Ctx, data: PreferencesIn) -> PreferencesOut:
    """The caller's preferences replaced as a whole; the inbox stays on whatever they name."""
    quiet = data.quiet_hours
    stored = await repository.put_preference(
        ctx.session,
        {
            "recipient": ctx.require_principal().sub,
            "channels": [c.value for c in domain.with_inbox(data.channels)],
            "quiet_start": quiet.start if quiet else None,
            "quiet_end": quiet.end if quiet else None,
            "email_digest": data.email_digest,
            "updated_at": ctx.now,
        },
    )
    return _shown(stored)
