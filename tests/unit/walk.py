"""A pupil's trajectory walked command by command, each decided at the moment it happens."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from workflows.codec import Event
from workflows.commands import Command
from workflows.decide import decide
from workflows.policy import DEFAULT_POLICY, SchoolPolicy
from workflows.trajectory import Trajectory, fold


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(18, 0), UTC)


class Walk:
    def __init__(self, policy: SchoolPolicy = DEFAULT_POLICY) -> None:
        self.history: list[Event] = []
        self.policy = policy

    def do(self, command: Command, on: date) -> list[Event]:
        events = decide(self.history, command, end_of(on), policy=self.policy)
        self.history.extend(events)
        return events

    @property
    def state(self) -> Trajectory:
        return fold(self.history)
