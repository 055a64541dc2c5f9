"""`/instellingen`: a school's settings per school year, changed by directie, read by the IB.

The page shows the policy in force for the school and year (and where it comes from: the year's
own settings, carried over from an earlier year, or the legal minimum), the legal warnings of
`check_cycle` beside the conversation rounds, and every change (who, when, what). Directie gets
a form: the heroverweging conversation, the rounds (name, kind, groep, first and last day), the
test window, who gets the heroverweging notice, and how the talks are held (the heroverweging
talk and each round's: length, who attends, with the pupil, on site or online, the margin before
the deadline, the days parents have to answer, the reminder, separate talks for separated
parents); "Sjabloon: De Brandaris" and the other seed
schools fill in their rounds (shown, not stored, until directie saves); "Nog een ronde" adds an
empty row. The intern begeleider and the board read the same page without the form; a teacher
or beheer is refused (403), a school outside one's own is not found (404).

Every POST checks the session's CSRF token. Bad input: 422, the form back with each Dutch error
beside its field, nothing stored. A form loaded before someone else saved: 409, "intussen
gewijzigd door <naam>" with the fresh settings, nothing overwritten. A save is one event on the
school's settings stream (`SchoolPolicies.change`) and the next decision follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.schools.policies import SchoolSettings, SettingsStaleError
from service.schools.register import School
from service.web.pages import message_page, page, session_of, tokens_match
from workflows.calendar import SchoolYear
from workflows.cycles import RoundKind, Severity
from workflows.errors import DomainError
from workflows.policy import Attendee, Notice, SchoolPolicy, TalkSettings
from workflows.settings import (
    MAX_ROUNDS,
    RECONSIDERATION_TALK,
    TEMPLATES,
    InForce,
    RecipientsInput,
    RoundInput,
    SettingsInput,
    SettingsInvalidError,
    describe_recipients,
    describe_window,
    legal_warnings,
    notice_field,
    parse_settings,
    round_field,
    round_input,
    round_talk,
    template_policy,
)
from workflows.talk_settings import TalkInput, describe_talk, talk_field, talk_input

router = APIRouter(include_in_schema=False)

PATH = "/instellingen"
EDITORS = frozenset({Role.DIRECTIE})
READERS = frozenset({Role.DIRECTIE, Role.IB, Role.BESTUUR})
KINDS = [(k.value, k.label) for k in RoundKind]
GROEPEN = [("7", "groep 7"), ("8", "groep 8")]
TEMPLATE_OPTIONS = [(key, f"Sjabloon: {cycle.school}") for key, cycle in TEMPLATES.items()]
MESSAGES = {
    "opgeslagen": "De instellingen zijn opgeslagen. Vanaf nu volgt elke beslissing ze.",
    "ongewijzigd": "Er was niets gewijzigd; er is niets opgeslagen.",
}
MAX_FORM_ROWS = MAX_ROUNDS + 5
ATTENDEES = [(a.value, a.label) for a in Attendee]
PLACES = [("school", "Op school"), ("online", "Online, met een videolink")]


@dataclass
class FormState:
    """What the form shows: the values as typed (or as stored), with errors per field."""

    conversation_required: bool
    rounds: list[RoundInput]
    notices: dict[str, RecipientsInput]
    test_first: str = ""
    test_last: str = ""
    reconsideration_talk: TalkInput = field(default_factory=TalkInput)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: SchoolPolicy, year: SchoolYear) -> FormState:
        window = policy.test_windows.get(year)
        return cls(
            conversation_required=policy.conversation_required,
            rounds=[round_input(r) for r in policy.rounds] + [RoundInput()],  # room for one
            notices={
                n.value: RecipientsInput(
                    policy.recipients(n).class_teachers,
                    policy.recipients(n).ib,
                    policy.recipients(n).directie,
                    "\n".join(policy.recipients(n).extra),
                )
                for n in Notice
            },
            test_first=window.first.isoformat() if window else "",
            test_last=window.last.isoformat() if window else "",
            reconsideration_talk=talk_input(policy.reconsideration_talk),
        )

    def given(self) -> SettingsInput:
        return SettingsInput(
            conversation_required=self.conversation_required,
            rounds=self.rounds,
            notices={Notice(k): v for k, v in self.notices.items()},
            test_first=self.test_first,
            test_last=self.test_last,
            reconsideration_talk=self.reconsideration_talk,
        )


def _talk_state(form: FormData, prefix: str) -> TalkInput | None:
    """One talk block as posted; None when the form had no such block (a form of before)."""

    def text(name: str) -> str:
        value = form.get(talk_field(prefix, name), "")
        return value[:20] if isinstance(value, str) else ""

    if talk_field(prefix, "minutes") not in form:
        return None
    attendees = form.getlist(talk_field(prefix, "attendees"))[: len(Attendee) + 2]
    return TalkInput(
        minutes=text("minutes"),
        attendees=frozenset(a[:40] for a in attendees if isinstance(a, str)),
        with_pupil=bool(text("with_pupil")),
        online=text("place") == "online",
        margin_working_days=text("margin_working_days"),
        answer_within_days=text("answer_within_days"),
        reminder_days_before=text("reminder_days_before"),
        separate_parents=bool(text("separate_parents")),
    )


def _form_state(form: FormData, in_force: SchoolPolicy) -> FormState:
    def text(name: str, limit: int = 200) -> str:
        value = form.get(name, "")
        return value[:limit] if isinstance(value, str) else ""

    stored_talks = {r.name: r.talk for r in in_force.rounds}

    rounds = []
    for index in range(MAX_FORM_ROWS):
        if text(round_field(index, "remove")):
            continue
        entry = RoundInput(
            text(round_field(index, "name")),
            text(round_field(index, "kind")),
            text(round_field(index, "groep")),
            text(round_field(index, "first")),
            text(round_field(index, "last")),
            _talk_state(form, round_talk(index)),
        )
        if entry.talk is None:  # a form without the block keeps the round's stored talks
            kept = stored_talks.get(" ".join(entry.name.split()), TalkSettings())
            entry = replace(entry, talk=None if kept == TalkSettings() else talk_input(kept))
        if not entry.blank:
            rounds.append(entry)
    return FormState(
        conversation_required=text("conversation_required") == "ja",
        rounds=rounds,
        notices={
            n.value: RecipientsInput(
                bool(text(notice_field(n, "class_teachers"))),
                bool(text(notice_field(n, "ib"))),
                bool(text(notice_field(n, "directie"))),
                text(notice_field(n, "extra"), 4000),
            )
            for n in Notice
        },
        test_first=text("test_first"),
        test_last=text("test_last"),
        reconsideration_talk=_talk_state(form, RECONSIDERATION_TALK)
        or talk_input(in_force.reconsideration_talk),
    )


def _schools(container: Container, who: Principal) -> list[School]:
    return sorted(
        (s for s in container.register.schools() if s.id in who.school_ids),
        key=lambda s: s.name,
    )


@dataclass(frozen=True)
class Where:
    session: SessionUser
    school: School
    schools: list[School]
    year: SchoolYear


def _where(
    container: Container, request: Request, school_id: str, year_text: str
) -> Where | Response:
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    if who.role not in READERS:
        return message_page(
            session,
            403,
            "Geen toegang",
            f"Als {who.role.label} ziet u de instellingen van de school niet; vraag de directie.",
        )
    schools = _schools(container, who)
    school = next((s for s in schools if s.id == school_id), None) if school_id else None
    if school is None and school_id:
        return message_page(session, 404, "Niet gevonden", "Deze school is niet gevonden.")
    if school is None:
        if not schools:
            return message_page(session, 404, "Niet gevonden", "U werkt niet op een school.")
        school = schools[0]
    year = SchoolYear.containing(container.clock().date())
    if year_text:
        try:
            year = SchoolYear.parse(year_text)
        except DomainError as error:
            return message_page(session, 404, "Niet gevonden", error.message)
    return Where(session, school, schools, year)


def _render(
    container: Container,
    where: Where,
    settings: SchoolSettings,
    *,
    state: FormState | None = None,
    status: int = 200,
    notice: str = "",
    stale_by: str = "",
    error: str = "",
) -> HTMLResponse:
    who = where.session.principal
    in_force: InForce = settings.in_force(where.year)
    shown = state or FormState.of(in_force.policy, where.year)
    # the warnings of what the form shows (a template or typed rounds once they parse)
    warned = in_force.policy
    if state is not None:
        try:
            warned = parse_settings(state.given(), where.year)
        except SettingsInvalidError:
            warned = in_force.policy
    warnings = legal_warnings(warned, where.year, where.school.name)
    by_round: dict[str, list[Any]] = {}
    general = []
    for issue in warnings:
        if issue.round_name:
            by_round.setdefault(issue.round_name, []).append(issue)
        else:
            general.append(issue)
    current = SchoolYear.containing(container.clock().date())
    years = sorted({where.year, *(SchoolYear(current.start_year + d) for d in (-1, 0, 1))})
    policy = in_force.policy
    if in_force.set_in == where.year:
        source = f"eigen instellingen voor {where.year}"
    elif in_force.set_in is not None:
        source = (
            f"overgenomen uit {in_force.set_in} (voor {where.year} is nog niets apart ingesteld)"
        )
    else:
        source = "nog niets ingesteld: het wettelijk minimum met de standaardkeuzes"
    return page(
        "s_settings.html",
        status,
        who=who,
        csrf_token=where.session.csrf_token,
        active=PATH,
        school_label=f"{where.school.brin} {where.school.name}",
        school=where.school,
        schools=where.schools,
        year=where.year,
        school_options=[(s.id, f"{s.name} ({s.brin})") for s in where.schools],
        year_options=[(str(y), str(y)) for y in years],
        source_text=source,
        test_window_text=describe_window(policy.test_windows.get(where.year)),
        notice_facts=[
            (f"Bericht “{n.label}” aan", describe_recipients(policy.recipients(n))) for n in Notice
        ],
        in_force=in_force,
        settings=settings,
        may_edit=who.role in EDITORS,
        form=shown,
        kinds=KINDS,
        groepen=GROEPEN,
        templates=TEMPLATE_OPTIONS,
        notices=list(Notice),
        warnings_by_round=by_round,
        general_warnings=general,
        error_severity=Severity.ERROR,
        history=list(reversed(settings.history.changes)),
        notice=notice,
        stale_by=stale_by,
        error=error,
        round_field=round_field,
        notice_field=notice_field,
        talk_field=talk_field,
        round_talk=round_talk,
        reconsideration_prefix=RECONSIDERATION_TALK,
        attendee_options=ATTENDEES,
        places=PLACES,
        default_talk=TalkInput(),
        describe_talk=describe_talk,
    )


@router.get(PATH, response_class=HTMLResponse)
def settings_page(
    request: Request, container: ContainerDep, school: str = "", jaar: str = "", bericht: str = ""
) -> Response:
    where = _where(container, request, school[:64], jaar[:20])
    if not isinstance(where, Where):
        return where
    settings = container.policies.settings(where.school.id, fresh=True)
    return _render(container, where, settings, notice=MESSAGES.get(bericht, ""))


@router.post(PATH, response_class=HTMLResponse)
async def change_settings_page(request: Request, container: ContainerDep) -> Response:
    form = await request.form()
    return await run_in_threadpool(_post, container, request, form)


def _post(container: Container, request: Request, form: FormData) -> Response:
    def text(name: str) -> str:
        value = form.get(name, "")
        return value[:100] if isinstance(value, str) else ""

    where = _where(container, request, text("school"), text("jaar"))
    if not isinstance(where, Where):
        return where
    session = where.session
    if not tokens_match(session.csrf_token, text("csrf_token")):
        return message_page(
            session,
            403,
            "Verzoek geweigerd",
            "Het formulier was verlopen of kwam niet van deze website. Open de pagina opnieuw en "
            "probeer het nog eens.",
        )
    who = session.principal
    if who.role not in EDITORS:
        return message_page(
            session,
            403,
            "Geen toegang",
            f"Als {who.role.label} kunt u de instellingen lezen, niet wijzigen; "
            "dat doet de directie.",
        )
    settings = container.policies.settings(where.school.id, fresh=True)
    state = _form_state(form, settings.in_force(where.year).policy)
    action = text("action")
    if action == "sjabloon":
        key = text("template")
        in_force = settings.in_force(where.year).policy
        if key not in TEMPLATES:
            state = FormState.of(in_force, where.year)
            state.errors["template"] = "kies een sjabloon"
            return _render(container, where, settings, state=state, status=422)
        filled = FormState.of(template_policy(key, in_force), where.year)
        filled.rounds.append(RoundInput())
        return _render(
            container,
            where,
            settings,
            state=filled,
            notice=f"De rondes van {TEMPLATES[key].school} zijn ingevuld. Pas ze aan waar nodig "
            "en klik op Opslaan; tot dan is er niets veranderd.",
        )
    try:
        version = int(text("version"))
    except ValueError:
        version = -1
    try:
        policy = parse_settings(state.given(), where.year)
    except SettingsInvalidError as invalid:
        state.errors = invalid.by_field()
        state.rounds.append(RoundInput())
        return _render(
            container,
            where,
            settings,
            state=state,
            status=422,
            error="Er is niets opgeslagen. Verbeter wat bij de velden staat en probeer het "
            "opnieuw.",
        )
    try:
        changed = container.policies.change(
            where.school.id,
            where.year,
            policy,
            user_id=who.user_id,
            user_name=who.name,
            role=who.role.value,
            expected_version=version,
            request_id=getattr(request.state, "request_id", None),
        )
    except SettingsStaleError as stale:
        return _render(
            container,
            where,
            stale.fresh,
            status=409,
            stale_by=stale.fresh.last_changed_by or "een ander",
        )
    query = f"?school={where.school.id}&jaar={where.year}"
    outcome = "opgeslagen" if changed is not None else "ongewijzigd"
    return RedirectResponse(f"{PATH}{query}&bericht={outcome}", status_code=303)
