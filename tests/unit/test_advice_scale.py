"""The advice scale: every DUO value, the spellings people use, and the one 'higher' rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from workflows.errors import DomainError
from workflows.scale import (
    Comparison,
    SchoolAdvice,
    TestAdvice,
    compare,
    parse_school_advice,
    parse_test_advice,
)

STANDARD = Path(__file__).parents[3] / "shared" / "standards"


def test_the_scale_holds_exactly_the_values_of_the_national_standard() -> None:
    spec_file = STANDARD / "doorstroomtoetsketen-openapi-v1.1.0.yaml"
    if not spec_file.exists():
        pytest.skip(f"the standard is not beside this checkout ({spec_file})")
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    duo_values = spec["components"]["schemas"]["Schooladviestype_enum"]["enum"]
    assert [a.value for a in SchoolAdvice] == duo_values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HAVO_TM_VWO", SchoolAdvice.HAVO_TM_VWO),
        ("havo/vwo", SchoolAdvice.HAVO_TM_VWO),
        ("havo t/m vwo", SchoolAdvice.HAVO_TM_VWO),
        ("Havo - VWO", SchoolAdvice.HAVO_TM_VWO),
        ("vwo", SchoolAdvice.VWO),
        ("gymnasium", SchoolAdvice.VWO),
        ("pro", SchoolAdvice.PRAKTIJKONDERWIJS),
        ("praktijkonderwijs", SchoolAdvice.PRAKTIJKONDERWIJS),
        ("vmbo-gt/havo", SchoolAdvice.VMBO_GLTL_TM_HAVO),
        ("mavo/havo", SchoolAdvice.VMBO_GLTL_TM_HAVO),
        ("VMBO_GL/TL_TM_HAVO", SchoolAdvice.VMBO_GLTL_TM_HAVO),
        ("vmbo-gl/tl", SchoolAdvice.VMBO_GLTL),
        ("vmbo-(g)t", SchoolAdvice.VMBO_GLTL),
        ("vmbo-t", SchoolAdvice.VMBO_GLTL),
        ("vmbo-k met lwoo", SchoolAdvice.VMBO_KB_MET_LWOO),
        ("vmbo kb + lwoo", SchoolAdvice.VMBO_KB_MET_LWOO),
        ("vmbo-b/k", SchoolAdvice.VMBO_BB_TM_VMBO_KB),
        ("vmbo-bb/vmbo-kb met lwoo", SchoolAdvice.VMBO_BB_TM_VMBO_KB_MET_LWOO),
        ("vmbo-kb/gt", SchoolAdvice.VMBO_KB_TM_VMBO_GLTL),
        ("VMBO_KB_TM_VMBO_GL/TL_MET_LWOO", SchoolAdvice.VMBO_KB_TM_VMBO_GLTL_MET_LWOO),
        ("vso", SchoolAdvice.VSO),
        ("Geen specifiek advies mogelijk", SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK),
    ],
)
def test_a_schooladvies_is_read_in_the_spellings_schools_use(
    text: str, expected: SchoolAdvice
) -> None:
    assert parse_school_advice(text) is expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "advice_empty"),
        ("gymnasium plus", "advice_unknown"),
        ("mbo", "advice_unknown"),
        ("vmbo", "advice_unknown"),
        ("vmbo-bb/havo", "advice_types_not_adjacent"),
        ("pro/vwo", "advice_types_not_adjacent"),
        ("vmbo-kb/vmbo-gt/havo", "advice_too_many_types"),
        ("havo met lwoo", "advice_lwoo_not_allowed"),
        ("pro/vmbo-bb", "advice_combination_not_allowed"),
    ],
)
def test_an_unknown_or_forbidden_schooladvies_is_refused_with_its_reason(
    text: str, code: str
) -> None:
    with pytest.raises(DomainError) as raised:
        parse_school_advice(text)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vwo", TestAdvice.VWO),
        ("VWO", TestAdvice.VWO),
        ("havo/vwo", TestAdvice.HAVO_VWO),
        ("vmbo-gt/havo", TestAdvice.VMBO_GLTL_HAVO),
        ("vmbo-gl-tl/havo", TestAdvice.VMBO_GLTL_HAVO),
        ("vmbo-kb/vmbo-gl-tl", TestAdvice.VMBO_KB_VMBO_GLTL),
        ("vmbo-bb/vmbo-kb", TestAdvice.VMBO_BB_VMBO_KB),
        ("pro/vmbo-bb", TestAdvice.PRO_VMBO_BB),
    ],
)
def test_a_toetsadvies_is_read_as_providers_send_it(text: str, expected: TestAdvice) -> None:
    assert parse_test_advice(text) is expected


@pytest.mark.parametrize("text", ["havo", "pro", "vmbo-kb met lwoo", "vmbo-bb/havo", "mbo"])
def test_a_toetsadvies_outside_the_six_categories_is_refused(text: str) -> None:
    with pytest.raises(DomainError):
        parse_test_advice(text)


@pytest.mark.parametrize(
    ("school", "test", "expected"),
    [
        # The worked cases of DOMAIN.md.
        (SchoolAdvice.HAVO, TestAdvice.HAVO_VWO, Comparison.HIGHER),
        (SchoolAdvice.HAVO, TestAdvice.VWO, Comparison.HIGHER),
        (SchoolAdvice.VMBO_GLTL, TestAdvice.VMBO_GLTL_HAVO, Comparison.HIGHER),
        (SchoolAdvice.VMBO_GLTL_TM_HAVO, TestAdvice.HAVO_VWO, Comparison.HIGHER),
        (SchoolAdvice.HAVO_TM_VWO, TestAdvice.HAVO_VWO, Comparison.EQUAL),
        (SchoolAdvice.HAVO, TestAdvice.VMBO_GLTL_HAVO, Comparison.LOWER),
        (SchoolAdvice.VWO, TestAdvice.HAVO_VWO, Comparison.LOWER),
        # pro against the test's lowest category is not higher; one step more is.
        (SchoolAdvice.PRAKTIJKONDERWIJS, TestAdvice.PRO_VMBO_BB, Comparison.EQUAL),
        (SchoolAdvice.PRAKTIJKONDERWIJS, TestAdvice.VMBO_BB_VMBO_KB, Comparison.HIGHER),
        # lwoo does not move an advice on the scale.
        (SchoolAdvice.VMBO_KB_MET_LWOO, TestAdvice.VMBO_KB_VMBO_GLTL, Comparison.HIGHER),
        (SchoolAdvice.VMBO_BB_TM_VMBO_KB_MET_LWOO, TestAdvice.VMBO_BB_VMBO_KB, Comparison.EQUAL),
        # Off the scale: a human decides.
        (SchoolAdvice.VSO, TestAdvice.VWO, Comparison.NOT_COMPARABLE),
        (
            SchoolAdvice.GEEN_SPECIFIEK_ADVIES_MOGELIJK,
            TestAdvice.PRO_VMBO_BB,
            Comparison.NOT_COMPARABLE,
        ),
    ],
)
def test_whether_a_toetsadvies_is_higher(
    school: SchoolAdvice, test: TestAdvice, expected: Comparison
) -> None:
    assert compare(test, school) is expected


@given(st.sampled_from(list(SchoolAdvice)))
def test_every_schooladvies_reads_back_from_its_own_code_and_its_label(
    advice: SchoolAdvice,
) -> None:
    assert parse_school_advice(advice.value) is advice
    assert parse_school_advice(advice.label) is advice


@given(st.sampled_from(list(TestAdvice)))
def test_every_toetsadvies_reads_back_from_its_label(advice: TestAdvice) -> None:
    assert parse_test_advice(advice.label) is advice


@given(st.sampled_from(list(SchoolAdvice)), st.sampled_from(list(SchoolAdvice)))
def test_the_scale_orders_combined_advices_between_their_parts(
    a: SchoolAdvice, b: SchoolAdvice
) -> None:
    if a.half_steps is None or b.half_steps is None:
        return
    if max(a.tracks) < min(b.tracks):
        assert a.half_steps < b.half_steps
