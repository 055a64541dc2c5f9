"""The two advice scales: the schooladvies the school gives and the toetsadvies the test gives.

`SchoolAdvice` holds every value of DUO's list (`Schooladviestype_enum` in the Doorstroomtoetsketen
standard); `TestAdvice` the six categories every test provider uses since 2018-19. Both sit on one
half-step scale (counted here in whole half-steps, 0..10, so no floats are compared) so that a
combined advice sorts between its parts. The one rule that says whether a toetsadvies is higher
than a schooladvies lives in `compare` and nowhere else. Parsing accepts the spellings schools and
providers really use and names precisely what is wrong with anything else.
"""

from __future__ import annotations

import re
from enum import Enum, IntEnum

from workflows.errors import DomainError


class Track(IntEnum):
    """One type of secondary education, by its position on the scale (in whole steps)."""

    PRO = 0
    VMBO_BB = 1
    VMBO_KB = 2
    VMBO_GT = 3
    HAVO = 4
    VWO = 5


_TRACK_LABELS = {
    Track.PRO: "pro",
    Track.VMBO_BB: "vmbo-bb",
    Track.VMBO_KB: "vmbo-kb",
    Track.VMBO_GT: "vmbo-gt",
    Track.HAVO: "havo",
    Track.VWO: "vwo",
}


class SchoolAdvice(Enum):
    """A schooladvies, valued exactly as DUO's `Schooladviestype_enum`."""

    VSO = "VSO"
    PRAKTIJKONDERWIJS = "PRAKTIJKONDERWIJS"
    VMBO_BB = "VMBO_BB"
    VMBO_BB_MET_LWOO = "VMBO_BB_MET_LWOO"
    VMBO_BB_TM_VMBO_KB = "VMBO_BB_TM_VMBO_KB"
    VMBO_BB_TM_VMBO_KB_MET_LWOO = "VMBO_BB_TM_VMBO_KB_MET_LWOO"
    VMBO_KB = "VMBO_KB"
    VMBO_KB_MET_LWOO = "VMBO_KB_MET_LWOO"
    VMBO_KB_TM_VMBO_GLTL = "VMBO_KB_TM_VMBO_GL/TL"
    VMBO_KB_TM_VMBO_GLTL_MET_LWOO = "VMBO_KB_TM_VMBO_GL/TL_MET_LWOO"
    VMBO_GLTL = "VMBO_GL/TL"
    VMBO_GLTL_MET_LWOO = "VMBO_GL/TL_MET_LWOO"
    VMBO_GLTL_TM_HAVO = "VMBO_GL/TL_TM_HAVO"
    HAVO = "HAVO"
    HAVO_TM_VWO = "HAVO_TM_VWO"
    VWO = "VWO"
    GEEN_SPECIFIEK_ADVIES_MOGELIJK = "GEEN_SPECIFIEK_ADVIES_MOGELIJK"

    @property
    def tracks(self) -> tuple[Track, ...]:
        """The one or two adjacent tracks this advice names; empty for VSO and 'geen advies'."""
        return _SCHOOL_TRACKS[self][0]

    @property
    def lwoo(self) -> bool:
        return _SCHOOL_TRACKS[self][1]

    @property
    def half_steps(self) -> int | None:
        """Position on the half-step scale (0..10), or None for advices outside the scale."""
        tracks = self.tracks
        return sum(tracks) * 2 // len(tracks) if tracks else None

    @property
    def label(self) -> str:
        """The usual Dutch spelling, as shown to teachers and parents."""
        if self is SchoolAdvice.VSO:
            return "vso"
        if self is SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK:
            return "geen specifiek advies mogelijk"
        text = "/".join(_TRACK_LABELS[t] for t in self.tracks)
        return f"{text} met lwoo" if self.lwoo else text

    @classmethod
    def of(cls, tracks: tuple[Track, ...], *, lwoo: bool = False) -> SchoolAdvice:
        """The DUO value for these tracks, or a DomainError when DUO's list has no such value."""
        key = (tuple(sorted(tracks)), lwoo)
        try:
            return _SCHOOL_BY_TRACKS[key]
        except KeyError:
            names = "/".join(_TRACK_LABELS[t] for t in key[0])
            if lwoo and (key[0], False) in _SCHOOL_BY_TRACKS:
                raise DomainError(
                    "advice_lwoo_not_allowed",
                    f"lwoo bestaat alleen bij vmbo-adviezen, niet bij {names}",
                ) from None
            raise DomainError(
                "advice_combination_not_allowed",
                f"{names} is geen toegestane combinatie (alleen twee aangrenzende "
                "schooltypen uit de DUO-lijst)",
            ) from None


_SCHOOL_TRACKS: dict[SchoolAdvice, tuple[tuple[Track, ...], bool]] = {
    SchoolAdvice.VSO: ((), False),
    SchoolAdvice.PRAKTIJKONDERWIJS: ((Track.PRO,), False),
    SchoolAdvice.VMBO_BB: ((Track.VMBO_BB,), False),
    SchoolAdvice.VMBO_BB_MET_LWOO: ((Track.VMBO_BB,), True),
    SchoolAdvice.VMBO_BB_TM_VMBO_KB: ((Track.VMBO_BB, Track.VMBO_KB), False),
    SchoolAdvice.VMBO_BB_TM_VMBO_KB_MET_LWOO: ((Track.VMBO_BB, Track.VMBO_KB), True),
    SchoolAdvice.VMBO_KB: ((Track.VMBO_KB,), False),
    SchoolAdvice.VMBO_KB_MET_LWOO: ((Track.VMBO_KB,), True),
    SchoolAdvice.VMBO_KB_TM_VMBO_GLTL: ((Track.VMBO_KB, Track.VMBO_GT), False),
    SchoolAdvice.VMBO_KB_TM_VMBO_GLTL_MET_LWOO: ((Track.VMBO_KB, Track.VMBO_GT), True),
    SchoolAdvice.VMBO_GLTL: ((Track.VMBO_GT,), False),
    SchoolAdvice.VMBO_GLTL_MET_LWOO: ((Track.VMBO_GT,), True),
    SchoolAdvice.VMBO_GLTL_TM_HAVO: ((Track.VMBO_GT, Track.HAVO), False),
    SchoolAdvice.HAVO: ((Track.HAVO,), False),
    SchoolAdvice.HAVO_TM_VWO: ((Track.HAVO, Track.VWO), False),
    SchoolAdvice.VWO: ((Track.VWO,), False),
    SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK: ((), False),
}
_SCHOOL_BY_TRACKS = {v: k for k, v in _SCHOOL_TRACKS.items() if v[0]}


class TestAdvice(Enum):
    """A toetsadvies: one of the six categories of every doorstroomtoets."""

    __test__ = False  # not a pytest test class, despite its name

    PRO_VMBO_BB = "pro/vmbo-bb"
    VMBO_BB_VMBO_KB = "vmbo-bb/vmbo-kb"
    VMBO_KB_VMBO_GLTL = "vmbo-kb/vmbo-gl-tl"
    VMBO_GLTL_HAVO = "vmbo-gl-tl/havo"
    HAVO_VWO = "havo/vwo"
    VWO = "vwo"

    @property
    def tracks(self) -> tuple[Track, ...]:
        return _TEST_TRACKS[self]

    @property
    def half_steps(self) -> int:
        tracks = self.tracks
        return sum(tracks) * 2 // len(tracks)

    @property
    def label(self) -> str:
        """As shown to teachers, parents and in the reports: the tracks spelled as in a
        schooladvies (`_TRACK_LABELS`: "vmbo-gt/havo", not the category's "vmbo-gl-tl/havo")."""
        return "/".join(_TRACK_LABELS[t] for t in self.tracks)


_TEST_TRACKS: dict[TestAdvice, tuple[Track, ...]] = {
    TestAdvice.PRO_VMBO_BB: (Track.PRO, Track.VMBO_BB),
    TestAdvice.VMBO_BB_VMBO_KB: (Track.VMBO_BB, Track.VMBO_KB),
    TestAdvice.VMBO_KB_VMBO_GLTL: (Track.VMBO_KB, Track.VMBO_GT),
    TestAdvice.VMBO_GLTL_HAVO: (Track.VMBO_GT, Track.HAVO),
    TestAdvice.HAVO_VWO: (Track.HAVO, Track.VWO),
    TestAdvice.VWO: (Track.VWO,),
}
_TEST_BY_TRACKS = {v: k for k, v in _TEST_TRACKS.items()}


class Comparison(Enum):
    """How a toetsadvies stands against a schooladvies."""

    HIGHER = "higher"
    EQUAL = "equal"
    LOWER = "lower"
    NOT_COMPARABLE = "not_comparable"


def compare(test_advice: TestAdvice, school_advice: SchoolAdvice) -> Comparison:
    """Whether the toetsadvies is higher than, equal to or lower than the schooladvies.

    Higher exactly when its half-step is greater, except that pro/vmbo-bb is not higher than a pro
    advice (it is the test's lowest category). VSO and 'geen specifiek advies mogelijk' are off the
    scale: never compared, a human decides.
    """
    school = school_advice.half_steps
    if school is None:
        return Comparison.NOT_COMPARABLE
    test = test_advice.half_steps
    if school_advice is SchoolAdvice.PRAKTIJKONDERWIJS and test_advice is TestAdvice.PRO_VMBO_BB:
        return Comparison.EQUAL
    if test > school:
        return Comparison.HIGHER
    return Comparison.EQUAL if test == school else Comparison.LOWER


# --- parsing ---------------------------------------------------------------------------------

_TOKEN_TRACKS = {
    "pro": Track.PRO,
    "praktijkonderwijs": Track.PRO,
    "bb": Track.VMBO_BB,
    "b": Track.VMBO_BB,
    "basis": Track.VMBO_BB,
    "basisberoepsgericht": Track.VMBO_BB,
    "basisberoepsgerichte": Track.VMBO_BB,
    "kb": Track.VMBO_KB,
    "k": Track.VMBO_KB,
    "kader": Track.VMBO_KB,
    "kaderberoepsgericht": Track.VMBO_KB,
    "kaderberoepsgerichte": Track.VMBO_KB,
    "gt": Track.VMBO_GT,
    "gl": Track.VMBO_GT,
    "tl": Track.VMBO_GT,
    "g": Track.VMBO_GT,
    "t": Track.VMBO_GT,
    "mavo": Track.VMBO_GT,
    "theoretisch": Track.VMBO_GT,
    "theoretische": Track.VMBO_GT,
    "gemengd": Track.VMBO_GT,
    "gemengde": Track.VMBO_GT,
    "havo": Track.HAVO,
    "vwo": Track.VWO,
    "atheneum": Track.VWO,
    "gymnasium": Track.VWO,
}
# Words that join or decorate the track names without naming one.
_FILLER = {"tm", "tot", "en", "met", "leerweg", "lwoo", "advies", "vmbo"}
_OFF_SCALE = {
    "vso": SchoolAdvice.VSO,
    "voortgezet speciaal onderwijs": SchoolAdvice.VSO,
    "geen specifiek advies mogelijk": SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK,
    "geen_specifiek_advies_mogelijk": SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK,
    "geen advies mogelijk": SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK,
}


def _tokenize(text: str) -> tuple[tuple[Track, ...], bool]:
    """Tracks named in `text` (sorted, de-duplicated) and whether lwoo is mentioned."""
    s = text.strip().lower()
    if not s:
        raise DomainError("advice_empty", "er is geen advies ingevuld")
    # "gl/tl", "gl-tl", "(g)t" and friends name one track; "t/m" joins two.
    s = re.sub(r"g\s*l\s*[/_-]\s*t\s*l|\(g\)\s*t|g\s*/\s*t\b", " gt ", s)
    s = re.sub(r"\bt\s*/\s*m\b|\btot\s+en\s+met\b", " tm ", s)
    words = [w for w in re.split(r"[^a-z]+", s) if w]
    lwoo = "lwoo" in words
    tracks: list[Track] = []
    for word in words:
        if word in _FILLER:
            continue
        track = _TOKEN_TRACKS.get(word)
        if track is None:
            raise DomainError("advice_unknown", f"'{text.strip()}' is geen bekend advies")
        if track not in tracks:
            tracks.append(track)
    if not tracks:
        raise DomainError("advice_unknown", f"'{text.strip()}' is geen bekend advies")
    tracks.sort()
    if len(tracks) > 2:
        raise DomainError(
            "advice_too_many_types",
            f"'{text.strip()}' noemt {len(tracks)} schooltypen; een advies noemt er één of twee",
        )
    if len(tracks) == 2 and tracks[1] - tracks[0] != 1:
        raise DomainError(
            "advice_types_not_adjacent",
            f"'{text.strip()}' noemt twee schooltypen die niet aan elkaar grenzen",
        )
    return tuple(tracks), lwoo


def parse_school_advice(text: str) -> SchoolAdvice:
    """Read a schooladvies in any common spelling: `HAVO_TM_VWO`, `havo/vwo`, `vmbo-k met lwoo`."""
    stripped = text.strip()
    for advice in SchoolAdvice:
        if stripped.upper() == advice.value:
            return advice
    off_scale = _OFF_SCALE.get(re.sub(r"\s+", " ", stripped.lower()))
    if off_scale is not None:
        return off_scale
    tracks, lwoo = _tokenize(text)
    return SchoolAdvice.of(tracks, lwoo=lwoo)


def parse_test_advice(text: str) -> TestAdvice:
    """Read a toetsadvies as providers send it (`havo/vwo`, `vmbo-gt/havo`, `VWO`, ...)."""
    tracks, lwoo = _tokenize(text)
    if lwoo:
        raise DomainError("test_advice_unknown", f"'{text.strip()}' is geen toetsadvies (lwoo)")
    found = _TEST_BY_TRACKS.get(tracks)
    if found is None:
        raise DomainError(
            "test_advice_unknown",
            f"'{text.strip()}' is geen van de zes toetsadviezen",
        )
    return found
