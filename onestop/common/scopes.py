"""Where a member of staff may act: pure rules over token claims (no nameko, no store), so
domain modules can apply them. See onestop/common/auth.py for the roles and their claims."""

from onestop.common.errors import NotAllowed


def region_covers(scope, region):
    """True when a staff member's `scope` (a GB/T 2260 code: a province `xx0000`, a city
    `xxxx00` or a county) contains `region`; a scope of None covers everything."""
    if scope is None:
        return True
    if not region:
        return False
    if scope.endswith("0000"):
        return region[:2] == scope[:2]
    if scope.endswith("00"):
        return region[:4] == scope[:4]
    return region == scope


def region_query(scope):
    """The store condition on a `region` field for the regions inside `scope` (a range of
    codes: an index serves it, and every store answers it)."""
    if scope.endswith("0000"):
        return {"$gte": scope[:2] + "0000", "$lte": scope[:2] + "9999"}
    if scope.endswith("00"):
        return {"$gte": scope[:4] + "00", "$lte": scope[:4] + "99"}
    return scope


def check_counter_clerk(principal, region):
    """A counter clerk applies only inside their counter's region (the token's `region`)."""
    if principal.region is None:
        raise NotAllowed(
            "a counter clerk's token must name their counter's region (claim region)",
            fields={"region": ["your token names no counter region"]},
        )
    if not region_covers(principal.region, region):
        raise NotAllowed(
            f"a counter clerk of region {principal.region} may not apply for region {region}",
            fields={"region": [f"outside your counter's region {principal.region}"]},
        )
