"""The talk: one conversation with a pupil's parents (and the pupil), from request to held.

A talk lives on its own stream `conversation-<talk_id>`: it is requested (kind, who of the school
attends, the deadline and the latest end that leaves a margin to record the decision, the family
and the invited parents), planned by the planner or a person, moved, cancelled, answered by the
parents (accepted, another time asked with their unavailable times, declined, their zienswijze),
and finally held. `sequence` is the iCalendar SEQUENCE of the invitation: 0 with the first plan,
one up on every later plan, move and cancel. Free text (reasons, the parents' messages and
zienswijze, the notes of the talk) is `PersonalText`, sealed per pupil like the trajectory's.
The status follows a small `transitions` machine declared as data and shared (as
`workflows.lifecycle`); `decide_talk(history, command, now)` is pure and refuses with a
`DomainError` carrying a stable code and a Dutch message.
"""

from workflows.conversations.decide import (
    MAX_TEXT,
    AcceptTalk,
    AskOtherTime,
    CancelTalk,
    DeclineTalk,
    EscalateTalk,
    GiveView,
    HoldTalk,
    MoveTalk,
    PlanTalk,
    RecordInvitation,
    RequestTalk,
    SendReminder,
    TalkCommand,
    decide_on_talk,
    decide_talk,
)
from workflows.conversations.events import (
    TALK_CODEC,
    TALK_EVENT_TYPES,
    TALK_EVENTS,
    InvitationKind,
    InvitationSent,
    ParentsAccepted,
    ParentsAskedOtherTime,
    ParentsDeclined,
    ParentsViewGiven,
    Period,
    ReminderSent,
    TalkCancelled,
    TalkEscalated,
    TalkHeld,
    TalkKind,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
    TalkStatus,
    talk_stream,
)
from workflows.conversations.machine import (
    TALK_DESTINATIONS,
    TALK_MACHINE,
    TALK_TRANSITIONS,
    TALK_TRIGGER_LABELS,
    TRIGGER_OF,
    fire_talk,
)
from workflows.conversations.state import (
    Talk,
    evolve,
    fold_talk,
)

__all__ = [
    "MAX_TEXT",
    "TALK_CODEC",
    "TALK_DESTINATIONS",
    "TALK_EVENTS",
    "TALK_EVENT_TYPES",
    "TALK_MACHINE",
    "TALK_TRANSITIONS",
    "TALK_TRIGGER_LABELS",
    "TRIGGER_OF",
    "AcceptTalk",
    "AskOtherTime",
    "CancelTalk",
    "DeclineTalk",
    "EscalateTalk",
    "GiveView",
    "HoldTalk",
    "InvitationKind",
    "InvitationSent",
    "MoveTalk",
    "ParentsAccepted",
    "ParentsAskedOtherTime",
    "ParentsDeclined",
    "ParentsViewGiven",
    "Period",
    "PlanTalk",
    "RecordInvitation",
    "ReminderSent",
    "RequestTalk",
    "SendReminder",
    "Talk",
    "TalkCancelled",
    "TalkCommand",
    "TalkEscalated",
    "TalkHeld",
    "TalkKind",
    "TalkMoved",
    "TalkPlanned",
    "TalkRequested",
    "TalkStatus",
    "decide_on_talk",
    "decide_talk",
    "evolve",
    "fire_talk",
    "fold_talk",
    "talk_stream",
]
