"""A Dutch form for every command the API has: GET shows it, POST runs the API's own route.

`/leerlingen/{pupil_id}/acties/{key}`, one per action of `service.web.actions`. A POST is checked
against the session's CSRF token, parsed into the very body model the API route declares, and
handed to that route function with a `PupilCommand` built from the session: the same command
objects, the same `Trajectories.execute`, no second write path. A field the body refuses, or a
rule of the domain that names a field, is shown in Dutch beside the field (422); the form carries
the version it was rendered from, so a pupil changed meanwhile gets the fresh state and "intussen
gewijzigd door …" (409) instead of a silent overwrite. Success: 303 to the pupil page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from service.accounts.access import changes_pupil, sees_pupil
from service.accounts.roles import Principal
from service.accounts.sessions import SessionUser
from service.advice import api, parents_api, reconsideration_api, transfer_test_api
from service.advice.routing import PupilCommand, log_reads
from service.advice.trajectories import Actor, CommandContext
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.schools.register import Pupil
from service.store.events import ConcurrencyError
from service.store.streams import trajectory_stream
from service.web.actions import BY_KEY, ActionKind, refusal
from service.web.pages import message_page, page, session_of, tokens_match
from workflows.calendar import DateWindow, LegalCalendar, SchoolYear, timeliness_in
from workflows.dutch import MONTHS
from workflows.enums import AdviceKind, ConversationParty, ExemptionGround, KeepReason, Timeliness
from workflows.errors import DomainError
from workflows.lifecycle import Status
from workflows.policy import SchoolPolicy
from workflows.rules_reconsideration import raise_choices
from workflows.scale import SchoolAdvice
from workflows.trajectory import Trajectory

router = APIRouter(include_in_schema=False)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ADVICES = tuple((a.value, a.label) for a in SchoolAdvice)
YES_NO = (("ja", "Ja"), ("nee", "Nee"))


@dataclass(frozen=True)
class Field:
    """One input of a form. kind: date, datetime, advice, choice, text, textarea, checkbox,
    checkboxes (a list), yesno (a boolean asked as a question)."""

    name: str
    label: str
    kind: str
    required: bool = True
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    only_when: Callable[[Trajectory], bool] | None = None
    """Shown (and sent) only in states where it means something."""
    condition: str = ""
    """When a field the body lets out is still required by a rule ("verplicht bij …"): said in
    the label instead of "niet verplicht"."""
    options: Callable[[Trajectory], tuple[tuple[str, str], ...]] | None = None
    """The choices the domain allows in this state (an advice field); None: every advice."""
    hint_for: Callable[[Trajectory], str] | None = None
    """A hint that depends on the state (e.g. naming the toetsadvies); else `hint`."""

    def choices_in(self, state: Trajectory) -> tuple[tuple[str, str], ...]:
        if self.options is not None:
            return self.options(state)
        return ADVICES if self.kind == "advice" else self.choices

    def hint_in(self, state: Trajectory) -> str:
        return self.hint_for(state) if self.hint_for is not None else self.hint


@dataclass(frozen=True)
class Form:
    intro: str
    fields: tuple[Field, ...]
    body: type[BaseModel]
    run: Callable[[Any, PupilCommand, Trajectory], Any]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    defaults: Callable[[Trajectory], dict[str, Any]] | None = None
    period: tuple[str, Callable[[LegalCalendar], DateWindow]] | None = None
    """A date field with a legal period (the field's name, the period in the pupil's school
    year): the form says before saving whether the date falls in it, and leaves the date empty
    when today does not."""

    def fields_for(self, state: Trajectory) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.only_when is None or f.only_when(state))


def _labelled(enum: Any) -> tuple[tuple[str, str], ...]:
    return tuple((member.value, member.label) for member in enum)


def _on(name: str, label: str = "Datum") -> Field:
    return Field(name, label, "date")


def _why(name: str = "reason", label: str = "Reden") -> Field:
    return Field(name, label, "textarea")


def _notes(name: str = "notes", label: str = "Aantekeningen") -> Field:
    return Field(name, label, "textarea", required=False)


ADVICE = Field("advice", "Advies", "advice")
KEEP_REASONS = _labelled(KeepReason)


def _route(function: Callable[..., Any]) -> Callable[[Any, PupilCommand, Trajectory], Any]:
    return lambda body, command, _state: function(body, command)


def _decide_objection(body: Any, command: PupilCommand, state: Trajectory) -> Any:
    objection = state.open_objection
    if objection is None:  # the machine has said so already; the domain says it in words
        raise DomainError("no_open_objection", "er ligt geen verzoek van de ouders om te beslissen")
    return parents_api.decide_objection(objection.objection_id, body, command)


def _raise_options(state: Trajectory) -> tuple[tuple[str, str], ...]:
    """The advices the heroverweging may raise to (the domain's `raise_choices`)."""
    current, test = state.current_advice, state.test_advice
    if current is None or test is None:
        return ADVICES
    return tuple((a.value, a.label) for a in raise_choices(current, test))


def _raise_hint(state: Trajectory) -> str:
    current, test = state.current_advice, state.test_advice
    if current is None or test is None:
        return ""
    return (
        f"Hoger dan {current.label}, tot en met het toetsadvies {test.label}. Kiest u een niveau "
        f"onder {test.label}, dan is dat gedeeltelijk bijstellen: geef dan reden en motivering."
    )


def _current_advice(state: Trajectory) -> dict[str, Any]:
    given = state.provisional_advice
    return {"advice": given.advice.value} if given else {}


FORMS: dict[str, Form] = {
    "orienterend-advies": Form(
        "Het oriënterend advies van groep 7 heeft geen wettelijke status, maar hoort bij de "
        "geschiedenis van de leerling.",
        (ADVICE, _on("given_on", "Gegeven op")),
        api.AdviceIn,
        _route(api.give_orientation_advice),
    ),
    "groep-8": Form(
        "De leerling gaat over naar groep 8; daarna volgt het voorlopig schooladvies.",
        (
            Field("school_year", "Schooljaar van groep 8", "text", hint="Bijvoorbeeld 2026-2027"),
            _on("entered_on", "Naar groep 8 op"),
        ),
        api.Groep8In,
        _route(api.move_to_groep_8),
        defaults=lambda state: (
            {"school_year": str(SchoolYear(state.school_year.start_year + 1))}
            if state.school_year
            else {}
        ),
    ),
    "voorlopig-advies": Form(
        "Het voorlopig schooladvies gaat in groep 8 naar ouders en leerling, in de wettelijke "
        "periode van 10 tot en met 31 januari. Een advies buiten die periode wordt wel "
        "vastgelegd, maar gemarkeerd: eerder als 'vóór de wettelijke periode', later als 'te "
        "laat'.",
        (
            ADVICE,
            _on("given_on", "Gegeven op"),
            Field(
                "motivation",
                "Onderbouwing",
                "textarea",
                required=False,
                hint="Waarop het advies rust: de ontwikkeling van de leerling, werkhouding, "
                "motivatie en leerresultaten. Ouders, de VO-school en bij een klacht de "
                "klachtencommissie lezen dit.",
            ),
        ),
        api.ProvisionalAdviceIn,
        _route(api.give_provisional_advice),
        period=("given_on", lambda calendar: calendar.provisional_advice_window),
    ),
    "voorlopig-advies-corrigeren": Form(
        "Corrigeer een voorlopig advies dat verkeerd is vastgelegd. Het eerdere advies blijft in "
        "de geschiedenis staan.",
        (
            Field("advice", "Juiste advies", "advice"),
            _on("corrected_on", "Gecorrigeerd op"),
            _why("reason", "Waarom was het vastgelegde advies onjuist?"),
        ),
        api.CorrectionIn,
        _route(api.correct_provisional_advice),
        defaults=_current_advice,
    ),
    "vrijstelling": Form(
        "Het bestuur heeft de leerling vrijgesteld van de doorstroomtoets. Het voorlopig advies "
        "wordt dan het definitief advies.",
        (
            Field(
                "ground", "Grond van de vrijstelling", "choice", choices=_labelled(ExemptionGround)
            ),
            _on("decided_on", "Besloten op"),
            Field(
                "parents_consulted",
                "De ouders zijn geraadpleegd",
                "checkbox",
                required=False,
                hint="Verplicht bij de grond 'korter dan vier jaar in Nederland'.",
            ),
        ),
        transfer_test_api.ExemptionIn,
        _route(transfer_test_api.grant_exemption),
    ),
    "verhindering": Form(
        "De leerling kon de doorstroomtoets niet maken (bijvoorbeeld door ziekte). Een inhaaltoets "
        "volgt binnen drie weken.",
        (_on("missed_on", "Verhinderd op"), _why()),
        transfer_test_api.TestMissedIn,
        _route(transfer_test_api.record_test_missed),
    ),
    "inhaaltoets": Form(
        "De inhaaltoets volgt binnen drie weken na de reguliere afname.",
        (_on("planned_on", "Datum van de inhaaltoets"),),
        transfer_test_api.CatchUpIn,
        _route(transfer_test_api.plan_catch_up_test),
    ),
    "geen-uitslag": Form(
        "Er komt geen toetsuitslag (ook niet via een inhaaltoets): het voorlopig advies wordt het "
        "definitief advies.",
        (_on("recorded_on", "Vastgesteld op"), _why()),
        transfer_test_api.NoResultIn,
        _route(transfer_test_api.record_no_test_result),
    ),
    "gesprek-plannen": Form(
        "Het toetsadvies is hoger dan het voorlopig advies. Plan het gesprek met ouders (en "
        "leerling) over de heroverweging.",
        (
            Field("planned_at", "Datum en tijd", "datetime"),
            Field("with_pupil", "De leerling is bij het gesprek", "checkbox", required=False),
        ),
        reconsideration_api.PlanIn,
        _route(reconsideration_api.plan_conversation),
        defaults=lambda _s: {"with_pupil": True},
    ),
    "gesprek-verzetten": Form(
        "Verzet het geplande gesprek naar een ander moment.",
        (Field("planned_at", "Nieuwe datum en tijd", "datetime"), _why()),
        reconsideration_api.MoveIn,
        _route(reconsideration_api.move_conversation),
    ),
    "gesprek-afzeggen": Form(
        "Zeg het geplande gesprek af. Daarna kunt u een nieuw gesprek plannen.",
        (_on("cancelled_on", "Afgezegd op"), _why()),
        reconsideration_api.CancelIn,
        _route(reconsideration_api.cancel_conversation),
    ),
    "gesprek-gevoerd": Form(
        "Leg vast dat het gesprek over de heroverweging is gevoerd, en met wie.",
        (
            _on("held_on", "Gevoerd op"),
            Field("attendees", "Aanwezig", "checkboxes", choices=_labelled(ConversationParty)),
            _notes(),
        ),
        reconsideration_api.HeldIn,
        _route(reconsideration_api.record_conversation_outcome),
        fixed={"outcome": "held"},
        defaults=lambda _s: {"attendees": ["parents", "pupil", "teacher"]},
    ),
    "gesprek-afgezien": Form(
        "De ouders zien af van het gesprek. Dat wordt vastgelegd; het houdt de heroverweging "
        "niet tegen.",
        (_on("declined_on", "Afgezien op"), _notes()),
        reconsideration_api.DeclinedIn,
        _route(reconsideration_api.record_conversation_outcome),
        fixed={"outcome": "declined"},
    ),
    "advies-bijstellen": Form(
        "Stel het advies bij naar het toetsadvies, of gedeeltelijk naar een niveau ertussen. "
        "Gedeeltelijk bijstellen vraagt een reden en een motivering.",
        (
            Field("advice", "Nieuw advies", "advice", options=_raise_options, hint_for=_raise_hint),
            _on("decided_on", "Besloten op"),
            Field(
                "reason",
                "Reden",
                "choice",
                required=False,
                choices=KEEP_REASONS,
                condition="verplicht bij gedeeltelijk bijstellen",
            ),
            Field(
                "motivation",
                "Motivering",
                "textarea",
                required=False,
                condition="verplicht bij gedeeltelijk bijstellen",
            ),
        ),
        reconsideration_api.RaiseIn,
        _route(reconsideration_api.decide_reconsideration),
        fixed={"outcome": "raise"},
    ),
    "advies-handhaven": Form(
        "Handhaaf het advies alleen als bijstellen niet in het belang van de leerling is; leg de "
        "moverende redenen vast.",
        (
            _on("decided_on", "Besloten op"),
            Field("reason", "Reden", "choice", choices=KEEP_REASONS),
            Field("motivation", "Moverende redenen", "textarea"),
        ),
        reconsideration_api.KeepIn,
        _route(reconsideration_api.decide_reconsideration),
        fixed={"outcome": "keep"},
    ),
    "definitief-advies": Form(
        "Het definitief schooladvies volgt uit de toetsuitslag en de heroverweging (zie de stand "
        "van zaken hierboven) en wordt uiterlijk op 24 maart gegeven.",
        (
            _on("given_on", "Gegeven op"),
            Field(
                "advice",
                "Advies",
                "advice",
                required=False,
                hint="Na beoordeling van de uitslag kiest de school het advies zelf.",
                only_when=lambda state: state.status is Status.RESULT_REVIEW_REQUIRED,
            ),
        ),
        api.FinalAdviceIn,
        _route(api.give_final_advice),
    ),
    "okr-gesprek": Form(
        "In het OKR-gesprek zien ouders het onderwijskundig rapport en kunnen zij hun zienswijze "
        "geven.",
        (
            _on("held_on", "Gevoerd op"),
            Field(
                "parents_saw_okr",
                "De ouders hebben het onderwijskundig rapport gezien",
                "checkbox",
                required=False,
            ),
            Field("parents_view", "Zienswijze van de ouders", "textarea", required=False),
        ),
        parents_api.OkrConversationIn,
        _route(parents_api.record_okr_conversation),
    ),
    "verzoek-ouders": Form(
        "Ouders kunnen om een ander advies vragen; de directie beslist en legt uit waarom.",
        (
            _on("received_on", "Ontvangen op"),
            Field("summary", "Wat vragen de ouders, en waarom?", "textarea"),
            Field("requested_advice", "Gevraagd advies", "advice", required=False),
        ),
        parents_api.ObjectionIn,
        _route(parents_api.receive_objection),
    ),
    "verzoek-beslissen": Form(
        "De directie beslist op het verzoek van de ouders. Een toegekend verzoek geeft een hoger "
        "advies; het advies wordt nooit verlaagd.",
        (
            _on("decided_on", "Besloten op"),
            Field("granted", "Wordt het verzoek toegekend?", "yesno", choices=YES_NO),
            Field("new_advice", "Nieuw advies (bij toekennen)", "advice", required=False),
            Field("motivation", "Motivering", "textarea"),
        ),
        parents_api.ObjectionDecisionIn,
        _decide_objection,
    ),
    "vertrek": Form(
        "De leerling verlaat de school. Het onderwijskundig rapport gaat pas naar de VO-school "
        "als de leerling daar is ingeschreven.",
        (
            _on("left_on", "Vertrokken op"),
            Field("destination", "Naar (VO-school)", "text", required=False),
        ),
        parents_api.LeavingIn,
        _route(parents_api.record_leaving),
    ),
    "duo-aanlevering": Form(
        "Leg vast dat een advies aan DUO (ROD) is aangeleverd.",
        (
            Field(
                "kind",
                "Welk advies",
                "choice",
                choices=_labelled(AdviceKind)[1:],  # the oriënterend advies is not registered
            ),
            _on("sent_on", "Aangeleverd op"),
        ),
        api.RegistrationIn,
        _route(api.record_national_registration),
    ),
}


# -- parsing a posted form into the API's body ---------------------------------------------------


def _body_data(form: Form, state: Trajectory, posted: Any) -> dict[str, Any]:
    """The posted strings as the JSON the API route takes (empty optional fields left out)."""
    data: dict[str, Any] = dict(form.fixed)
    for f in form.fields_for(state):
        if f.kind == "checkbox":
            data[f.name] = posted.get(f.name) == "ja"
            continue
        if f.kind == "checkboxes":
            data[f.name] = posted.getlist(f.name)
            continue
        raw = str(posted.get(f.name) or "").strip()
        if not raw:  # left out: the body says "missing" for a required one
            continue
        if f.kind == "yesno":
            data[f.name] = {"ja": True, "nee": False}.get(raw, raw)
        elif f.kind == "datetime":
            data[f.name] = _local_datetime(raw)
        else:
            data[f.name] = raw
    return data


def _local_datetime(raw: str) -> str:
    """A datetime-local input is Dutch local time: give it the time zone the API demands."""
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=AMSTERDAM).isoformat()
    except ValueError:
        return raw


_MESSAGES = {
    "missing": "Vul dit veld in.",
    "string_too_short": "Vul dit veld in.",
    "date_parsing": "Geef een geldige datum.",
    "date_from_datetime_parsing": "Geef een geldige datum.",
    "date_from_datetime_inexact": "Geef een geldige datum.",
    "date_type": "Geef een datum.",
    "datetime_parsing": "Geef een geldige datum en tijd.",
    "datetime_from_date_parsing": "Geef een geldige datum en tijd.",
    "datetime_type": "Geef een datum en tijd.",
    "timezone_aware": "Geef een geldige datum en tijd.",
    "enum": "Kies een van de mogelijkheden.",
    "literal_error": "Kies een van de mogelijkheden.",
    "bool_parsing": "Kies ja of nee.",
    "bool_type": "Kies ja of nee.",
    "too_short": "Kies ten minste één.",
    "too_long": "Kies er minder.",
    "string_pattern_mismatch": "Dit heeft niet de juiste vorm.",
}


def _dutch(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "string_too_long":
        return f"Gebruik hoogstens {error.get('ctx', {}).get('max_length')} tekens."
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", "")) or "Deze waarde is ongeldig."
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    return _MESSAGES.get(kind, "Deze waarde is ongeldig.")


CHOICES = frozenset({"advice", "choice", "yesno", "checkboxes"})


def field_errors(error: ValidationError, form: Form) -> dict[str, str]:
    """The body's complaints in Dutch, by field (the first one of each)."""
    kinds = {f.name: f.kind for f in form.fields}
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        missing = item["type"] == "missing" and kinds.get(name) in CHOICES
        found.setdefault(name, "Maak een keuze." if missing else _dutch(item))
    return found


def sentence(message: str) -> str:
    text = message[:1].upper() + message[1:]
    return text if text.endswith(".") else text + "."


# -- the routes ----------------------------------------------------------------------------------


@dataclass
class _Screen:
    """What one request found: who asks, about which pupil, in which state."""

    session: SessionUser
    pupil: Pupil
    pupil_id: UUID
    state: Trajectory
    kind: ActionKind
    form: Form
    policy: SchoolPolicy

    @property
    def who(self) -> Principal:
        return self.session.principal


def policy_of(container: Container, school_id: str, state: Trajectory) -> SchoolPolicy:
    """The policy of the pupil's school in the pupil's school year: what the machine's guards
    are asked with, here as in the command handler."""
    if state.school_year is None:
        return SchoolPolicy()
    return container.policies.policy_for(school_id, state.school_year)


def _screen(request: Request, container: Container, pupil_id: str, key: str) -> _Screen | Response:
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    not_found = message_page(
        session,
        404,
        "Niet gevonden",
        "Deze leerling of dit formulier bestaat niet, of valt buiten uw school of klas.",
    )
    kind, form = BY_KEY.get(key), FORMS.get(key)
    try:
        pupil_uuid = UUID(pupil_id)
    except ValueError:
        return not_found
    pupil = container.register.pupil(str(pupil_uuid))
    if kind is None or form is None or pupil is None:
        return not_found
    if not sees_pupil(who, pupil.school_id, pupil.class_name):
        return not_found
    if not changes_pupil(who, pupil.school_id, pupil.class_name) or who.role not in kind.roles:
        return message_page(
            session,
            403,
            "Geen toegang",
            f"Als {who.role.label} mag u '{kind.label.lower()}' niet doen voor deze leerling.",
        )
    state = container.trajectories.load(pupil_uuid)
    policy = policy_of(container, pupil.school_id, state)
    return _Screen(session, pupil, pupil_uuid, state, kind, form, policy)


def _today(container: Container) -> str:
    return container.clock().astimezone(AMSTERDAM).date().isoformat()


@dataclass(frozen=True)
class PeriodNote:
    """What the form says beside a date with a legal period, before anything is saved."""

    field: str
    text: str
    warning: bool


def _window_words(window: DateWindow) -> str:
    """`10 tot en met 31 januari 2027` (months and years only where they differ)."""
    first, last = window.first, window.last
    start = str(first.day)
    if (first.month, first.year) != (last.month, last.year):
        start += f" {MONTHS[first.month - 1]}"
    if first.year != last.year:
        start += f" {first.year}"
    return f"{start} tot en met {last.day} {MONTHS[last.month - 1]} {last.year}"


def _period_window(screen: _Screen, container: Container) -> DateWindow | None:
    if screen.form.period is None:
        return None
    year = screen.state.school_year or SchoolYear.containing(
        container.clock().astimezone(AMSTERDAM).date()
    )
    return screen.form.period[1](screen.policy.calendar(year))


def period_note(screen: _Screen, container: Container, raw: str) -> PeriodNote | None:
    """Whether the date `raw` falls in the field's legal period, as the rules will mark it
    (`timeliness_in`, the same function the rule uses); None for a form without a period."""
    window = _period_window(screen, container)
    if window is None or screen.form.period is None:
        return None
    name, period = screen.form.period[0], _window_words(window)
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        today = container.clock().astimezone(AMSTERDAM).date()
        if today in window:
            return PeriodNote(name, f"De wettelijke periode is {period}.", False)
        return PeriodNote(
            name,
            f"Vandaag ({today:%d-%m-%Y}) valt buiten de wettelijke periode ({period}). Vul de "
            "dag in waarop ouders en leerling het advies kregen.",
            True,
        )
    when = timeliness_in(day, window.first, window.last)
    if when is Timeliness.ON_TIME:
        return PeriodNote(name, f"{day:%d-%m-%Y} valt in de wettelijke periode ({period}).", False)
    side = "vóór" if when is Timeliness.EARLY else "na"
    return PeriodNote(
        name,
        f"Let op: {day:%d-%m-%Y} ligt {side} de wettelijke periode ({period}). Het advies wordt "
        f"wel vastgelegd, maar gemarkeerd als '{when.label}'.",
        True,
    )


def _initial_values(screen: _Screen, container: Container) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in screen.form.fields:
        if f.kind == "date" and f.required:
            values[f.name] = _today(container)
    window = _period_window(screen, container)
    if screen.form.period is not None and window is not None:
        today = container.clock().astimezone(AMSTERDAM).date()
        if today not in window:  # outside the period "today" is rarely the day it was given
            values[screen.form.period[0]] = ""
    if screen.form.defaults is not None:
        values.update(screen.form.defaults(screen.state))
    return values


def _posted_values(form: Form, posted: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in form.fields:
        if f.kind == "checkboxes":
            values[f.name] = posted.getlist(f.name)
        elif f.kind == "checkbox":
            values[f.name] = posted.get(f.name) == "ja"
        else:
            values[f.name] = str(posted.get(f.name) or "")
    return values


def _render(
    screen: _Screen,
    request: Request,
    container: Container,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str = "",
    changed: str = "",
) -> HTMLResponse:
    log_reads(container, screen.who, [str(screen.pupil_id)], "actieformulier", request)
    blocked = refusal(screen.state, screen.kind.trigger, screen.policy)
    values = values if values is not None else _initial_values(screen, container)
    note = None
    if screen.form.period is not None:
        note = period_note(screen, container, str(values.get(screen.form.period[0], "")))
    return page(
        "c_form.html",
        status,
        who=screen.who,
        csrf_token=screen.session.csrf_token,
        pupil=screen.pupil,
        pupil_id=screen.pupil_id,
        state=screen.state,
        kind=screen.kind,
        form=screen.form,
        fields=screen.form.fields_for(screen.state),
        values=values,
        note=note,
        errors=errors or {},
        form_error=form_error,
        changed=changed,
        blocked=sentence(blocked) if blocked else "",
        advices=ADVICES,
    )


def changed_by(container: Container, pupil_id: UUID | str) -> str:
    """ "Intussen gewijzigd door <naam> op <tijd>": who made the pupil's latest change, when."""
    stored = container.trajectories.store.read_stream(trajectory_stream(pupil_id))
    if not stored:
        return "Intussen gewijzigd."
    last = stored[-1]
    actor = str(last.metadata.get("actor", ""))
    accounts = container.accounts.accounts(actor) if actor else []
    name = accounts[0].principal.name if accounts else "het systeem"
    when = last.recorded_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y om %H:%M")
    return f"Intussen gewijzigd door {name} op {when}."


@router.get("/leerlingen/{pupil_id}/acties/{key}", response_class=HTMLResponse)
def show_form(pupil_id: str, key: str, request: Request, container: ContainerDep) -> Response:
    screen = _screen(request, container, pupil_id, key)
    if isinstance(screen, Response):
        return screen
    status = 409 if refusal(screen.state, screen.kind.trigger, screen.policy) else 200
    return _render(screen, request, container, status=status)


@router.get("/leerlingen/{pupil_id}/acties/{key}/termijn", response_class=HTMLResponse)
def period_hint(pupil_id: str, key: str, request: Request, container: ContainerDep) -> Response:
    """The period note for the date typed so far (htmx swaps it in beside the field)."""
    screen = _screen(request, container, pupil_id, key)
    if isinstance(screen, Response):
        return screen
    if screen.form.period is None:
        return message_page(
            screen.session, 404, "Niet gevonden", "Dit formulier heeft geen termijn."
        )
    name = screen.form.period[0]
    note = period_note(screen, container, str(request.query_params.get(name) or ""))
    return page("c_period.html", note=note, pupil_id=screen.pupil_id, kind=screen.kind)


@router.post("/leerlingen/{pupil_id}/acties/{key}", response_class=HTMLResponse)
async def submit_form(
    pupil_id: str, key: str, request: Request, container: ContainerDep
) -> Response:
    posted = await request.form()
    return await run_in_threadpool(_submit, pupil_id, key, request, container, posted)


def _submit(
    pupil_id: str, key: str, request: Request, container: Container, posted: Any
) -> Response:
    screen = _screen(request, container, pupil_id, key)
    if isinstance(screen, Response):
        return screen
    sent = str(posted.get("csrf_token") or "")
    if not tokens_match(screen.session.csrf_token, sent):
        return message_page(
            screen.session,
            403,
            "Formulier verlopen",
            "Dit formulier kwam niet van uw sessie (of is verlopen). Open het opnieuw en "
            "probeer het nog eens.",
        )
    values = _posted_values(screen.form, posted)
    try:
        version = int(str(posted.get("version") or ""))
    except ValueError:
        return _render(
            screen,
            request,
            container,
            status=422,
            values=values,
            form_error="Het formulier mist de versie waarop het gebaseerd was; open het opnieuw.",
        )
    try:
        body = screen.form.body.model_validate(_body_data(screen.form, screen.state, posted))
    except ValidationError as error:
        return _render(
            screen,
            request,
            container,
            status=422,
            values=values,
            errors=field_errors(error, screen.form),
        )
    command = PupilCommand(
        container,
        screen.who,
        screen.pupil,
        screen.pupil_id,
        CommandContext(
            actor=Actor(id=screen.who.user_id, role=screen.who.role.value),
            request_id=request.state.request_id,
            correlation_id=request.state.request_id,
        ),
        version,
        None,
        Response(),
    )
    try:
        screen.form.run(body, command, screen.state)
    except ConcurrencyError:
        screen.state = container.trajectories.load(screen.pupil_id)
        return _render(
            screen,
            request,
            container,
            status=409,
            values=values,
            changed=changed_by(container, screen.pupil_id),
        )
    except DomainError as error:
        names = {f.name for f in screen.form.fields}
        message = sentence(error.message)
        if error.field in names:
            return _render(
                screen,
                request,
                container,
                status=422,
                values=values,
                errors={str(error.field): message},
            )
        return _render(screen, request, container, status=422, values=values, form_error=message)
    return RedirectResponse(f"/leerlingen/{screen.pupil_id}?gedaan={key}", status_code=303)
