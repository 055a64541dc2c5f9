"""Published availability in the event store on SQLite and PostgreSQL: each publication is one
event on the school's own stream with who published it; the last one of a person for a round
replaces the earlier, an empty one withdraws it, the same again stores nothing; the planner's view
has one entry per person and room and only the round asked for; another school's is apart."""

from __future__ import annotations

from datetime import UTC, datetime

from service.bootstrap import Container
from service.scheduling import availability
from tests.conftest import Clock
from workflows import planning
from workflows.availability import AMSTERDAM, PublishedWindow


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=AMSTERDAM)


def publish(container: Container, person: str, round_key: str, *windows: PublishedWindow) -> bool:
    return availability.publish(
        container,
        container.clock,
        "school-1",
        person,
        round_key,
        windows,
        actor=person,
        actor_name=f"Naam van {person}",
        role="leerkracht",
        request_id="r-1",
    )


def test_the_last_publication_counts_and_an_empty_one_withdraws(
    container: Container, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    monday = PublishedWindow(at(16, 9), at(16, 12), "lokaal 8")
    tuesday = PublishedWindow(at(17, 13), at(17, 15), "lokaal 3")
    assert publish(container, "juf", "reconsideration", monday)
    assert publish(container, "juf", "reconsideration", monday, tuesday)
    assert not publish(container, "juf", "reconsideration", monday, tuesday)  # the same again
    assert publish(container, "meester", "reconsideration", tuesday)
    assert publish(container, "juf", "okr", monday)
    found = availability.of(container.store, "school-1", "reconsideration")
    assert found == [
        planning.Availability("juf", (planning.Window(at(16, 9), at(16, 12)),), "lokaal 8"),
        planning.Availability("juf", (planning.Window(at(17, 13), at(17, 15)),), "lokaal 3"),
        planning.Availability("meester", (planning.Window(at(17, 13), at(17, 15)),), "lokaal 3"),
    ]
    assert publish(container, "juf", "reconsideration")  # withdrawn
    assert [a.person for a in availability.of(container, "school-1", "reconsideration")] == [
        "meester"
    ]
    assert not publish(container, "nieuw", "reconsideration")  # nothing to withdraw
    assert availability.of(container, "school-2", "reconsideration") == []

    stored = container.store.read_stream(availability.stream("school-1"))
    assert len(stored) == 5
    assert {e.event_type for e in stored} == {"availability_published"}
    assert stored[0].metadata == {
        "actor": "juf",
        "role": "leerkracht",
        "actor_name": "Naam van juf",
        "request_id": "r-1",
    }
    history = availability.history(container, "school-1")
    assert history[0].recorded_by_name == "Naam van juf"
    assert history[0].recorded_at == clock.now
    assert set(availability.current(container, "school-1")) == {
        ("meester", "reconsideration"),
        ("juf", "okr"),
    }
