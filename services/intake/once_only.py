"""Once-only (design §6): a material that a valid e-licence of the applicant covers is filled
from the licence, not asked for again.

The catalog says which e-licence type covers a material (`license_type` on the
checklist); the license service says which licences a holder has and whether one
may be used (`find_reusable`, `check_license` over RPC). A material can be
- given as an upload: {"code", "file_id"};
- given as a licence: {"code", "license_id"} (the licence must be the applicant's own,
  of the right type, not revoked and not expired);
- left out, when the applicant holds a valid licence of the covering type.
The application then records which licence filled which material, with only the
licence's shared view (never its full data), and that is what departments receive.
"""


def covering_types(scenario):
    """material code -> the e-licence type that covers it (covered materials only)."""
    return {m["code"]: m["license_type"] for m in scenario["checklist"] if m.get("license_type")}


def resolve(body, scenario, needed, license_service):
    """Ask the license service about the licences this application uses.

    Returns {"given": {index: {"license": view} | {"error": why}},
             "held": {license type: view}} — `held` only for covered materials left out.
    The license service is called only when a covered material is involved.
    """
    covers = covering_types(scenario)
    holder = body["applicant"]["id_number"]
    given = {}
    for index, material in enumerate(body["materials"]):
        if material.get("license_id") and covers.get(material["code"]):
            given[index] = license_service.check_license(
                material["license_id"], holder, covers[material["code"]]
            )
    listed = {m["code"] for m in body["materials"]}
    wanted = sorted({covers[code] for code in needed if code in covers and code not in listed})
    held = license_service.find_reusable(holder, wanted) if wanted else {}
    return {"given": given, "held": held}


def held_licenses(scenario, holder, license_service):
    """license type -> the holder's newest valid licence of each type the scenario's
    checklist can be filled from (the license service is asked only when there is one)."""
    wanted = sorted(set(covering_types(scenario).values()))
    return license_service.find_reusable(holder, wanted) if wanted else {}


def license_problem(index, material, scenario, licenses):
    """The message for a material given as {code, license_id} that cannot be used, or None."""
    license_type = covering_types(scenario).get(material["code"])
    if not license_type:
        return f"no e-licence covers {material['code']}; upload it instead"
    answer = licenses["given"].get(index)
    if answer is None:
        return "this e-licence could not be checked"
    return answer.get("error")


def missing_message(code, scenario, licenses):
    license_type = covering_types(scenario).get(code)
    if license_type and license_type not in licenses["held"]:
        return (
            f"required material {code} is missing: you hold no valid {license_type} "
            f"e-licence that covers it, so upload a copy"
        )
    return f"required material {code} is missing"


def is_filled(code, scenario, licenses):
    license_type = covering_types(scenario).get(code)
    return bool(license_type) and license_type in licenses["held"]


def materials_of(body, scenario, needed, licenses):
    """The application's materials as recorded and sent to departments, in checklist order."""
    given = {m["code"]: (index, m) for index, m in enumerate(body["materials"])}
    covers = covering_types(scenario)
    recorded = []
    for code in needed:
        if code in given:
            index, material = given[code]
            if material.get("license_id"):
                recorded.append(from_license(code, licenses["given"][index]["license"], "given"))
            else:
                recorded.append({"code": code, "file_id": material["file_id"]})
        elif covers.get(code) in licenses["held"]:
            recorded.append(from_license(code, licenses["held"][covers[code]], "held"))
    return recorded


def from_license(code, view, how):
    """how: 'given' (the applicant named the licence) or 'held' (filled automatically)."""
    return {
        "code": code,
        "license_id": view["license_id"],
        "source": "e_license",
        "filled": how,
        "license": view,
    }


def checklist_view(scenario, held, holder):
    """The checklist for one holder: each material marked as filled by a licence or to upload."""
    covers = covering_types(scenario)
    checklist = []
    for material in scenario["checklist"]:
        entry = dict(material)
        view = held.get(covers.get(material["code"]))
        if view:
            entry.update(provided_by="e_license", license=view)
        else:
            entry["provided_by"] = "upload"
        checklist.append(entry)
    return {
        "scenario": scenario["code"],
        "catalog_version": scenario["catalog_version"],
        "holder": holder,
        "checklist": checklist,
        "to_upload": [m["code"] for m in checklist if m["provided_by"] == "upload"],
        "filled_from_licences": [m["code"] for m in checklist if m["provided_by"] == "e_license"],
        # what the applicant will pay (CNY), seen before submitting: the decision waits for it
        "fees": [
            {
                "item_code": i["code"],
                "item_name": i.get("name_zh") or i["name"],
                "fee": i.get("fee", 0),
                "optional": i.get("optional", False),
            }
            for i in scenario.get("items", [])
            if i.get("fee", 0) > 0
        ],
        "fee_total": sum(
            i.get("fee", 0) for i in scenario.get("items", []) if not i.get("optional")
        ),
    }
