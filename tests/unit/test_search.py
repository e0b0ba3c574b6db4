"""Search (issue 18, services/catalog/search.py): why a package matched, the items inside
it, the empty answer's hint, pages, one index per catalog version, the query's 400s, and
the catalog check of synonyms.yaml."""

import copy

import pytest

from onestop.common.http import BadRequest, load
from services.catalog import views
from services.catalog.check import check, check_synonyms
from services.catalog.domain import Catalog, load_data
from services.catalog.schemas import SearchQuery
from services.catalog.search import HINT, SearchIndex

DATA = load_data()
CATALOG = Catalog(DATA)


def search(q, **page):
    return CATALOG.search_index().search(q, **page)


def test_everyday_words_reach_the_package_and_say_why():
    answer = search("生孩子要办什么")
    top = answer["results"][0]
    assert top["code"] == "birth" and top["name_zh"] == "出生一件事"
    assert top["score"] > answer["results"][1]["score"]
    via = {m["word"]: m for m in top["matched"] if m.get("via") == "生孩子"}
    assert via["birth"]["fields"] == ["code"]  # the synonym points at the package itself
    assert "name" in via["出生"]["fields"]  # and at a catalog term in its name
    assert {"word": "birth", "via": "生孩子"} in answer["words"]


def test_the_matching_items_inside_a_package_are_ranked():
    top = search("身份证丢了")["results"][0]
    assert top["code"] == "certificate_application"
    assert top["items"][0]["code"] == "HN-GA-0006"  # 居民身份证补领: the one for a lost card
    assert top["items"][0]["name_zh"] == "居民身份证补领"
    assert {"word": "补领", "fields": ["name"], "via": "身份证丢"} in top["items"][0]["matched"]
    scores = [item["score"] for item in top["items"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 5
    in_package = {e["item"] for e in CATALOG.scenarios["certificate_application"]["items"]}
    assert {item["code"] for item in top["items"]} <= in_package


def test_words_from_the_query_itself_match_without_a_synonym():
    top = search("施工图审查")["results"][0]
    assert top["code"] == "drawings_joint_review"
    assert any(m["word"] == "施工图" and "via" not in m for m in top["matched"])


@pytest.mark.parametrize("q", ["天气预报", "怎么办", "？？？"])
def test_no_match_is_an_empty_list_with_a_hint(q):
    answer = search(q)
    assert answer["results"] == [] and answer["total"] == 0
    assert answer["hint"] == HINT


def test_an_answer_with_results_has_no_hint():
    assert "hint" not in search("退休了领养老金")


def test_pages_cut_the_ranked_list():
    whole = search("登记", limit=26)
    assert whole["total"] > 3
    page = search("登记", limit=2, offset=1)
    assert page["total"] == whole["total"]
    assert [r["code"] for r in page["results"]] == [r["code"] for r in whole["results"][1:3]]


def test_full_width_and_case_do_not_matter():
    assert search("ＫＴＶ")["results"][0]["code"] == search("ktv")["results"][0]["code"]


def test_the_index_is_built_once_per_catalog_version():
    catalog = Catalog(DATA, version=7)
    index = catalog.search_index()
    assert catalog.search_index() is index
    assert index.search("开公司")["catalog_version"] == 7
    assert (
        views.search(catalog, {"q": "开公司", "limit": 1, "offset": 0})["results"][0]["code"]
        == "enterprise_startup"
    )


def test_a_catalog_without_synonyms_still_searches_its_own_words():
    data = copy.deepcopy(DATA)
    data["synonyms"] = {}
    index = SearchIndex(Catalog(data))
    answer = index.search("生孩子")
    assert all("via" not in word for word in answer["words"])
    assert index.search("结婚登记")["results"][0]["code"] == "marriage"


# -- the query's refusals (400 with a message for the field) ---------------------------
@pytest.mark.parametrize(
    "query, field",
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "生" * 101}, "q"),
        ({"q": "生孩子", "limit": "0"}, "limit"),
        ({"q": "生孩子", "limit": "27"}, "limit"),
        ({"q": "生孩子", "offset": "-1"}, "offset"),
        ({"q": "生孩子", "offset": "101"}, "offset"),
        ({"q": "生孩子", "sort": "x"}, "sort"),
    ],
)
def test_bad_queries_are_refused_per_field(query, field):
    with pytest.raises(BadRequest) as refused:
        load(SearchQuery(), query)
    assert list(refused.value.fields) == [field]


def test_the_messages_for_q_are_in_chinese():
    with pytest.raises(BadRequest) as refused:
        load(SearchQuery(), {"q": "生" * 101})
    assert "最多100个字" in refused.value.fields["q"][0]
    with pytest.raises(BadRequest) as refused:
        load(SearchQuery(), {})
    assert "请输入要办的事" in refused.value.fields["q"][0]


def test_a_query_of_100_characters_is_accepted():
    assert load(SearchQuery(), {"q": "生" * 100})["limit"] == 10


# -- synonyms.yaml in the catalog check --------------------------------------------------
def test_the_shipped_synonyms_pass_the_check():
    assert check_synonyms(CATALOG, DATA["synonyms"]) == []
    assert len(DATA["synonyms"]["synonyms"]) >= 50


@pytest.mark.parametrize(
    "entry, problem",
    [
        ({"words": ["吃饭"], "means": ["火锅"]}, "'火锅' is neither a package code nor a word"),
        ({"words": ["吃饭"], "means": ["no_such_package"]}, "'no_such_package' is neither"),
        ({"words": [], "means": ["出生"]}, "non-empty lists"),
        ({"words": ["吃饭"], "means": ["出生"], "extra": 1}, "only words and means"),
        ({"words": ["生孩子"], "means": ["出生"]}, "everyday word '生孩子' is listed twice"),
        ({"words": ["吃饭"], "means": ["的"]}, "'的' is a stop word"),
    ],
)
def test_a_bad_synonym_fails_the_catalog_check(entry, problem):
    data = copy.deepcopy(DATA)
    data["synonyms"]["synonyms"].append(entry)
    problems = check(data)
    assert any(problem in p for p in problems), problems


def test_targets_may_be_package_codes_or_words_inside_catalog_names():
    synonyms = {"synonyms": [{"words": ["吃饭"], "means": ["birth", "设立登记", "营业执照"]}]}
    assert check_synonyms(CATALOG, synonyms) == []


def test_the_benchmark_measures_the_query_set_in_process():
    from bench import search as bench_search

    queries = [{"q": "生孩子", "expect": "birth"}, {"q": "开公司", "expect": "enterprise_startup"}]
    result = bench_search.measure(lambda q: search(q), queries, rounds=2)
    assert result["queries"] == 2 and result["answers"] == 4
    assert result["first_share"] == 1.0
    assert 0 < result["median_ms"] <= result["p99_ms"] <= result["max_ms"]
