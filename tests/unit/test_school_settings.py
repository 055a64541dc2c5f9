"""A school's settings in the domain: the form's text checked with Dutch errors per field, a
change as an event naming what changed, the history folded per school year (carried over to a
later year, the legal minimum when nothing was set), the seed schools as templates, and the
legal warnings beside the rounds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from workflows.calendar import DateWindow, SchoolYear
from workflows.cycles import SEED_CYCLES, RoundKind, Severity
from workflows.policy import Notice, Recipients, SchoolPolicy
from workflows.settings import (
    TEMPLATES,
    RecipientsInput,
    RoundInput,
    SettingsChanged,
    SettingsHistory,
    SettingsInput,
    SettingsInvalidError,
    change_settings,
    event_data,
    event_from_data,
    legal_warnings,
    parse_settings,
    round_input,
    template_policy,
)

YEAR = SchoolYear(2025)
NOW = datetime(2025, 9, 1, 10, tzinfo=UTC)
HEROVERWEGING = Notice.RECONSIDERATION_REQUIRED


def form(**overrides: object) -> SettingsInput:
    base: dict[str, object] = {
        "conversation_required": True,
        "rounds": [
            RoundInput("adviesgesprek groep 8", "provisional_advice", "8", "10-01", "31-01"),
            RoundInput("", "", "", "", ""),  # the form's empty row
        ],
        "notices": {HEROVERWEGING: RecipientsInput(True, True, False, "")},
    }
    base.update(overrides)
    return SettingsInput(**base)  # type: ignore[arg-type]


def errors_of(given: SettingsInput) -> dict[str, str]:
    with pytest.raises(SettingsInvalidError) as raised:
        parse_settings(given, YEAR)
    return raised.value.by_field()


def test_a_good_form_is_a_policy_and_an_empty_row_is_no_round() -> None:
    policy = parse_settings(
        form(
            conversation_required=False,
            notices={HEROVERWEGING: RecipientsInput(True, False, True, "groep8@school.nl")},
            test_first="2026-02-02",
            test_last="20-02-2026",
        ),
        YEAR,
    )
    assert policy.conversation_required is False
    assert [(r.name, r.kind, r.groep, str(r.first), str(r.last)) for r in policy.rounds] == [
        ("adviesgesprek groep 8", RoundKind.PROVISIONAL_ADVICE, 8, "10-01", "31-01")
    ]
    assert policy.recipients(HEROVERWEGING) == Recipients(
        class_teachers=True, ib=False, directie=True, extra=("groep8@school.nl",)
    )
    assert policy.calendar(YEAR).test_window == DateWindow(date(2026, 2, 2), date(2026, 2, 20))


def test_every_bad_field_gets_its_own_dutch_error() -> None:
    errors = errors_of(
        form(
            rounds=[
                RoundInput("", "provisional_advice", "8", "10-01", "31-01"),
                RoundInput("voortgang", "chat", "6", "31-02", "1 januari"),
                RoundInput("eind", "final_advice", "8", "20-03", "01-02"),
                RoundInput("schrikkel", "okr", "8", "29-02", "01-03"),
            ],
            notices={HEROVERWEGING: RecipientsInput(False, False, False, "juf@school, ib@x.nl")},
            test_first="2026-02-02",
        )
    )
    assert errors == {
        "rounds-0-name": "geef de ronde een naam",
        "rounds-1-kind": "kies wat voor gesprek het is",
        "rounds-1-groep": "kies groep 7 of groep 8",
        "rounds-1-first": "'31-02' is geen bestaande dag",
        "rounds-1-last": "'1 januari' is geen dag-maand; schrijf bijvoorbeeld 10-01",
        "rounds-2-last": "de laatste dag (01-02) ligt vóór de eerste (20-03) in het schooljaar "
        "(augustus t/m juli)",
        "rounds-3-first": "29 februari is er niet elk jaar; kies 28-02 of 01-03",
        "notice-reconsideration_required-extra": "'juf@school' is geen e-mailadres",
        "test_last": "vul beide dagen van de toetsperiode in, of geen van twee",
    }


def test_a_notice_nobody_gets_and_two_provisional_rounds_are_refused() -> None:
    errors = errors_of(
        form(
            rounds=[
                RoundInput("a", "provisional_advice", "8", "10-01", "20-01"),
                RoundInput("b", "provisional_advice", "8", "21-01", "31-01"),
            ],
            notices={HEROVERWEGING: RecipientsInput(False, False, False, " ")},
        )
    )
    assert errors["rounds-1-kind"].startswith("groep 8 heeft al een ronde voor het voorlopig")
    assert errors["notice-reconsideration_required-class_teachers"].startswith("kies wie")


def test_a_round_may_run_across_new_year_and_a_test_window_must_be_in_the_year() -> None:
    policy = parse_settings(
        form(rounds=[RoundInput("advies", "provisional_advice", "8", "01-12", "31-01")]), YEAR
    )
    assert policy.rounds[0].window(YEAR) == DateWindow(date(2025, 12, 1), date(2026, 1, 31))
    errors = errors_of(form(test_first="2025-02-01", test_last="2026-02-20"))
    assert errors == {"test_first": "de dag valt buiten schooljaar 2025-2026"}


def test_a_change_names_what_changed_before_and_after_and_no_change_is_none() -> None:
    old = SchoolPolicy()
    new = replace(old, conversation_required=False, rounds=SEED_CYCLES["de-brandaris"].rounds)
    event = change_settings(
        old,
        new,
        school_id="s1",
        year=YEAR,
        changed_by="u1",
        changed_by_name="Dirk Directeur",
        now=NOW,
    )
    assert event is not None
    assert [(c.label, c.before, c.after) for c in event.changes] == [
        ("Gesprek bij heroverweging verplicht", "ja", "nee"),
        (
            "Gespreksrondes",
            "geen eigen rondes",
            "voortgangsgesprek groep 7 met oriënterend advies (oriënterend advies, groep 7, "
            "01-02 t/m 31-03); doelengesprek groep 8 (doelengesprek, groep 8, 01-10 t/m 31-10); "
            "adviesgesprek groep 8 (voorlopig schooladvies, groep 8, 10-01 t/m 31-01)",
        ),
    ]
    same = change_settings(
        new, new, school_id="s1", year=YEAR, changed_by="u1", changed_by_name="D", now=NOW
    )
    assert same is None
    with pytest.raises(ValueError, match="timezone"):
        change_settings(
            old,
            new,
            school_id="s1",
            year=YEAR,
            changed_by="u",
            changed_by_name="D",
            now=datetime(2025, 9, 1),  # noqa: DTZ001 - the point of the test
        )


def test_the_event_survives_its_stored_form() -> None:
    policy = parse_settings(
        form(
            notices={HEROVERWEGING: RecipientsInput(False, True, False, "a@b.nl c@d.nl")},
            test_first="2026-02-02",
            test_last="2026-02-20",
        ),
        YEAR,
    )
    event = change_settings(
        SchoolPolicy(),
        policy,
        school_id="s1",
        year=YEAR,
        changed_by="u1",
        changed_by_name="Dirk",
        now=NOW,
    )
    assert event is not None
    back = event_from_data(event_data(event), "u1", "Dirk", NOW)
    assert back == event


def changed(year: SchoolYear, policy: SchoolPolicy) -> SettingsChanged:
    return SettingsChanged("s1", year, policy, (), "u1", "Dirk", NOW)


def test_history_per_year_carries_rounds_forward_but_not_a_test_window() -> None:
    assert SettingsHistory().policy_for(YEAR) == SchoolPolicy()
    assert SettingsHistory().in_force(YEAR).set_in is None
    window = {YEAR: DateWindow(date(2026, 2, 2), date(2026, 2, 20))}
    first = SchoolPolicy(conversation_required=False, test_windows=window)
    later = SchoolPolicy(conversation_required=True)
    history = SettingsHistory.of([changed(YEAR, first), changed(SchoolYear(2027), later)])
    assert history.policy_for(SchoolYear(2024)) == SchoolPolicy()
    assert history.policy_for(YEAR) == first
    carried = history.in_force(SchoolYear(2026))
    assert carried.set_in == YEAR
    assert carried.policy.conversation_required is False
    assert carried.policy.test_windows == {}
    assert history.policy_for(SchoolYear(2028)).conversation_required is True


def test_the_five_seed_schools_are_templates_with_their_legal_warnings() -> None:
    assert [c.school for c in TEMPLATES.values()] == [
        "De Brandaris",
        "De Duif",
        "Samen sterk",
        "Toermalijn",
        "De Bron",
    ]
    base = SchoolPolicy(conversation_required=False)
    toermalijn = template_policy("toermalijn", base)
    assert toermalijn.rounds == SEED_CYCLES["toermalijn"].rounds
    assert toermalijn.conversation_required is True
    assert legal_warnings(template_policy("de-brandaris", base), YEAR) == []
    warnings = legal_warnings(toermalijn, YEAR)
    assert [(w.code, w.severity) for w in warnings] == [
        ("provisional_round_too_early", Severity.ERROR),
        ("final_round_before_results", Severity.ERROR),
    ]
    assert warnings[0].message.startswith("het voorlopig advies valt vóór de wettelijke periode")
    nothing = legal_warnings(SchoolPolicy(), YEAR)
    assert [w.code for w in nothing] == ["no_provisional_round"]
    assert round_input(toermalijn.rounds[0]) == RoundInput(
        "startgesprek groep 8", "start", "8", "25-08", "30-09"
    )
