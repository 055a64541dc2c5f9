"""The conversation planner on small, hand-made weeks: where talks go, who attends, and the
Dutch reasons when a talk does not fit or a time chosen by hand is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.planning import (
    CODES,
    Availability,
    Booking,
    Request,
    Unplaced,
    Window,
    check,
    choose,
    plan,
)

AMS = ZoneInfo("Europe/Amsterdam")
QUARTER = timedelta(minutes=15)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026 in Amsterdam (16 March is a Monday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=AMS)


def afternoon(day: int, start: int = 14, end: int = 16) -> Window:
    return Window(at(day, start), at(day, end))


def request(
    rid: str,
    family: str | None = None,
    staff: tuple[str, ...] = ("juf",),
    **changes: object,
) -> Request:
    fields: dict[str, object] = {
        "id": rid,
        "family": family or f"gezin-{rid}",
        "staff": staff,
        "duration": QUARTER,
        "earliest": at(16, 8),
        "latest_end": at(23, 12),
    }
    fields.update(changes)
    return Request(**fields)  # type: ignore[arg-type]


JUF = Availability("juf", (afternoon(16),), room="lokaal 8")
FAST = 1.0  # seconds of solver time: these weeks are solved to optimality well within it


def test_a_talk_is_placed_inside_the_teachers_afternoon_in_her_room() -> None:
    result = plan([request("a")], [JUF], time_limit_s=FAST)
    (placement,) = result.placements
    assert at(16, 14) <= placement.start
    assert placement.end == placement.start + QUARTER <= at(16, 16)
    assert placement.room == "lokaal 8"
    assert placement.staff == ("juf",)
    assert result.unplaced == ()


def test_one_of_the_duo_teachers_attends_on_the_day_that_teacher_works() -> None:
    meester = Availability("meester", (afternoon(17),), room="lokaal 8")
    talk = request("a", staff=(), staff_any=(("juf", "meester"),), earliest=at(17, 8))
    (placement,) = plan([talk], [JUF, meester], time_limit_s=FAST).placements
    assert placement.staff == ("meester",)
    assert placement.start.date() == at(17, 0).date()


def test_the_room_is_that_of_the_first_attendees_availability_and_online_talks_have_none() -> None:
    ib = Availability("ib", (afternoon(16),), room="ib-kamer")
    on_site = request("a", staff=("ib", "juf"))
    online = request("b", staff=("juf",), online=True)
    placements = {
        p.request_id: p for p in plan([on_site, online], [JUF, ib], time_limit_s=FAST).placements
    }
    assert placements["a"].room == "ib-kamer"
    assert placements["a"].staff == ("ib", "juf")
    assert placements["b"].room is None


def test_siblings_are_planned_back_to_back() -> None:
    teachers = [
        JUF,
        Availability("meester", (afternoon(16),), room="lokaal 5"),
    ]
    talks = [
        request("ouder-kind", family="jansen", staff=("juf",)),
        request("jongste", family="jansen", staff=("meester",)),
        *(request(f"x{i}", staff=("juf",)) for i in range(3)),
    ]
    placements = {p.request_id: p for p in plan(talks, teachers, time_limit_s=FAST).placements}
    first, second = sorted([placements["ouder-kind"], placements["jongste"]], key=lambda p: p.start)
    assert first.end == second.start


def test_a_fixed_booking_blocks_its_teacher_its_room_and_its_family() -> None:
    juf = Availability("juf", (afternoon(16, 14, 17),), room="lokaal 8")
    room_mate = Availability("meester", (afternoon(16, 14, 17),), room="lokaal 8")
    bookings = [Booking("vast", at(16, 14), at(16, 15, 45), ("juf",), "jansen", "lokaal 8")]
    talks = [
        request("juf-talk", staff=("juf",)),
        request("zelfde-lokaal", staff=("meester",)),
        request("zelfde-gezin", family="jansen", staff=("meester",)),
    ]
    result = plan(talks, [juf, room_mate], bookings, time_limit_s=FAST)
    assert result.unplaced == ()
    for placement in result.placements:
        assert placement.start >= at(16, 15, 45), placement


def test_a_request_being_planned_again_ignores_its_own_old_booking() -> None:
    old = Booking("a", at(16, 14), at(16, 14, 15), ("juf",), "gezin-a", "lokaal 8")
    only_slot = Availability("juf", (Window(at(16, 14), at(16, 14, 15)),), room="lokaal 8")
    (placement,) = plan([request("a")], [only_slot], [old], time_limit_s=FAST).placements
    assert placement.start == at(16, 14)


def test_a_teacher_without_any_availability_is_named_in_the_reason() -> None:
    result = plan([request("a", staff=("juf", "ib"))], [JUF], names={"ib": "Mevrouw de Vries"})
    (unplaced,) = result.unplaced
    assert unplaced.code == "no_availability"
    assert unplaced.message == "Mevrouw de Vries heeft geen beschikbaarheid opgegeven."


def test_teachers_who_are_never_available_together_give_no_availability() -> None:
    ib = Availability("ib", (afternoon(17),), room="ib-kamer")
    (unplaced,) = plan([request("a", staff=("juf", "ib"))], [JUF, ib]).unplaced
    assert unplaced.code == "no_availability"
    assert "juf en ib beschikbaar zijn" in unplaced.message


def test_availability_only_after_the_deadline_gives_no_availability_naming_the_deadline() -> None:
    late = Availability("juf", (afternoon(24),), room="lokaal 8")
    (unplaced,) = plan([request("a")], [late]).unplaced
    assert unplaced.code == "no_availability"
    assert "maandag 23 maart om 12:00" in unplaced.message


def test_a_family_unavailable_whenever_the_teacher_can_gives_family_unavailable() -> None:
    talk = request("a", unavailable=(Window(at(16, 12), at(16, 18)),))
    (unplaced,) = plan([talk], [JUF]).unplaced
    assert unplaced.code == "family_unavailable"
    assert unplaced.message.startswith("De ouders kunnen niet")


def test_of_two_talks_for_one_slot_the_earlier_deadline_wins_and_the_other_is_told_why() -> None:
    one_slot = Availability("juf", (Window(at(16, 14), at(16, 14, 15)),), room="lokaal 8")
    urgent = request("urgent", latest_end=at(17, 12))
    later = request("later")
    result = plan([later, urgent], [one_slot], time_limit_s=FAST)
    assert [p.request_id for p in result.placements] == ["urgent"]
    (unplaced,) = result.unplaced
    assert unplaced.request_id == "later"
    assert unplaced.code == "no_free_slot"


def test_a_slot_taken_by_a_fixed_booking_gives_no_free_slot() -> None:
    one_slot = Availability("juf", (Window(at(16, 14), at(16, 14, 15)),), room="lokaal 8")
    taken = Booking("ander", at(16, 14), at(16, 14, 15), ("juf",), "ander", "lokaal 8")
    (unplaced,) = plan([request("a")], [one_slot], [taken]).unplaced
    assert unplaced.code == "no_free_slot"
    assert unplaced.message.startswith("Alle tijden vóór maandag 23 maart om 12:00")


def test_a_familys_preferred_time_is_used_when_it_is_free() -> None:
    talk = request("a", preferred=(Window(at(16, 15, 30), at(16, 16)),))
    (placement,) = plan([talk], [JUF], time_limit_s=FAST).placements
    assert at(16, 15, 30) <= placement.start <= at(16, 15, 45)


def test_the_same_input_gives_the_same_plan() -> None:
    duo = Availability("meester", (afternoon(17), afternoon(18)), room="lokaal 8")
    talks = [
        request(f"r{i}", family=f"g{i // 2}", staff=(), staff_any=(("juf", "meester"),))
        for i in range(14)
    ]
    assert plan(talks, [JUF, duo], seed=3, time_limit_s=FAST) == plan(
        talks, [JUF, duo], seed=3, time_limit_s=FAST
    )


def test_any_time_zone_works_and_a_plan_without_solver_time_is_the_greedy_one() -> None:
    utc = Availability("juf", (Window(datetime(2026, 3, 16, 13, tzinfo=UTC), at(16, 16)),))
    talk = request("a", earliest=datetime(2026, 3, 16, tzinfo=UTC))
    (placement,) = plan([talk], [utc], time_limit_s=0).placements
    assert placement.start == datetime(2026, 3, 16, 13, tzinfo=UTC)
    assert placement.start.tzinfo == UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan([request("a", earliest=datetime(2026, 3, 16))], [JUF])  # noqa: DTZ001


# -- check: a time chosen by hand ----------------------------------------------------------------


def codes(found: list[Unplaced]) -> list[str]:
    return [u.code for u in found]


def test_a_free_time_inside_availability_is_allowed() -> None:
    assert check(request("a"), at(16, 14), None, [JUF], []) == []


def test_a_teacher_with_a_talk_at_that_time_is_named_with_the_clock_time() -> None:
    booked = Booking("ander", at(16, 14), at(16, 14, 15), ("juf",), "ander", "lokaal 8")
    found = check(request("a"), at(16, 14, 5), None, [JUF], [booked], names={"juf": "Juf Anna"})
    assert codes(found) == ["double_booked_staff", "double_booked_room"]
    assert found[0].message == "Juf Anna heeft maandag 16 maart om 14:00 al een gesprek."
    assert found[1].message == "lokaal 8 is maandag 16 maart om 14:00 al bezet."


def test_moving_a_talk_never_clashes_with_its_own_old_time() -> None:
    own = Booking("a", at(16, 14), at(16, 14, 15), ("juf",), "gezin-a", "lokaal 8")
    assert check(request("a"), at(16, 14, 5), None, [JUF], [own]) == []


def test_a_family_with_another_talk_then_is_refused() -> None:
    sibling = Booking("broer", at(16, 14), at(16, 14, 15), ("meester",), "jansen", None)
    found = check(request("a", family="jansen"), at(16, 14), None, [JUF], [sibling])
    assert codes(found) == ["double_booked_family"]
    assert found[0].message == "De ouders hebben maandag 16 maart om 14:00 al een ander gesprek."


def test_a_time_outside_the_teachers_availability_is_refused() -> None:
    found = check(request("a"), at(16, 15, 50), None, [JUF], [], names={"juf": "Juf Anna"})
    assert codes(found) == ["outside_availability"]
    assert (
        found[0].message == "Juf Anna is op maandag 16 maart van 15:50 tot 16:05 niet beschikbaar."
    )


def test_a_time_after_the_deadline_or_before_the_earliest_is_refused() -> None:
    late = Availability("juf", (afternoon(16), afternoon(24)), room="lokaal 8")
    after = check(request("a"), at(24, 14), None, [late], [])
    assert codes(after) == ["after_deadline"]
    assert "uiterlijk maandag 23 maart om 12:00 afgelopen" in after[0].message
    before = check(request("a", earliest=at(16, 15)), at(16, 14), None, [late], [])
    assert codes(before) == ["before_earliest"]


def test_a_latest_end_at_the_end_of_a_day_is_named_as_that_day_not_the_next_midnight() -> None:
    late = Availability("juf", (afternoon(16), afternoon(24)), room="lokaal 8")
    found = check(request("a", latest_end=at(24, 0)), at(24, 14), None, [late], [])
    assert codes(found) == ["after_deadline"]
    assert "uiterlijk op maandag 23 maart afgelopen" in found[0].message
    assert "00:00" not in found[0].message


def test_a_time_the_parents_said_they_cannot_is_refused() -> None:
    talk = request("a", unavailable=(Window(at(16, 14), at(16, 15)),))
    found = check(talk, at(16, 14, 30), None, [JUF], [])
    assert codes(found) == ["family_unavailable"]
    assert found[0].message.endswith("van 14:00 tot 15:00 niet kunnen.")


def test_for_duo_teachers_the_one_who_is_free_attends() -> None:
    meester = Availability("meester", (afternoon(16),), room="lokaal 9")
    booked = Booking("ander", at(16, 14), at(16, 14, 15), ("juf",), "ander", "lokaal 8")
    talk = request("a", staff=(), staff_any=(("juf", "meester"),))
    assert check(talk, at(16, 14), None, [JUF, meester], [booked]) == []
    placement = choose(talk, at(16, 14), None, [JUF, meester], [booked])
    assert placement.staff == ("meester",)
    assert placement.room == "lokaal 9"


def test_every_code_is_one_of_the_stable_codes() -> None:
    assert set(CODES) == {
        "no_availability",
        "after_deadline",
        "before_earliest",
        "double_booked_staff",
        "double_booked_room",
        "double_booked_family",
        "outside_availability",
        "family_unavailable",
        "no_free_slot",
    }


def test_a_person_both_required_and_in_the_duo_attends_once() -> None:
    meester = Availability("meester", (afternoon(16),), room="lokaal 9")
    talk = request("a", staff=("juf",), staff_any=(("juf", "meester"),))
    result = plan([talk, request("b", staff=("juf",))], [JUF, meester], time_limit_s=FAST)
    placements = {p.request_id: p for p in result.placements}
    assert placements["a"].staff in {("juf",), ("juf", "meester")}
    assert check(talk, placements["a"].start, None, [JUF, meester], []) == []
