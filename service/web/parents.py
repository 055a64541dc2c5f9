"""`/ouders/{token}`: the parents' page of one talk, opened from the link in their e-mail.

The token (`service.scheduling.tokens`) names one talk and one parent; the page shows that talk
only — the child's first name, when, where, who attends, what the parents answered — and lets
that parent say they come, decline, ask for another time (with the parts of the week they
cannot) or write their zienswijze before the talk. Everything goes through the talk's use cases
(`Container.talks`) as that parent. An unknown link is a 404, a replaced or expired one, or one
of a talk that was held or cancelled, a 410 with a Dutch page saying why. An accepted answer
redirects to the page (`?gedaan=<action>`, which says it was received). Forms carry a token
that must match a cookie set with the page (double submit, as the account invitation), and the
token in the address is kept out of the access log; pages send no Referer.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.scheduling.invitations import DUTCH, TalkDetails, dutch_date, talk_details
from service.scheduling.tokens import ParentTokens, TokenState, deadline_day
from service.shared.context import Actor
from service.web.pages import page, tokens_match
from workflows.conversations import MAX_TEXT, Period, TalkKind, TalkStatus
from workflows.errors import DomainError

router = APIRouter(include_in_schema=False)

_TOKEN_IN_PATH = re.compile(r"/ouders/[^/?\s\"]+")


class HideParentTokens(logging.Filter):
    """Writes `/ouders/…` instead of the link's token in uvicorn's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub("/ouders/…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


logging.getLogger("uvicorn.access").addFilter(HideParentTokens())

CSRF_COOKIE = "adviestraject_ouders_csrf"
Token = Annotated[str, Path(max_length=200)]
Text = Annotated[str, Form(max_length=MAX_TEXT * 2)]  # longer is refused beside the field
PARTS = {"ochtend": (time(8, 0), time(12, 0)), "middag": (time(12, 0), time(17, 0))}
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag")
MOMENTS = [(f"{day}-{part}", f"{day}{part}") for day in WEEKDAYS for part in PARTS]
MOMENTS_BY_VALUE = dict(MOMENTS)
_REFUSED = {
    "unknown": (
        404,
        "Deze link kennen wij niet",
        "Controleer of u de hele link uit de e-mail "
        "gebruikt. Klopt het niet, neem dan contact op met de school.",
    ),
    "replaced": (
        410,
        "Er is een nieuwere e-mail",
        "De school heeft u een nieuwere e-mail over "
        "dit gesprek gestuurd. Gebruik de link uit die e-mail.",
    ),
    "expired": (
        410,
        "Deze link is verlopen",
        "De link werkte tot en met de dag van de "
        "deadline. Neem contact op met de school als u nog iets wilt doorgeven.",
    ),
    "held": (
        410,
        "Het gesprek is gevoerd",
        "Dit gesprek heeft plaatsgevonden; via deze link "
        "kunt u niets meer doorgeven. Neem contact op met de school als u vragen heeft.",
    ),
    "cancelled": (
        410,
        "Het gesprek gaat niet door",
        "De school heeft dit gesprek afgezegd. "
        "Komt er een nieuwe afspraak, dan krijgt u daarover een nieuwe e-mail.",
    ),
}
_CONFIRMED = {
    "komen": "Dank u wel. De school weet dat u komt.",
    "afzien": "De school weet dat u afziet van het gesprek.",
    "ander-moment": "De school weet dat dit moment niet past en zoekt een ander moment. "
    "U krijgt daarover een nieuwe e-mail.",
    "zienswijze": "Dank u wel. Uw zienswijze is opgeslagen; de school leest die vóór het gesprek.",
}


def _secure(request: Request, container: Container) -> bool:
    return container.settings.environment == "production" or request.url.scheme == "https"


def _refused(state: str) -> HTMLResponse:
    status, heading, message = _REFUSED[state]
    return page("p_refused.html", status, heading=heading, message=message)


def _open(container: Container, token: str) -> tuple[TokenState, TalkDetails] | HTMLResponse:
    found = ParentTokens(container.engine, container.clock).check(token)
    if not found.open:
        return _refused(found.state)
    details = talk_details(container.engine, container.store, container.register, found.talk_id)
    if details is None or found.parent_id not in details.talk.requested.parents:
        return _refused("unknown")
    status = details.talk.status
    if status is TalkStatus.HELD:
        return _refused("held")
    if status is TalkStatus.CANCELLED:
        return _refused("cancelled")
    return found, details


def _page(
    request: Request,
    container: Container,
    token: str,
    found: TokenState,
    details: TalkDetails,
    *,
    status: int = 200,
    done: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    message: str = "",
) -> HTMLResponse:
    csrf = secrets.token_urlsafe(32)
    talk = details.talk
    response = page(
        "p_talk.html",
        status,
        details=details,
        talk=talk,
        parent_id=found.parent_id,
        accepted=found.parent_id in talk.accepted_by,
        reconsideration=details.kind is TalkKind.RECONSIDERATION,
        status_text=_status_text(details, found.parent_id),
        until=dutch_date(deadline_day(found.expires_at)) if found.expires_at else "",
        action=f"/ouders/{token}",
        csrf=csrf,
        done=_CONFIRMED.get(done, ""),
        errors=errors or {},
        values=values or {},
        message=message,
        moments=MOMENTS,
        max_text=MAX_TEXT,
        can=_allowed(talk.status, found.parent_id in talk.accepted_by),
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=3600,
        path="/ouders",
        httponly=True,
        samesite="strict",
        secure=_secure(request, container),
    )
    return response


def _allowed(status: TalkStatus, accepted: bool) -> dict[str, bool]:
    """The forms the page offers; in a joint talk the other parent may still say they come."""
    open_ = status in (TalkStatus.PROPOSED, TalkStatus.ACCEPTED, TalkStatus.OTHER_TIME_ASKED)
    return {
        "komen": status is TalkStatus.PROPOSED or (status is TalkStatus.ACCEPTED and not accepted),
        "ander-moment": status in (TalkStatus.PROPOSED, TalkStatus.ACCEPTED),
        "afzien": open_,
        "zienswijze": open_ or status is TalkStatus.REQUESTED,
    }


def _status_text(details: TalkDetails, parent_id: str) -> str:
    talk = details.talk
    if talk.status is TalkStatus.ACCEPTED:
        if parent_id in talk.accepted_by:
            return "U heeft laten weten dat u komt."
        return "Het gesprek is bevestigd."
    return {
        TalkStatus.REQUESTED: "De school zoekt een moment voor het gesprek.",
        TalkStatus.PROPOSED: "De school stelt dit moment voor. Laat weten of u komt.",
        TalkStatus.OTHER_TIME_ASKED: "Er is om een ander moment gevraagd; de school zoekt een "
        "nieuw moment.",
        TalkStatus.DECLINED: "De school heeft genoteerd dat u afziet van het gesprek.",
    }.get(talk.status, talk.status.label)


@router.get("/ouders/{token}", response_class=HTMLResponse)
def parents_page(token: Token, request: Request, container: ContainerDep) -> Response:
    opened = _open(container, token)
    if isinstance(opened, HTMLResponse):
        return opened
    done = request.query_params.get("gedaan", "")
    return _page(request, container, token, *opened, done=done if done in _CONFIRMED else "")


def unavailable_periods(chosen: list[str], now: datetime, until: datetime) -> tuple[Period, ...]:
    """The chosen parts of the week ("dinsdag-middag") on every such day from tomorrow up to
    `until` (the talk's deadline), as periods in Dutch time."""
    wanted = set(chosen)
    periods = []
    day: date = now.astimezone(DUTCH).date() + timedelta(days=1)
    last = deadline_day(until)
    while day <= last:
        if day.weekday() < len(WEEKDAYS):
            for part, (begin, end) in PARTS.items():
                if f"{WEEKDAYS[day.weekday()]}-{part}" in wanted:
                    periods.append(
                        Period(
                            start=datetime.combine(day, begin, tzinfo=DUTCH),
                            end=datetime.combine(day, end, tzinfo=DUTCH),
                        )
                    )
        day += timedelta(days=1)
    return tuple(periods)


@router.post("/ouders/{token}/{action}", response_class=HTMLResponse)
def parents_answer(
    token: Token,
    action: Annotated[str, Path(max_length=20)],
    request: Request,
    container: ContainerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    bericht: Text = "",
    zienswijze: Text = "",
    niet: Annotated[list[str] | None, Form(max_length=40)] = None,
    liefst: Annotated[list[str] | None, Form(max_length=40)] = None,
) -> Response:
    opened = _open(container, token)
    if isinstance(opened, HTMLResponse):
        return opened
    found, details = opened
    if action not in _CONFIRMED:
        return _refused("unknown")
    if not tokens_match(request.cookies.get(CSRF_COOKIE, ""), csrf_token):
        return _page(
            request,
            container,
            token,
            found,
            details,
            status=400,
            message="Het formulier was verlopen. Probeer het nog eens.",
        )
    chosen = [c for c in (niet or []) if c in dict(MOMENTS)]
    liked = [c for c in (liefst or []) if c in dict(MOMENTS)]
    values: dict[str, object] = {
        "bericht": bericht,
        "zienswijze": zienswijze,
        "niet": chosen,
        "liefst": liked,
        "actie": action,
    }
    problem = _problem(action, bericht, zienswijze, chosen, len(niet or [])) or _liked_problem(
        chosen, liked, len(liefst or [])
    )
    if problem:
        return _page(
            request, container, token, found, details, status=422, errors=problem, values=values
        )
    talks, talk_id, parent_id = container.talks, found.talk_id, found.parent_id
    parent = Actor(parent_id, "ouder")  # the talk's events say which parent answered
    message = bericht.strip() or None
    try:
        if action == "komen":
            talks.parents_accept(talk_id, parent_id, parent)
        elif action == "afzien":
            talks.parents_decline(talk_id, parent_id, message, parent)
        elif action == "ander-moment":
            until = details.talk.requested.deadline
            periods = unavailable_periods(chosen, container.clock(), until)
            preferred = unavailable_periods(liked, container.clock(), until)
            talks.parents_other_time(talk_id, parent_id, message, periods, preferred, parent)
        else:
            talks.parents_view(talk_id, parent_id, zienswijze.strip(), parent)
    except DomainError as error:
        field = {"message": "bericht", "text": "zienswijze"}.get(error.field or "", "")
        return _page(
            request,
            container,
            token,
            found,
            details,
            status=422 if field else 409,
            errors={field: error.message} if field else {},
            message="" if field else error.message[0].upper() + error.message[1:] + ".",
            values=values,
        )
    # Post/Redirect/Get: the page that says it was received is a GET, so reloading it does
    # not send the answer again
    return RedirectResponse(f"/ouders/{token}?gedaan={action}", status_code=303)


def _liked_problem(unavailable: list[str], liked: list[str], sent: int) -> dict[str, str]:
    """The parts of the week the parents prefer: only those offered, none they also cannot."""
    if sent != len(liked):
        return {"liefst": "Kies alleen uit de genoemde dagdelen."}
    both = [MOMENTS_BY_VALUE[c] for c in liked if c in unavailable]
    if both:
        return {"liefst": f"U kunt niet op {', '.join(both)}; kies daar niet ook 'liefst'."}
    return {}


def _problem(action: str, message: str, view: str, chosen: list[str], sent: int) -> dict[str, str]:
    too_long = f"Schrijf ten hoogste {MAX_TEXT} tekens."
    if len(message) > MAX_TEXT:
        return {"bericht": too_long}
    if action == "zienswijze":
        if not view.strip():
            return {"zienswijze": "Schrijf uw zienswijze voordat u die verstuurt."}
        if len(view) > MAX_TEXT:
            return {"zienswijze": too_long}
    if action == "ander-moment":
        if sent != len(chosen):
            return {"niet": "Kies alleen uit de genoemde dagdelen."}
        if not chosen and not message.strip():
            return {
                "niet": "Kies de dagdelen waarop u niet kunt, of schrijf in het bericht wat "
                "wel past."
            }
    return {}
