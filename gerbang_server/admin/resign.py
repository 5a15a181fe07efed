"""Re-signing an area's trust list after an admin change."""

from __future__ import annotations

from typing import Any

from .. import auth, trustlists
from ..errors import ApiError


def refresh_or_note(area_id: int, keys_changed: bool = False) -> dict[str, Any] | None:
    """Re-sign the area's trust list now (after a key change every area's:
    trustlists.refresh_after_key_change); without a signer the change waits (noted)."""
    try:
        if keys_changed:
            return trustlists.summary(trustlists.refresh_after_key_change(area_id))
        return trustlists.summary(trustlists.refresh(area_id))
    except ApiError as e:
        if e.code in ("no_signer", "no_kek"):
            auth.note(trustlist_pending=e.message)
            return None
        raise

