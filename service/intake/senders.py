"""Who posts a chain message, and for which school: one statement per request.

A chain request names its school by route (`edu-to`) and carries a machine client's token. The
token's account, the school the route names (with its OIN), and the account's mandate *at that
school only* (a national provider is mandated by thousands) come back in one round trip.
"""

from __future__ import annotations

from sqlalchemy import and_, select

from service.accounts.accounts import principal_from_rows, token_usable
from service.accounts.roles import Principal
from service.accounts.secrets import token_digest
from service.bootstrap import Container
from service.schools.register import School
from service.store.engine import single_statements
from service.store.schema import api_tokens, schools, user_schools, users


def chain_sender(
    container: Container, token: str, edu_route: str
) -> tuple[Principal | None, tuple[School, str | None] | None]:
    """(the token's principal, or None; the route's school and OIN, or None)."""
    mandate = and_(user_schools.c.user_id == users.c.id, user_schools.c.school_id == schools.c.id)
    query = (
        select(
            users,
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
            user_schools.c.school_id,
            user_schools.c.class_name,
            schools.c.id.label("route_school"),
            schools.c.brin.label("route_brin"),
            schools.c.name.label("route_name"),
            schools.c.oin.label("route_oin"),
        )
        .select_from(
            api_tokens.join(users, users.c.id == api_tokens.c.user_id)
            .outerjoin(schools, schools.c.edu_route == edu_route)
            .outerjoin(user_schools, mandate)
        )
        .where(api_tokens.c.token_hash == token_digest(token))
    )
    with single_statements(container.engine).connect() as conn:
        rows = conn.execute(query).all()
    if not rows or not token_usable(rows[0], container.clock()):
        return None, None
    first = rows[0]
    school = None
    if first.route_school is not None:
        school = (School(first.route_school, first.route_brin, first.route_name), first.route_oin)
    return principal_from_rows(rows), school
