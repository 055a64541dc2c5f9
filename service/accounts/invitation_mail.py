"""The invitation e-mail (Dutch): the one-time link with which a new or reset account chooses
its password.

It is sent at once, through the configured mailer (`.eml` files by default, SMTP when set), not
through the outbox: an outbox row would keep the link's secret in the database, where only its
hash may be. When sending fails the account stays as it is and the page says so; "Nieuwe link
sturen" tries again with a fresh link.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from service.accounts.accounts import Invited
from service.outbox.mail import Mailer

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SUBJECT = "Uw account voor Adviestraject groep 8"
SUBJECT_RESET = "Nieuwe link voor Adviestraject groep 8"


def invitation_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/uitnodiging/{token}"


def local_time(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")


def invitation_body(
    invited: Invited,
    *,
    by: str,
    where: Sequence[str],
    public_url: str,
    reset: bool,
) -> str:
    who = invited.principal
    place = f" bij {', '.join(where)}" if where else ""
    if reset:
        opening = (
            f"{by} heeft een nieuwe link voor uw account in Adviestraject groep 8 gevraagd. "
            "Uw oude wachtwoord en eerdere links werken niet meer."
        )
    else:
        opening = (
            f"{by} heeft een account voor u gemaakt in Adviestraject groep 8, "
            f"als {who.role.label}{place}."
        )
    return (
        f"Beste {who.name},\n\n"
        f"{opening}\n\n"
        "Kies uw wachtwoord via deze link:\n\n"
        f"{invitation_link(public_url, invited.token)}\n\n"
        f"De link werkt één keer en is geldig tot {local_time(invited.expires_at)}. "
        f"Daarna logt u in met uw e-mailadres {who.email} en dat wachtwoord.\n\n"
        "Verwachtte u deze e-mail niet? Dan kunt u hem negeren: zonder de link kan niemand "
        "een wachtwoord voor dit account kiezen.\n\n"
        "Met vriendelijke groet,\nAdviestraject groep 8\n"
    )


def send_invitation(
    mailer: Mailer,
    invited: Invited,
    *,
    by: str,
    where: Sequence[str],
    public_url: str,
    reset: bool = False,
) -> None:
    """One e-mail per link (the message id is the link's id, so sending one link twice
    leaves one e-mail)."""
    body = invitation_body(invited, by=by, where=where, public_url=public_url, reset=reset)
    message_id = f"uitnodiging-{invited.invitation_id}"
    mailer.send(message_id, invited.principal.email, SUBJECT_RESET if reset else SUBJECT, body)
