"""How the talks are held, as directie sets them on /instellingen: the form's text becomes
`TalkSettings` or Dutch errors per field, a change is described for the history, and the stored
form reads back the same; settings stored before talks could be set load with the defaults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflows.calendar import SchoolYear
from workflows.cycles import ConversationRound, MonthDay, RoundKind
from workflows.policy import Attendee, Notice, SchoolPolicy, TalkSettings
from workflows.settings import (
    RecipientsInput,
    RoundInput,
    SettingsHistory,
    SettingsInput,
    SettingsInvalidError,
    change_settings,
    event_data,
    event_from_data,
    parse_settings,
    policy_data,
    policy_from_data,
    round_input,
)
from workflows.talk_settings import (
    FieldError,
    TalkInput,
    describe_talk,
    parse_talk,
    talk_data,
    talk_from_data,
    talk_input,
)

YEAR = SchoolYear(2025)
NOW = datetime(2025, 9, 15, 9, tzinfo=UTC)
NOTICES = {Notice.RECONSIDERATION_REQUIRED: RecipientsInput(class_teachers=True, ib=True)}
ADVICE_ROUND = RoundInput("adviesgesprek", "provisional_advice", "8", "10-01", "31-01")


def errors_of(given: TalkInput) -> dict[str, str]:
    errors: list[FieldError] = []
    assert parse_talk(given, "t", errors) is None
    return {e.field: e.message for e in errors}


def test_a_filled_in_block_becomes_the_talk_settings() -> None:
    errors: list[FieldError] = []
    talk = parse_talk(
        TalkInput(
            minutes=" 45 ",
            attendees=frozenset({"all_class_teachers", "ib"}),
            with_pupil=False,
            online=True,
            margin_working_days="2",
            answer_within_days="3",
            reminder_days_before="0",
            separate_parents=True,
        ),
        "t",
        errors,
    )
    assert errors == []
    assert talk == TalkSettings(
        minutes=45,
        attendees=frozenset({Attendee.ALL_CLASS_TEACHERS, Attendee.IB}),
        with_pupil=False,
        online=True,
        margin_working_days=2,
        answer_within_days=3,
        reminder_days_before=0,
        separate_parents=True,
    )


def test_the_untouched_block_gives_the_defaults() -> None:
    assert parse_talk(TalkInput(), "t", []) == TalkSettings()
    assert parse_talk(talk_input(TalkSettings()), "t", []) == TalkSettings()


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("", "vul de lengte van een gesprek in, in minuten (10 tot en met 120)"),
        ("een half uur", "'een half uur' is geen geheel getal; vul minuten in"),
        ("-5", "'-5' is geen geheel getal; vul minuten in"),
        ("5", "kies 10 tot en met 120 minuten; 5 kan niet"),
        ("121", "kies 10 tot en met 120 minuten; 121 kan niet"),
    ],
)
def test_a_length_outside_ten_to_a_hundred_and_twenty_minutes_is_refused_in_dutch(
    minutes: str, message: str
) -> None:
    assert errors_of(TalkInput(minutes=minutes)) == {"t-minutes": message}


def test_the_bounds_of_the_length_are_allowed() -> None:
    assert parse_talk(TalkInput(minutes="10"), "t", []) == TalkSettings(minutes=10)
    assert parse_talk(TalkInput(minutes="120"), "t", []) == TalkSettings(minutes=120)


def test_a_talk_without_anyone_of_the_school_is_refused() -> None:
    assert errors_of(TalkInput(attendees=frozenset())) == {
        "t-attendees": "kies wie van school bij het gesprek is: zonder iemand van school is er "
        "geen gesprek"
    }


def test_one_of_the_duo_and_both_of_the_duo_together_is_refused() -> None:
    errors = errors_of(TalkInput(attendees=frozenset({"class_teacher", "all_class_teachers"})))
    assert errors == {
        "t-attendees": "kies één van beide: “leerkracht van de groep” of “beide leerkrachten (duo)”"
    }


def test_an_unknown_attendee_is_refused() -> None:
    assert errors_of(TalkInput(attendees=frozenset({"conciërge"}))) == {
        "t-attendees": "'conciërge' is onbekend"
    }


def test_every_bad_number_gets_its_own_error() -> None:
    assert errors_of(
        TalkInput(margin_working_days="11", answer_within_days="0", reminder_days_before="x")
    ) == {
        "t-margin_working_days": "kies 0 tot en met 10 werkdagen; 11 kan niet",
        "t-answer_within_days": "kies 1 tot en met 14 dagen; 0 kan niet",
        "t-reminder_days_before": "'x' is geen geheel getal; vul dagen in",
    }


def test_the_settings_form_takes_the_heroverweging_talk_and_each_rounds_talk() -> None:
    policy = parse_settings(
        SettingsInput(
            conversation_required=True,
            notices=NOTICES,
            rounds=[
                RoundInput(
                    "adviesgesprek",
                    "provisional_advice",
                    "8",
                    "10-01",
                    "31-01",
                    TalkInput(minutes="20", attendees=frozenset({"class_teacher"})),
                )
            ],
            reconsideration_talk=TalkInput(minutes="60", attendees=frozenset({"ib", "directie"})),
        ),
        YEAR,
    )
    assert policy.rounds[0].talk == TalkSettings(minutes=20)
    assert policy.reconsideration_talk == TalkSettings(
        minutes=60, attendees=frozenset({Attendee.IB, Attendee.DIRECTIE})
    )


def test_a_form_without_talk_blocks_gives_the_defaults() -> None:
    policy = parse_settings(
        SettingsInput(conversation_required=True, notices=NOTICES, rounds=[ADVICE_ROUND]), YEAR
    )
    assert policy.rounds[0].talk == TalkSettings()
    assert policy.reconsideration_talk == TalkSettings()


def test_errors_in_talk_blocks_are_named_per_round_and_nothing_is_parsed() -> None:
    with pytest.raises(SettingsInvalidError) as invalid:
        parse_settings(
            SettingsInput(
                conversation_required=True,
                notices=NOTICES,
                rounds=[
                    RoundInput(),
                    RoundInput(
                        "adviesgesprek",
                        "provisional_advice",
                        "8",
                        "10-01",
                        "31-01",
                        TalkInput(minutes="200"),
                    ),
                ],
                reconsideration_talk=TalkInput(attendees=frozenset()),
            ),
            YEAR,
        )
    assert invalid.value.by_field() == {
        "rounds-1-talk-minutes": "kies 10 tot en met 120 minuten; 200 kan niet",
        "talk-reconsideration-attendees": "kies wie van school bij het gesprek is: zonder "
        "iemand van school is er geen gesprek",
    }


def test_a_changed_talk_is_described_for_the_history_in_dutch() -> None:
    advice = ConversationRound(
        "adviesgesprek", RoundKind.PROVISIONAL_ADVICE, 8, MonthDay(1, 10), MonthDay(1, 31)
    )
    old = SchoolPolicy(rounds=(advice,))
    new = SchoolPolicy(
        rounds=(
            ConversationRound(
                advice.name,
                advice.kind,
                8,
                advice.first,
                advice.last,
                TalkSettings(minutes=20, online=True, reminder_days_before=0),
            ),
        ),
        reconsideration_talk=TalkSettings(
            minutes=45,
            attendees=frozenset({Attendee.ALL_CLASS_TEACHERS, Attendee.IB}),
            margin_working_days=2,
            separate_parents=True,
        ),
    )
    event = change_settings(
        old, new, school_id="s", year=YEAR, changed_by="u1", changed_by_name="Dirk", now=NOW
    )
    assert event is not None
    assert [(c.label, c.before, c.after) for c in event.changes] == [
        (
            "Gesprekken van ronde adviesgesprek",
            describe_talk(TalkSettings()),
            "20 minuten; leerkracht van de groep en de leerling; online; klaar 1 werkdag vóór "
            "de termijn; antwoord binnen 2 dagen; geen herinnering; gescheiden ouders samen",
        ),
        (
            "Gesprek bij heroverweging: opzet",
            "30 minuten; leerkracht van de groep en de leerling; op school; klaar 1 werkdag "
            "vóór de termijn; antwoord binnen 2 dagen; herinnering 2 dagen vooraf; gescheiden "
            "ouders samen",
            "45 minuten; beide leerkrachten (duo), intern begeleider en de leerling; op school; "
            "klaar 2 werkdagen vóór de termijn; antwoord binnen 2 dagen; herinnering 2 dagen "
            "vooraf; gescheiden ouders elk een eigen gesprek",
        ),
    ]


def test_only_a_talk_change_does_not_list_the_rounds_as_changed() -> None:
    advice = ConversationRound(
        "adviesgesprek", RoundKind.PROVISIONAL_ADVICE, 8, MonthDay(1, 10), MonthDay(1, 31)
    )
    slower = ConversationRound(
        advice.name, advice.kind, 8, advice.first, advice.last, TalkSettings(minutes=40)
    )
    event = change_settings(
        SchoolPolicy(rounds=(advice,)),
        SchoolPolicy(rounds=(slower,)),
        school_id="s",
        year=YEAR,
        changed_by="u1",
        changed_by_name="Dirk",
        now=NOW,
    )
    assert event is not None
    assert [c.field for c in event.changes] == ["round_talk:adviesgesprek"]


def test_talk_settings_survive_the_stored_form() -> None:
    talk = TalkSettings(
        minutes=15,
        attendees=frozenset({Attendee.GROEP_7_TEACHER, Attendee.DIRECTIE}),
        with_pupil=False,
        online=True,
        margin_working_days=0,
        answer_within_days=14,
        reminder_days_before=7,
        separate_parents=True,
    )
    assert talk_from_data(talk_data(talk)) == talk
    assert talk_data(talk)["attendees"] == ["directie", "groep_7_teacher"]


def test_the_whole_event_with_talks_reads_back_equal() -> None:
    round_ = ConversationRound(
        "okr", RoundKind.OKR, 8, MonthDay(3, 1), MonthDay(3, 20), TalkSettings(minutes=15)
    )
    new = SchoolPolicy(rounds=(round_,), reconsideration_talk=TalkSettings(online=True))
    event = change_settings(
        SchoolPolicy(),
        new,
        school_id="s",
        year=YEAR,
        changed_by="u1",
        changed_by_name="Dirk",
        now=NOW,
    )
    assert event is not None
    assert event_from_data(event_data(event), "u1", "Dirk", NOW) == event
    assert policy_from_data(policy_data(new, YEAR), YEAR) == new


def test_settings_stored_before_talks_existed_load_with_the_defaults() -> None:
    old_data = {
        "conversation_required": False,
        "rounds": [
            {
                "name": "adviesgesprek",
                "kind": "provisional_advice",
                "groep": 8,
                "first": [1, 10],
                "last": [1, 31],
            }
        ],
        "test_window": None,
        "notices": {},
    }
    policy = policy_from_data(old_data, YEAR)
    assert policy.rounds[0].talk == TalkSettings()
    assert policy.reconsideration_talk == TalkSettings()
    assert policy.conversation_required is False
    assert talk_from_data({"minutes": 25}) == TalkSettings(minutes=25)
    assert talk_from_data(None) == TalkSettings()


def test_a_later_year_carries_the_heroverweging_talk_over() -> None:
    talk = TalkSettings(minutes=50)
    event = change_settings(
        SchoolPolicy(),
        SchoolPolicy(reconsideration_talk=talk),
        school_id="s",
        year=YEAR,
        changed_by="u1",
        changed_by_name="Dirk",
        now=NOW,
    )
    assert event is not None
    history = SettingsHistory.of([event])
    assert history.policy_for(SchoolYear(2026)).reconsideration_talk == talk


def test_a_stored_round_shows_its_talk_block_only_when_it_differs_from_the_defaults() -> None:
    plain = ConversationRound("a", RoundKind.OKR, 8, MonthDay(3, 1), MonthDay(3, 20))
    assert round_input(plain).talk is None
    longer = ConversationRound(
        "a", RoundKind.OKR, 8, MonthDay(3, 1), MonthDay(3, 20), TalkSettings(minutes=40)
    )
    talk = round_input(longer).talk
    assert talk is not None
    assert talk.minutes == "40"
