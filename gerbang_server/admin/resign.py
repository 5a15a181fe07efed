"""Re-signing an area's trust list after an admin change."""

from __future__ import annotations

from typing import Any

from .. import auth, trustlists
from ..errors import ApiError


def refresh_or_note(area_id: int) -> dict[str, Any] | None:
    """Re-sign the area's trust list now, and the others it made due (trustlists.publish);
    without a signer the change waits (noted)."""
    try:
        return trustlists.summary(trustlists.publish(area_id))
    except ApiError as e:
        if e.code in ("no_signer", "no_kek"):
            auth.note(trustlist_pending=e.message)
            return None
        raise
