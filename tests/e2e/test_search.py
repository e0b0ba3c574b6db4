"""Search through the gateway (issue 18): a person's own words find the package, with no
token; a bad query is a 400 naming the field; nothing found is a 200 with a hint; the
catalog's /metrics counts both kinds of answer."""

import requests

SEARCHES = ("生孩子要办什么", "开个小饭馆", "退休了领养老金", "盖房子要什么手续", "家里老人去世了")
EXPECTED = ("birth", "enterprise_startup", "retirement", "construction_permit", "death")


def searches_counted(mesh, result):
    text = requests.get(mesh.service_url("catalog") + "/metrics", timeout=30).text
    line = f'catalog_searches_total{{result="{result}"}}'
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


def test_everyday_words_find_the_package_without_a_token(mesh):
    before = searches_counted(mesh, "found")
    for q, expected in zip(SEARCHES, EXPECTED):
        answer = mesh.get("/api/search", params={"q": q})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        top = body["results"][0]
        assert top["code"] == expected, (q, [r["code"] for r in body["results"]])
        assert top["matched"] and top["items"] and top["score"] > 0
        assert body["catalog_version"] >= 1 and "hint" not in body
    assert searches_counted(mesh, "found") == before + len(SEARCHES)


def test_the_python_client_searches(client):
    assert client.search("退休了领养老金", limit=1)["results"][0]["code"] == "retirement"


def test_a_page_of_the_answer(mesh):
    whole = mesh.get("/api/search", params={"q": "登记", "limit": 26}).json()
    page = mesh.get("/api/search", params={"q": "登记", "limit": 2, "offset": 2}).json()
    assert page["total"] == whole["total"] > 4
    assert [r["code"] for r in page["results"]] == [r["code"] for r in whole["results"][2:4]]


def test_nothing_found_is_200_with_a_hint(mesh):
    before = searches_counted(mesh, "none")
    answer = mesh.get("/api/search", params={"q": "明天天气预报"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["results"] == [] and body["total"] == 0
    assert "换个说法" in body["hint"]
    assert searches_counted(mesh, "none") == before + 1


def test_bad_queries_are_400_with_a_message_for_the_field(mesh):
    for params, field in (
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "我" * 101}, "q"),
        ({"q": "生孩子", "limit": "1000"}, "limit"),
        ({"q": "生孩子", "offset": "x"}, "offset"),
    ):
        answer = mesh.get("/api/search", params=params)
        assert answer.status_code == 400, (params, answer.text)
        fields = answer.json()["fields"]
        assert list(fields) == [field], (params, fields)
