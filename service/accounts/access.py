"""Who may see and change a pupil's trajectory: the role decides what, the scope decides where.

A teacher works with the pupils of their own classes, intern begeleider and directie with the
whole school, the board reads (never writes) at its schools; beheer and test providers do not
see pupils through these routes. Routes answer 404 to someone who may not see a pupil, so that
its existence does not leak, and 403 to someone who sees it but may not change it.
"""

from __future__ import annotations

from service.accounts.roles import Principal, Role

READERS = frozenset({Role.LEERKRACHT, Role.IB, Role.DIRECTIE, Role.BESTUUR})
WRITERS = frozenset({Role.LEERKRACHT, Role.IB, Role.DIRECTIE})


def sees_pupil(who: Principal, school_id: str, class_name: str) -> bool:
    if who.role not in READERS:
        return False
    if who.role is Role.LEERKRACHT:
        return bool(class_name) and any(
            s.school_id == school_id and s.class_name == class_name for s in who.scopes
        )
    return school_id in who.school_ids


def changes_pupil(who: Principal, school_id: str, class_name: str) -> bool:
    return who.role in WRITERS and sees_pupil(who, school_id, class_name)


def sees_school(who: Principal, school_id: str) -> bool:
    return who.role in READERS and school_id in who.school_ids


def visible_classes(who: Principal, school_id: str) -> frozenset[str] | None:
    """The classes of a school whose pupils `who` sees; None: every class."""
    if who.role is Role.LEERKRACHT:
        return frozenset(s.class_name for s in who.scopes if s.school_id == school_id)
    return None
