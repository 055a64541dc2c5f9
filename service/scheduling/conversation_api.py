"""The heroverweging conversation's API routes run through the pupil's talk.

`run_conversation` is what the routes of `service.advice.reconsideration_api` (and through them
the pupil page's forms gesprek-plannen, -verzetten, -afzeggen, -gevoerd, -afgezien) call instead
of the plain command handler: `Talks.conversation` checks a time the way the planner plans
(double booking, after the deadline, a weekend or night, outside published availability → a 422
problem with the Dutch reasons, nothing stored) and records the talk and the trajectory's own
event in one unit of work. The answer keeps its shape: the trajectory's new version (the ETag)
and the event types it recorded; If-Match and Idempotency-Key work as for every command. When
the school gives separated parents a talk each, a plan plans one parent's talk at the time given
and the planner the others; held or declined settles one parent's talk at a time, and the
trajectory records the outcome (its event in the answer) only with the last one.
"""

from __future__ import annotations

from service.advice.routing import CommandAccepted, PupilCommand
from service.shared.context import fingerprint
from workflows.commands import Command


def run_conversation(command: PupilCommand, conversation: Command) -> CommandAccepted:
    key = command.idempotency_key
    result = command.container.talks.conversation(
        str(command.pupil_id),
        conversation,
        command.context,
        expected_version=command.expected_version,
        idempotency_key=key,
        fingerprint=fingerprint(command.pupil_id, conversation) if key else "",
    )
    command.response.headers["ETag"] = f'"{result.stream_version}"'
    command.response.headers["Location"] = f"/api/v1/pupils/{command.pupil_id}/trajectory"
    return CommandAccepted(
        pupil_id=command.pupil_id,
        stream_version=result.stream_version,
        event_types=result.event_types,
    )
