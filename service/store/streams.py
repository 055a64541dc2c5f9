"""Stream names: which stream a pupil's trajectory is (shared by the store's users)."""

from __future__ import annotations

from uuid import UUID


def trajectory_stream(pupil_id: UUID | str) -> str:
    return f"trajectory-{pupil_id}"
