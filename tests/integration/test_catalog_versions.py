"""Catalog versions in the real store: a changed data set is a new version, applications keep
the version they were submitted under, and delegation is a data change that new applications
follow and old ones do not."""

import shutil

import pytest
import yaml

from services.catalog.domain import DEFAULT_DATA_DIR
from services.catalog.store import CatalogStore
from services.catalog.versions import CatalogVersions, InvalidCatalog

DELEGATED = "HN-ZR-0011"  # approval of farmland conversion, province level in the shipped data


def edited_copy(target, edit, filename="items/project.yaml"):
    """A copy of the shipped data directory with one YAML file changed by `edit`."""
    shutil.copytree(DEFAULT_DATA_DIR, target)
    path = target / filename
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(entries)
    path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def delegate_to_city(items):
    next(i for i in items if i["code"] == DELEGATED)["level"] = "city"


@pytest.fixture
def versions(db):
    store = CatalogStore(db)
    store.ensure_indexes()
    return CatalogVersions(store)


def test_loading_the_same_data_twice_is_one_version(versions):
    assert versions.load(DEFAULT_DATA_DIR) == 1
    assert versions.load(DEFAULT_DATA_DIR) == 1
    assert [v["version"] for v in versions.listing()] == [1]


def test_delegation_applies_to_new_applications_and_not_to_old_ones(versions, tmp_path):
    before = versions.load(DEFAULT_DATA_DIR)
    submitted_before = {
        "scenario": "land_use_approval",
        "region": "430223",
        "catalog_version": versions.get().version,
    }  # intake stores this
    after = versions.load(edited_copy(tmp_path / "delegated", delegate_to_city))
    submitted_after = dict(submitted_before, catalog_version=versions.get().version)
    assert (before, after) == (1, 2)

    def office_of_delegated_item(submitted):  # routing plans with the stored version
        plan = versions.get(submitted["catalog_version"]).plan(
            submitted["scenario"], submitted["region"]
        )
        assert plan["catalog_version"] == submitted["catalog_version"]
        return next(t for t in plan["tasks"] if t["item_code"] == DELEGATED)

    old, new = office_of_delegated_item(submitted_before), office_of_delegated_item(submitted_after)
    assert (old["level"], old["office"]) == ("province", "natural_resources.430000")
    assert (new["level"], new["office"]) == ("city", "natural_resources.430200")
    diff = versions.diff(1, 2)
    assert diff["delegations"] == [{"item": DELEGATED, "from": "province", "to": "city"}]
    assert diff["summary"]["items"] == {"added": 0, "removed": 0, "changed": 1}


def test_each_version_searches_with_its_own_synonyms_and_the_index_is_built_at_load(
    versions, tmp_path
):
    def add_synonym(synonyms):
        synonyms["synonyms"].append({"words": ["吃席"], "means": ["death"]})

    versions.load(DEFAULT_DATA_DIR)
    assert versions.get().search_ready  # built by the load, not by the first search
    assert versions.get().search_index().search("吃席")["results"] == []
    assert versions.load(edited_copy(tmp_path / "synonyms", add_synonym, "synonyms.yaml")) == 2
    current = versions.get()
    assert current.version == 2 and current.search_ready
    found = current.search_index().search("吃席")
    assert found["catalog_version"] == 2 and found["results"][0]["code"] == "death"
    assert versions.get(1).search_index().search("吃席")["results"] == []
    assert versions.diff(1, 2)["synonyms"]["added"] == ["吃席"]


def test_another_process_sees_versions_loaded_after_it_started(versions, db, tmp_path):
    versions.load(DEFAULT_DATA_DIR)
    other = CatalogVersions(CatalogStore(db))
    other.load(edited_copy(tmp_path / "delegated", delegate_to_city))
    assert versions.get(2).items[DELEGATED]["level"] == "city"
    # going back to the first data set makes version 1 current again, not a third version
    assert versions.load(DEFAULT_DATA_DIR) == 1
    assert [v["current"] for v in versions.listing()] == [True, False]


def test_data_that_fails_the_check_is_not_loaded(versions, tmp_path):
    def break_channels(items):
        items[0]["channels"] = ["online"]

    versions.load(DEFAULT_DATA_DIR)
    with pytest.raises(InvalidCatalog) as refused:
        versions.load(edited_copy(tmp_path / "broken", break_channels))
    assert "must offer both online and offline channels" in str(refused.value)
    assert [v["version"] for v in versions.listing()] == [1]


REGIONAL = "HN-MZ-0005"  # 最低生活保障申请: county level, in the special_groups package


def delegate_to_townships_of_changsha_county(items):
    entry = next(i for i in items if i["code"] == REGIONAL)
    entry["delegated_to"] = [{"level": "township", "regions": ["430121"]}]


def test_a_regional_delegation_applies_to_new_applications_only(versions, tmp_path):
    versions.load(DEFAULT_DATA_DIR)
    submitted_before = {
        "scenario": "special_groups",
        "region": "430121002",  # 湘龙街道, 长沙县
        "optional_items": [REGIONAL],
        "catalog_version": versions.get().version,
    }
    versions.load(
        edited_copy(
            tmp_path / "regional", delegate_to_townships_of_changsha_county, "items/individual.yaml"
        )
    )
    submitted_after = dict(submitted_before, catalog_version=versions.get().version)
    elsewhere = dict(submitted_after, region="430223101")  # 网岭镇, 攸县: not delegated

    def task_of(submitted):  # routing plans with the stored version
        plan = versions.get(submitted["catalog_version"]).plan(
            submitted["scenario"], submitted["region"], submitted["optional_items"]
        )
        return next(t for t in plan["tasks"] if t["item_code"] == REGIONAL)

    assert (task_of(submitted_before)["office"], task_of(submitted_before)["delegated"]) == (
        "civil_affairs.430121",
        False,
    )
    assert (task_of(submitted_after)["office"], task_of(submitted_after)["delegated"]) == (
        "civil_affairs.430121002",
        True,
    )
    assert task_of(elsewhere)["office"] == "civil_affairs.430223"
    diff = versions.diff(1, 2)
    assert diff["delegations"] == [
        {
            "item": REGIONAL,
            "regional": {"from": [], "to": [{"level": "township", "regions": ["430121"]}]},
        }
    ]
