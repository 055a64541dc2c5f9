"""A school's settings per school year: what directie may set, how a change is checked, recorded
and read back.

The settings of one school year are a `SchoolPolicy`: whether the heroverweging conversation is
required, the school's own conversation rounds (shown beside `check_cycle`'s legal warnings), the
test window when the school knows it, and who gets which notice. Directie fills in a form;
`parse_settings` turns its text into a policy or into Dutch errors per field (nothing is stored
then); `change_settings` compares the new policy with the one in force and gives the event to
append (who, when, what changed), or None when nothing changed. `SettingsHistory` folds a
school's events: the policy per year, a year without settings of its own taking the latest
earlier year's rounds, conversation and notices (not its test window, which is one year's), and
the legal minimum (`SchoolPolicy()`) for a school that never set anything. How the talks are
held (the heroverweging talk's and each round's `TalkSettings`) is parsed, described and stored
by `workflows.talk_settings`; settings stored before that load with the defaults.

Pure: no clock (the caller passes the moment), no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflows.calendar import DateWindow, SchoolYear
from workflows.cycles import (
    SEED_CYCLES,
    ComplianceIssue,
    ConversationRound,
    MonthDay,
    RoundKind,
    SchoolCycle,
    Severity,
    check_cycle,
)
from workflows.errors import DomainError
from workflows.policy import Notice, Recipients, SchoolPolicy, TalkSettings
from workflows.talk_settings import (
    FieldError,
    TalkInput,
    by_field,
    describe_talk,
    parse_talk,
    talk_data,
    talk_from_data,
    talk_input,
)

EVENT_TYPE = "school_settings_changed"
SCHEMA_VERSION = 1
MAX_ROUNDS = 20
MAX_NAME = 100
MAX_EXTRA = 10
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*$")
_FULL_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
SINGLE_KINDS = (RoundKind.PROVISIONAL_ADVICE, RoundKind.FINAL_ADVICE)
"""Kinds a groep 8 cycle has at most one round of (the law's two advices)."""

TEMPLATES: Mapping[str, SchoolCycle] = SEED_CYCLES
"""The five seed schools' cycles, offered to every school as a starting point."""


# ---------------------------------------------------------------------------------------------
# Directie's input, as the form sends it, and its checks


@dataclass(frozen=True)
class RoundInput:
    name: str = ""
    kind: str = ""
    groep: str = ""
    first: str = ""
    """Day and month, "10-01" (10 January)."""
    last: str = ""
    talk: TalkInput | None = None
    """How the round's talks are held; None: the defaults (`TalkSettings()`)."""

    @property
    def blank(self) -> bool:
        return not any(v.strip() for v in (self.name, self.kind, self.groep, self.first, self.last))


@dataclass(frozen=True)
class RecipientsInput:
    class_teachers: bool = False
    ib: bool = False
    directie: bool = False
    extra: str = ""
    """Addresses separated by commas, semicolons, spaces or line breaks."""


@dataclass(frozen=True)
class SettingsInput:
    conversation_required: bool
    rounds: Sequence[RoundInput] = ()
    notices: Mapping[Notice, RecipientsInput] = field(default_factory=dict)
    test_first: str = ""
    test_last: str = ""
    reconsideration_talk: TalkInput | None = None
    """How the heroverweging talk is held; None: the defaults (`TalkSettings()`)."""


class SettingsInvalidError(DomainError):
    """The form's errors, each beside its field; nothing is stored."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        first = errors[0]
        super().__init__("settings_invalid", first.message, field=first.field)
        self.errors = list(errors)

    def by_field(self) -> dict[str, str]:
        return by_field(self.errors)


def round_field(index: int, name: str) -> str:
    return f"rounds-{index}-{name}"


def notice_field(notice: Notice, name: str) -> str:
    return f"notice-{notice.value}-{name}"


RECONSIDERATION_TALK = "talk-reconsideration"
"""The field prefix of the heroverweging talk's block (`talk_field(RECONSIDERATION_TALK, ...)`)."""


def round_talk(index: int) -> str:
    """The field prefix of round `index`'s talk block."""
    return round_field(index, "talk")


def parse_settings(given: SettingsInput, year: SchoolYear) -> SchoolPolicy:
    """The policy directie asked for in `year`, or `SettingsInvalidError` with every error."""
    errors: list[FieldError] = []
    rounds: list[ConversationRound] = []
    numbered = [(i, r) for i, r in enumerate(given.rounds) if not r.blank]
    if len(numbered) > MAX_ROUNDS:
        errors.append(FieldError("rounds", f"ten hoogste {MAX_ROUNDS} gespreksrondes"))
    seen: dict[RoundKind, int] = {}
    for index, entry in numbered[:MAX_ROUNDS]:
        found = _round(index, entry, year, errors)
        if found is None:
            continue
        rounds.append(found)
        if found.kind in SINGLE_KINDS and found.groep == 8:
            if found.kind in seen:
                errors.append(
                    FieldError(
                        round_field(index, "kind"),
                        f"groep 8 heeft al een ronde voor het {found.kind.label} "
                        f"(ronde {seen[found.kind] + 1}); kies één ronde",
                    )
                )
            seen.setdefault(found.kind, index)
    notices = {}
    for notice in Notice:
        chosen = given.notices.get(notice, RecipientsInput())
        notices[notice] = _recipients(notice, chosen, errors)
    windows = {}
    window = _test_window(given.test_first, given.test_last, year, errors)
    if window is not None:
        windows[year] = window
    reconsideration_talk = TalkSettings()
    if given.reconsideration_talk is not None:
        reconsideration_talk = (
            parse_talk(given.reconsideration_talk, RECONSIDERATION_TALK, errors) or TalkSettings()
        )
    if errors:
        raise SettingsInvalidError(errors)
    return SchoolPolicy(
        conversation_required=given.conversation_required,
        test_windows=windows,
        rounds=tuple(rounds),
        notices=notices,
        reconsideration_talk=reconsideration_talk,
    )


def _round(
    index: int, entry: RoundInput, year: SchoolYear, errors: list[FieldError]
) -> ConversationRound | None:
    before = len(errors)
    name = " ".join(entry.name.split())
    if not name:
        errors.append(FieldError(round_field(index, "name"), "geef de ronde een naam"))
    elif len(name) > MAX_NAME:
        errors.append(
            FieldError(round_field(index, "name"), f"ten hoogste {MAX_NAME} tekens, nu {len(name)}")
        )
    kind = next((k for k in RoundKind if k.value == entry.kind.strip()), None)
    if kind is None:
        errors.append(FieldError(round_field(index, "kind"), "kies wat voor gesprek het is"))
    groep = {"7": 7, "8": 8}.get(entry.groep.strip())
    if groep is None:
        errors.append(FieldError(round_field(index, "groep"), "kies groep 7 of groep 8"))
    first = _day_month(entry.first, round_field(index, "first"), errors)
    last = _day_month(entry.last, round_field(index, "last"), errors)
    if first is not None and last is not None and last.in_year(year) < first.in_year(year):
        errors.append(
            FieldError(
                round_field(index, "last"),
                f"de laatste dag ({last}) ligt vóór de eerste ({first}) in het schooljaar "
                "(augustus t/m juli)",
            )
        )
    talk: TalkSettings | None = TalkSettings()
    if entry.talk is not None:
        talk = parse_talk(entry.talk, round_talk(index), errors)
    if (
        len(errors) > before
        or kind is None
        or groep is None
        or first is None
        or last is None
        or talk is None
    ):
        return None
    return ConversationRound(name, kind, groep, first, last, talk)


def _day_month(text: str, where: str, errors: list[FieldError]) -> MonthDay | None:
    if not text.strip():
        errors.append(FieldError(where, "vul een datum in als dag-maand, bijvoorbeeld 10-01"))
        return None
    match = _DAY_MONTH.match(text)
    if not match:
        errors.append(
            FieldError(where, f"'{text.strip()}' is geen dag-maand; schrijf bijvoorbeeld 10-01")
        )
        return None
    day, month = int(match.group(1)), int(match.group(2))
    if day == 29 and month == 2:
        errors.append(FieldError(where, "29 februari is er niet elk jaar; kies 28-02 of 01-03"))
        return None
    try:
        date(2001, month, day)  # a year without 29 February
    except ValueError:
        errors.append(FieldError(where, f"'{text.strip()}' is geen bestaande dag"))
        return None
    return MonthDay(month, day)


def _recipients(notice: Notice, chosen: RecipientsInput, errors: list[FieldError]) -> Recipients:
    addresses: list[str] = []
    for word in re.split(r"[\s,;]+", chosen.extra.strip()):
        if not word:
            continue
        address = word.lower()
        if len(address) > 320 or not _EMAIL.match(address):
            errors.append(
                FieldError(notice_field(notice, "extra"), f"'{word}' is geen e-mailadres")
            )
        elif address not in addresses:
            addresses.append(address)
    if len(addresses) > MAX_EXTRA:
        errors.append(
            FieldError(notice_field(notice, "extra"), f"ten hoogste {MAX_EXTRA} extra adressen")
        )
    if not (chosen.class_teachers or chosen.ib or chosen.directie or addresses):
        errors.append(
            FieldError(
                notice_field(notice, "class_teachers"),
                "kies wie dit bericht krijgt: zonder ontvanger hoort niemand ervan",
            )
        )
    return Recipients(chosen.class_teachers, chosen.ib, chosen.directie, tuple(addresses))


def _test_window(
    first_text: str, last_text: str, year: SchoolYear, errors: list[FieldError]
) -> DateWindow | None:
    if not first_text.strip() and not last_text.strip():
        return None
    first = _full_date(first_text, "test_first", year, errors)
    last = _full_date(last_text, "test_last", year, errors)
    if first is None or last is None:
        return None
    if last < first:
        errors.append(FieldError("test_last", "de toetsperiode eindigt vóór ze begint"))
        return None
    return DateWindow(first, last)


def _full_date(text: str, where: str, year: SchoolYear, errors: list[FieldError]) -> date | None:
    if not text.strip():
        errors.append(FieldError(where, "vul beide dagen van de toetsperiode in, of geen van twee"))
        return None
    iso, dutch = _ISO_DATE.match(text), _FULL_DATE.match(text)
    try:
        if iso:
            day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        elif dutch:
            day = date(int(dutch.group(3)), int(dutch.group(2)), int(dutch.group(1)))
        else:
            errors.append(FieldError(where, f"'{text.strip()}' is geen datum (dd-mm-jjjj)"))
            return None
    except ValueError:
        errors.append(FieldError(where, f"'{text.strip()}' is geen bestaande dag"))
        return None
    if day not in year:
        errors.append(FieldError(where, f"de dag valt buiten schooljaar {year}"))
        return None
    return day


# ---------------------------------------------------------------------------------------------
# What changed, as an event


@dataclass(frozen=True)
class Change:
    field: str
    """Stable code: conversation_required, rounds, test_window, notice:<notice>."""
    before: str
    after: str
    """Both in Dutch, as directie reads them."""

    @property
    def label(self) -> str:
        if self.field.startswith("notice:"):
            return "Bericht: " + Notice(self.field.removeprefix("notice:")).label
        if self.field.startswith("round_talk:"):
            return "Gesprekken van ronde " + self.field.removeprefix("round_talk:")
        return _FIELD_LABELS.get(self.field, self.field)


_FIELD_LABELS = {
    "conversation_required": "Gesprek bij heroverweging verplicht",
    "rounds": "Gespreksrondes",
    "test_window": "Toetsperiode",
    "template": "Sjabloon",
    "reconsideration_talk": "Gesprek bij heroverweging: opzet",
}


@dataclass(frozen=True)
class SettingsChanged:
    """Directie set the school's policy for a school year (the whole policy, and what changed)."""

    school_id: str
    school_year: SchoolYear
    policy: SchoolPolicy
    changes: tuple[Change, ...]
    changed_by: str
    """The user's id."""
    changed_by_name: str
    changed_at: datetime


def change_settings(
    current: SchoolPolicy,
    new: SchoolPolicy,
    *,
    school_id: str,
    year: SchoolYear,
    changed_by: str,
    changed_by_name: str,
    now: datetime,
) -> SettingsChanged | None:
    """The event that sets `new` in `year`, or None when it is what is in force already."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    changes = describe_changes(current, new, year)
    if not changes:
        return None
    return SettingsChanged(school_id, year, new, changes, changed_by, changed_by_name, now)


def describe_changes(old: SchoolPolicy, new: SchoolPolicy, year: SchoolYear) -> tuple[Change, ...]:
    changes = []
    if old.conversation_required != new.conversation_required:
        changes.append(
            Change(
                "conversation_required",
                _yes_no(old.conversation_required),
                _yes_no(new.conversation_required),
            )
        )
    if _without_talks(old.rounds) != _without_talks(new.rounds):
        changes.append(Change("rounds", describe_rounds(old.rounds), describe_rounds(new.rounds)))
    old_talks = {r.name: r.talk for r in old.rounds}
    for r in new.rounds:
        before_talk = old_talks.get(r.name, TalkSettings())
        if before_talk != r.talk:
            changes.append(
                Change(f"round_talk:{r.name}", describe_talk(before_talk), describe_talk(r.talk))
            )
    if old.reconsideration_talk != new.reconsideration_talk:
        changes.append(
            Change(
                "reconsideration_talk",
                describe_talk(old.reconsideration_talk),
                describe_talk(new.reconsideration_talk),
            )
        )
    old_window, new_window = old.test_windows.get(year), new.test_windows.get(year)
    if old_window != new_window:
        changes.append(
            Change("test_window", describe_window(old_window), describe_window(new_window))
        )
    for notice in Notice:
        before, after = old.recipients(notice), new.recipients(notice)
        if before != after:
            changes.append(
                Change(
                    f"notice:{notice.value}",
                    describe_recipients(before),
                    describe_recipients(after),
                )
            )
    return tuple(changes)


def _without_talks(rounds: Iterable[ConversationRound]) -> list[tuple[object, ...]]:
    return [(r.name, r.kind, r.groep, r.first, r.last) for r in rounds]


def _yes_no(value: bool) -> str:
    return "ja" if value else "nee"


def describe_rounds(rounds: Iterable[ConversationRound]) -> str:
    parts = [f"{r.name} ({r.kind.label}, groep {r.groep}, {r.first} t/m {r.last})" for r in rounds]
    return "; ".join(parts) if parts else "geen eigen rondes"


def describe_window(window: DateWindow | None) -> str:
    if window is None:
        return "nog niet bekend"
    return f"{window.first:%d-%m-%Y} t/m {window.last:%d-%m-%Y}"


def describe_recipients(recipients: Recipients) -> str:
    who = [
        label
        for chosen, label in (
            (recipients.class_teachers, "leerkracht(en) van de klas"),
            (recipients.ib, "intern begeleider"),
            (recipients.directie, "directie"),
        )
        if chosen
    ]
    who += list(recipients.extra)
    return ", ".join(who) if who else "niemand"


# ---------------------------------------------------------------------------------------------
# The event's stored form, and the history folded


def policy_data(policy: SchoolPolicy, year: SchoolYear) -> dict[str, Any]:
    """The policy of `year` as JSON-able data (the event's `settings`)."""
    window = policy.test_windows.get(year)
    return {
        "conversation_required": policy.conversation_required,
        "rounds": [
            {
                "name": r.name,
                "kind": r.kind.value,
                "groep": r.groep,
                "first": [r.first.month, r.first.day],
                "last": [r.last.month, r.last.day],
                "talk": talk_data(r.talk),
            }
            for r in policy.rounds
        ],
        "reconsideration_talk": talk_data(policy.reconsideration_talk),
        "test_window": None
        if window is None
        else [window.first.isoformat(), window.last.isoformat()],
        "notices": {
            notice.value: {
                "class_teachers": policy.recipients(notice).class_teachers,
                "ib": policy.recipients(notice).ib,
                "directie": policy.recipients(notice).directie,
                "extra": list(policy.recipients(notice).extra),
            }
            for notice in Notice
        },
    }


def policy_from_data(data: Mapping[str, Any], year: SchoolYear) -> SchoolPolicy:
    window = data.get("test_window")
    notices = {}
    for notice in Notice:
        found = data.get("notices", {}).get(notice.value)
        notices[notice] = (
            Recipients()
            if found is None
            else Recipients(
                bool(found["class_teachers"]),
                bool(found["ib"]),
                bool(found["directie"]),
                tuple(found["extra"]),
            )
        )
    return SchoolPolicy(
        conversation_required=bool(data["conversation_required"]),
        test_windows={}
        if not window
        else {year: DateWindow(date.fromisoformat(window[0]), date.fromisoformat(window[1]))},
        rounds=tuple(
            ConversationRound(
                r["name"],
                RoundKind(r["kind"]),
                int(r["groep"]),
                MonthDay(*r["first"]),
                MonthDay(*r["last"]),
                talk_from_data(r.get("talk")),
            )
            for r in data["rounds"]
        ),
        notices=notices,
        reconsideration_talk=talk_from_data(data.get("reconsideration_talk")),
    )


def event_data(event: SettingsChanged) -> dict[str, Any]:
    return {
        "school_id": event.school_id,
        "school_year": str(event.school_year),
        "settings": policy_data(event.policy, event.school_year),
        "changes": [
            {"field": c.field, "before": c.before, "after": c.after} for c in event.changes
        ],
    }


def event_from_data(
    data: Mapping[str, Any], changed_by: str, changed_by_name: str, changed_at: datetime
) -> SettingsChanged:
    year = SchoolYear.parse(data["school_year"])
    return SettingsChanged(
        school_id=data["school_id"],
        school_year=year,
        policy=policy_from_data(data["settings"], year),
        changes=tuple(Change(c["field"], c["before"], c["after"]) for c in data["changes"]),
        changed_by=changed_by,
        changed_by_name=changed_by_name,
        changed_at=changed_at,
    )


@dataclass(frozen=True)
class InForce:
    """The policy of a school year and where it comes from."""

    policy: SchoolPolicy
    set_in: SchoolYear | None
    """The year whose settings these are (an earlier one when carried over); None: the legal
    minimum, nothing set."""


@dataclass
class SettingsHistory:
    """A school's settings events folded: the policy per school year, every change in order."""

    by_year: dict[SchoolYear, SchoolPolicy] = field(default_factory=dict)
    changes: list[SettingsChanged] = field(default_factory=list)

    @classmethod
    def of(cls, events: Iterable[SettingsChanged]) -> SettingsHistory:
        history = cls()
        for event in events:
            history.add(event)
        return history

    def add(self, event: SettingsChanged) -> None:
        self.by_year[event.school_year] = event.policy
        self.changes.append(event)

    def in_force(self, year: SchoolYear) -> InForce:
        own = self.by_year.get(year)
        if own is not None:
            return InForce(own, year)
        earlier = [y for y in self.by_year if y < year]
        if not earlier:
            return InForce(SchoolPolicy(), None)
        source = max(earlier)
        carried = self.by_year[source]
        return InForce(
            SchoolPolicy(
                conversation_required=carried.conversation_required,
                rounds=carried.rounds,
                notices=carried.notices,
                reconsideration_talk=carried.reconsideration_talk,
            ),
            source,
        )

    def policy_for(self, year: SchoolYear) -> SchoolPolicy:
        return self.in_force(year).policy


# ---------------------------------------------------------------------------------------------
# The law beside the rounds


def legal_warnings(
    policy: SchoolPolicy, year: SchoolYear, school: str = ""
) -> list[ComplianceIssue]:
    """`check_cycle` for the policy's rounds in `year`, errors before warnings."""
    cycle = SchoolCycle(school, policy.rounds, policy.conversation_required)
    issues = check_cycle(cycle, policy.calendar(year))
    return sorted(issues, key=lambda issue: issue.severity is not Severity.ERROR)


def template_policy(key: str, base: SchoolPolicy) -> SchoolPolicy:
    """`base` with a seed school's rounds and conversation rule (its notices and test window
    stay): what "Sjabloon: De Brandaris" fills in, not yet stored."""
    cycle = TEMPLATES[key]
    return SchoolPolicy(
        conversation_required=cycle.conversation_required,
        test_windows=base.test_windows,
        rounds=cycle.rounds,
        notices=base.notices,
        reconsideration_talk=base.reconsideration_talk,
    )


def round_input(r: ConversationRound) -> RoundInput:
    """The form's row for a stored round (its talk block only when it differs from the
    defaults: None reads as the defaults)."""
    talk = None if r.talk == TalkSettings() else talk_input(r.talk)
    return RoundInput(r.name, r.kind.value, str(r.groep), str(r.first), str(r.last), talk)
