"""Where staff may act (issue 14): a counter clerk only inside their counter's region and
never in a citizen's name; a supervisor with a region only over that region."""

import pytest

from onestop.common import auth, scopes
from onestop.common.auth import Principal

CITIZEN = "430102199001011234"
CLERK = Principal("clerk", "clerk-0001", region="430102")
OWN = {"role": "clerk", "sub": "clerk-0001"}


@pytest.mark.parametrize(
    "scope, region, covered",
    [
        (None, "430102", True),
        ("430102", "430102", True),
        ("430102", "430111", False),
        ("430100", "430111", True),  # Changsha city holds Yuhua district
        ("430100", "430100", True),
        ("430100", "430202", False),  # Zhuzhou is another city
        ("430000", "430202", True),  # Hunan holds Zhuzhou
        ("430000", "440305", False),
        ("430102", None, False),
        ("430102", "", False),
    ],
)
def test_a_region_scope_covers_itself_and_what_lies_inside_it(scope, region, covered):
    assert scopes.region_covers(scope, region) is covered


@pytest.mark.parametrize(
    "scope, inside, outside",
    [
        ("430000", ["430000", "430102", "439999"], ["440000", "429999"]),
        ("430100", ["430100", "430111"], ["430200", "430099"]),
        ("430102", ["430102"], ["430103"]),
    ],
)
def test_the_store_condition_for_a_scope_matches_the_same_regions(scope, inside, outside):
    condition = scopes.region_query(scope)

    def matches(region):
        if isinstance(condition, str):
            return region == condition
        return condition["$gte"] <= region <= condition["$lte"]

    assert all(matches(r) for r in inside) and not any(matches(r) for r in outside)
    assert all(scopes.region_covers(scope, r) for r in inside)


def test_nobody_acts_in_a_citizens_name():
    assert auth.acting_applicant(Principal("applicant", CITIZEN)) == CITIZEN
    with pytest.raises(auth.Forbidden, match="may act only for themselves"):
        auth.acting_applicant(Principal("applicant", CITIZEN), "430102198505050021")
    with pytest.raises(auth.Forbidden, match="counter clerk may not do this in a citizen's name"):
        auth.acting_applicant(CLERK, CITIZEN)
    with pytest.raises(auth.Forbidden):
        auth.acting_applicant(Principal("supervisor", "s-1"), CITIZEN)


def test_a_clerk_reads_only_their_own_counter_work_inside_their_region():
    assert auth.may_read_application(CLERK, CITIZEN, OWN, region="430102")
    assert not auth.may_read_application(CLERK, CITIZEN, OWN, region="430111")
    other = {"role": "clerk", "sub": "clerk-0002"}
    assert not auth.may_read_application(CLERK, CITIZEN, other, region="430102")


def test_a_supervisor_with_a_region_reads_only_that_regions_applications():
    changsha = Principal("supervisor", "s-1", region="430100")
    assert auth.may_read_application(changsha, CITIZEN, region="430102")
    assert not auth.may_read_application(changsha, CITIZEN, region="430202")
    assert auth.may_read_application(Principal("supervisor", "s-2"), CITIZEN, region="430202")
    assert auth.may_read_application(Principal("operator", "op-1"), CITIZEN, region="430202")
