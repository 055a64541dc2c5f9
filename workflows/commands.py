"""What a teacher, the school or a system asks of a pupil's trajectory, in the imperative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflows.scale import SchoolAdvice


@dataclass(frozen=True, kw_only=True)
class EnrolPupil:
    school_id: str
    school_year: str
    groep: int
    enrolled_on: date


@dataclass(frozen=True, kw_only=True)
class GiveProvisionalAdvice:
    advice: SchoolAdvice
    given_on: date


Command = EnrolPupil | GiveProvisionalAdvice
