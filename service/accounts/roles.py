"""The roles of issue 5 and the scope each one works in.

A role says what kind of work someone does; the scope (schools, and for a teacher the classes
at a school) says where. Authorisation checks both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(Enum):
    LEERKRACHT = "leerkracht"  # own classes at own school
    IB = "ib"  # intern begeleider: the whole school
    DIRECTIE = "directie"  # the whole school; also audits
    BESTUUR = "bestuur"  # all schools of the board, read-only
    BEHEER = "beheer"  # users and settings
    TOETSAANBIEDER = "toetsaanbieder"  # results intake of the schools that mandated it

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def needs_school(self) -> bool:
        return self is not Role.BEHEER

    @property
    def needs_class(self) -> bool:
        return self is Role.LEERKRACHT


_LABELS = {
    Role.LEERKRACHT: "leerkracht",
    Role.IB: "intern begeleider",
    Role.DIRECTIE: "directie",
    Role.BESTUUR: "bestuur",
    Role.BEHEER: "beheer",
    Role.TOETSAANBIEDER: "toetsaanbieder",
}


@dataclass(frozen=True)
class Scope:
    school_id: str
    class_name: str = ""  # "" = the whole school


@dataclass(frozen=True)
class Principal:
    """An authenticated user as the rest of the service sees them."""

    user_id: str
    email: str
    name: str
    role: Role
    scopes: frozenset[Scope]

    @property
    def school_ids(self) -> frozenset[str]:
        return frozenset(scope.school_id for scope in self.scopes)
