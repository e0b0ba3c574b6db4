"""Service guides (办事指南): what an applicant reads before applying, per item and for a
whole package. Pure: no nameko, no pymongo.

An item's guide is two parts (docs/catalog.md "Service guides"): what is the item's own,
stored in data/catalog/guides/*.yaml (acceptance conditions, legal basis, fee and its
basis, delivery, visits, time limits), and where and when to apply, which every item of a
department shares and which comes from data/catalog/halls.yaml (the hall of the office
that handles the item, the department's window, office hours, phone). The catalog check
(`guide_problems`) refuses a guide that is incomplete or says something the item's own
fields contradict.
"""

import re

from services.catalog.domain import handling_level, office_of

# stored fields every guide must have (fee_basis only when the item has a fee)
GUIDE_FIELDS = (
    "conditions",
    "legal_basis",
    "fee",
    "delivery",
    "visits",
    "promised_limit",
    "legal_limit",
)
DELIVERY_MODES = ("电子证照", "网上送达", "邮寄", "窗口领取")
FREE = "不收费"
# a region's hall without a region: what a guide says when the applicant has not said where
GENERIC_HALLS = {
    "province": "湖南省政务服务中心",
    "city": "所在市（州）政务服务中心",
    "county": "所在县（市、区）政务服务中心",
    "township": "所在乡镇（街道）便民服务中心",
}
LEVEL_NAMES = {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇（街道）"}


def limit_text(days):
    return f"{days}个工作日"


def fee_amount(fee):
    """'20元' for 20, '2.5元' for 2.5: how a fee is written in a guide."""
    return f"{fee:g}元"


def expected_visits(item, guide):
    """跑动次数: none when the item can be done online end to end, one when the applicant
    must come in person (no online channel, or `in_person` says why)."""
    return 1 if guide.get("in_person") or "online" not in (item.get("channels") or []) else 0


def article_numbers(legal_basis):
    """The article numbers an English legal basis cites ('art. 5 and 11' -> {'5', '11'})."""
    numbers = set()
    for cited in re.findall(r"\barts?\. ([0-9][0-9, and]*)", legal_basis or ""):
        numbers.update(re.findall(r"[0-9]+", cited))
    return numbers


def guide_problems(item, guide):
    """What is missing from an item's stored guide or contradicts the item, one line each."""
    code = item["code"]
    if not guide:
        return [f"item {code}: no service guide (data/catalog/guides/*.yaml)"]
    problems = [
        f"item {code}: guide field {field} is missing"
        for field in GUIDE_FIELDS
        if guide.get(field) in (None, "", [])
    ]
    fee = item.get("fee", 0)
    text = guide.get("fee") or ""
    if text and isinstance(fee, (int, float)):
        if fee == 0 and text != FREE:
            problems.append(f"item {code}: guide fee {text!r}, but the item is free ({FREE!r})")
        elif fee > 0 and fee_amount(fee) not in text:
            problems.append(
                f"item {code}: guide fee {text!r} does not state the item's fee {fee_amount(fee)}"
            )
        if fee > 0 and not guide.get("fee_basis"):
            problems.append(f"item {code}: guide field fee_basis is missing (the item has a fee)")
    for field, days in (
        ("promised_limit", item.get("promised_days")),
        ("legal_limit", item.get("legal_days")),
    ):
        if guide.get(field) and guide[field] != limit_text(days):
            problems.append(
                f"item {code}: guide {field} {guide[field]!r}, but the item says "
                f"{limit_text(days)!r}"
            )
    visits = guide.get("visits")
    if visits is not None and visits != expected_visits(item, guide):
        problems.append(
            f"item {code}: guide visits {visits}, but the item takes "
            f"{expected_visits(item, guide)} (0 when it can be done online, 1 when the "
            f"applicant must come in person: in_person)"
        )
    delivery = guide.get("delivery") or []
    for mode in delivery:
        if mode not in DELIVERY_MODES:
            problems.append(f"item {code}: guide delivery {mode!r} is not one of {DELIVERY_MODES}")
    if delivery and item.get("license") and "电子证照" not in delivery:
        problems.append(
            f"item {code}: produces the e-licence {item['license']}, but the guide's "
            f"delivery does not include 电子证照"
        )
    if delivery and not item.get("license") and "电子证照" in delivery:
        problems.append(f"item {code}: guide delivers 电子证照, but the item issues no e-licence")
    missing = sorted(article_numbers(item.get("legal_basis")) - _cited(guide.get("legal_basis")))
    if guide.get("legal_basis") and missing:
        problems.append(
            f"item {code}: guide legal_basis does not cite article(s) "
            f"{', '.join(missing)} of the item's legal_basis"
        )
    return problems


def _cited(legal_basis_zh):
    return set(re.findall(r"第([0-9]+)条", legal_basis_zh or ""))


def hall_problems(catalog):
    """The shared hall data: a hall name per level, a window per department, an area code
    per prefecture-level region."""
    halls = catalog.halls
    problems = []
    for level in GENERIC_HALLS:
        if not (halls.get("names_zh") or {}).get(level):
            problems.append(f"halls: names_zh has no hall for level {level}")
    for key in ("hours_zh", "phone"):
        if not halls.get(key):
            problems.append(f"halls: {key} is missing")
    windows = halls.get("windows") or {}
    for code in catalog.departments:
        if not isinstance(windows.get(code), int):
            problems.append(f"halls: department {code} has no window number")
    for code in sorted(set(windows) - set(catalog.departments)):
        problems.append(f"halls: window for unknown department {code}")
    area_codes = halls.get("area_codes") or {}
    for region in catalog.regions.values():
        if region["level"] in ("province", "city") and region["code"] not in area_codes:
            problems.append(f"halls: region {region['code']} has no telephone area code")
    return problems


class Guides:
    """Guides of one catalog version, with where to apply resolved for a region."""

    def __init__(self, catalog):
        self.catalog = catalog

    def where(self, item, region=None):
        """办理地点, 办理时间, 咨询电话 of an item: for an applicant's region, the hall of the
        office that handles it there (delegation followed); without one, the hall by level."""
        catalog, halls = self.catalog, self.catalog.halls
        window = f"{halls['windows'][item['department']]}号窗口"
        if region is None:
            return {
                "level": item["level"],
                "hall": GENERIC_HALLS[item["level"]],
                "window": window,
                "hours": halls["hours_zh"],
                "phone": halls["phone"].format(area_code="所在地区号"),
                "delegations": [
                    {
                        "level": d["level"],
                        "hall": GENERIC_HALLS[d["level"]],
                        "regions": list(d["regions"]),
                        "region_names": [catalog.regions[r]["name"] for r in d["regions"]],
                    }
                    for d in item.get("delegated_to") or []
                ],
            }
        level = handling_level(item, region, catalog.regions)
        at = office_of(catalog.departments[item["department"]], region, level, catalog.regions)
        office_level = catalog.regions[at]["level"]
        area_code = halls["area_codes"][at[:4] + "00"]
        return {
            "level": level,
            "delegated": level != item["level"],
            "region": at,
            "office": f"{item['department']}.{at}",
            "office_name": catalog.office_name(item["department"], at),
            "hall": halls["names_zh"][office_level].format(region=catalog.regions[at]["name"]),
            "window": window,
            "hours": halls["hours_zh"],
            "phone": (halls.get("phones") or {}).get(at)
            or halls["phone"].format(area_code=area_code),
        }

    def item_guide(self, code, region=None):
        item = self.catalog.items[code]
        stored = self.catalog.guides.get(code) or {}
        guide = {key: stored.get(key) for key in GUIDE_FIELDS}
        guide.update(
            fee_basis=stored.get("fee_basis", ""),
            in_person=stored.get("in_person", ""),
            where=self.where(item, region),
        )
        return guide

    def scenario_guide(self, code, region=None, optional_items=()):
        """One guide for the package: each item's guide, and what the applicant pays, waits
        and walks for the items applied for (the mandatory ones and the chosen optional ones).

        visits: the halls the applicant must go to, once each (items that need a visit at the
        same hall are done in one visit; 0 when every item can be done online).
        """
        catalog = self.catalog
        scenario = catalog.scenario(code)
        chosen = catalog.selected_items(scenario, optional_items)
        entries = []
        for entry in scenario["items"]:
            item = catalog.items[entry["item"]]
            entries.append(
                {
                    "code": item["code"],
                    "name": item["name"],
                    "name_zh": item.get("name_zh", ""),
                    "department": item["department"],
                    "department_name_zh": catalog.departments[item["department"]].get(
                        "name_zh", ""
                    ),
                    "optional": entry.get("optional", False),
                    "applied_for": item["code"] in chosen,
                    "fee": item.get("fee", 0),
                    "promised_days": item["promised_days"],
                    "legal_days": item["legal_days"],
                    "guide": self.item_guide(item["code"], region),
                }
            )
        applied = [e for e in entries if e["applied_for"]]
        halls_to_visit = sorted(
            {
                e["guide"]["where"].get("region") or e["guide"]["where"]["hall"]
                for e in applied
                if e["guide"]["visits"]
            }
        )
        total_fee = sum(e["fee"] for e in applied)
        return {
            "code": code,
            "name": scenario["name"],
            "name_zh": scenario.get("name_zh", ""),
            "catalog_version": catalog.version,
            "region": region,
            "optional_items": [e["code"] for e in applied if e["optional"]],
            "items": entries,
            "total_fee": total_fee,
            "fee_text": fee_amount(total_fee) if total_fee else FREE,
            "longest_promised_days": max(e["promised_days"] for e in applied),
            "promised_days": scenario["promised_days"],
            "promised_limit": limit_text(scenario["promised_days"]),
            "visits": len(halls_to_visit),
            # the union of the applied-for items' materials, each once
            "materials": catalog.checklist(scenario, chosen),
        }
