"""The deterministic first plan: families in order of their earliest deadline, a family's
requests one after the other, each at the first free start, a sibling's talk right before or
after the family's talk already placed when that is free, and a family's preferred times before
other times. It is fast, always valid, and the hint the solver starts from.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterable, Sequence

from workflows.planning.candidates import Option, Prepared
from workflows.planning.minutes import Span, normalise, to_minute

Key = tuple[str, str]
Choice = tuple[int, int]
"""(index of the option, start minute)."""


class Ledger:
    """Who and what is taken when: sorted disjoint spans per person, room and family."""

    def __init__(self) -> None:
        self.spans: dict[Key, list[Span]] = defaultdict(list)

    def free(self, keys: Iterable[Key], start: int, end: int) -> bool:
        for key in keys:
            taken = self.spans.get(key)
            if taken:
                i = bisect_left(taken, (end,))
                if i > 0 and taken[i - 1][1] > start:
                    return False
        return True

    def take(self, keys: Iterable[Key], start: int, end: int) -> None:
        for key in keys:
            insort(self.spans[key], (start, end))


def keys(option: Option, family: str) -> tuple[Key, ...]:
    found: list[Key] = [("staff", person) for person in option.staff]
    if option.room is not None:
        found.append(("room", option.room))
    found.append(("family", family))
    return tuple(found)


def order(prepared: Sequence[Prepared]) -> list[int]:
    """Earliest deadline first, a family's requests together."""
    families: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(prepared):
        if item.options:
            families[item.request.family].append(i)

    def own(i: int) -> tuple[int, int, str]:
        item = prepared[i]
        return (item.latest_end, item.earliest, item.request.id)

    groups = [sorted(members, key=own) for members in families.values()]
    groups.sort(key=lambda members: (own(members[0]), prepared[members[0]].request.family))
    return [i for members in groups for i in members]


def greedy(prepared: Sequence[Prepared]) -> dict[int, Choice]:
    ledger = Ledger()
    placed: dict[int, Choice] = {}
    family_spans: dict[str, list[Span]] = defaultdict(list)
    for i in order(prepared):
        item = prepared[i]
        family = item.request.family
        choice = _choose(item, ledger, family_spans[family])
        if choice is None:
            continue
        option_index, start = choice
        option = item.options[option_index]
        ledger.take(keys(option, family), start, start + item.duration)
        family_spans[family].append((start, start + item.duration))
        placed[i] = choice
    return placed


def _choose(item: Prepared, ledger: Ledger, siblings: Sequence[Span]) -> Choice | None:
    family, duration = item.request.family, item.duration
    option_keys = [keys(o, family) for o in item.options]

    def first_free(wanted: Iterable[int] | None) -> Choice | None:
        best: Choice | None = None
        allowed = None if wanted is None else set(wanted)
        for index, option in enumerate(item.options):
            for start in option.starts:
                if best is not None and start >= best[1]:
                    break
                if allowed is not None and start not in allowed:
                    continue
                if ledger.free(option_keys[index], start, start + duration):
                    best = (index, start)
                    break
        return best

    if siblings:
        targets = sorted({e for _, e in siblings} | {s - duration for s, _ in siblings})
        for target in targets:
            found = first_free([target])
            if found is not None:
                return found
    if item.request.preferred:
        preferred = normalise(
            (to_minute(w.start, up=True), to_minute(w.end)) for w in item.request.preferred
        )
        wanted = [
            start
            for option in item.options
            for start in option.starts
            if any(s <= start and start + duration <= e for s, e in preferred)
        ]
        found = first_free(wanted)
        if found is not None:
            return found
    return first_free(None)
