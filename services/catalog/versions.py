"""Catalog versions: loading a changed data set creates a new version; old ones stay
servable so in-flight applications keep the version they were submitted under.
All versions are held in memory after load (get_scenario and plan never hit the store).
"""

import logging

from nameko.extensions import DependencyProvider
from pymongo.errors import DuplicateKeyError

from onestop.common.working_days import WorkingCalendar
from services.catalog.check import check
from services.catalog.diff import diff_catalogs
from services.catalog.domain import Catalog, data_hash, load_data, DEFAULT_DATA_DIR
from services.catalog.store import CatalogStore
from onestop.common import config
from onestop.common.clock import utcnow
from onestop.common.errors import Invalid, Unknown
from onestop.common.mongo import connect

log = logging.getLogger(__name__)


class UnknownVersion(Unknown):
    def __init__(self, version):
        super().__init__(f"no catalog version {version}; see GET /api/catalog/versions")
        self.version = version


class InvalidCatalog(Invalid):
    """The data files fail the catalog check; they are not loaded."""

    def __init__(self, data_dir, problems):
        super().__init__(
            f"catalog data in {data_dir} fails the check ({len(problems)} "
            f"problems): " + "; ".join(problems[:10])
        )
        self.problems = problems


class CatalogVersions:
    def __init__(self, store):
        self.store = store
        self._catalogs = {}

    def load(self, data_dir=DEFAULT_DATA_DIR, verify=True):
        """Register the data files as a version (new if changed); return the current version.

        Data that fails the catalog check is refused (InvalidCatalog): an operator cannot
        load a catalog that would misroute applications. The current version's views are
        built here, so get_scenario and plan are answered from memory.
        """
        data = load_data(data_dir)
        if verify:
            problems = check(data)
            if problems:
                raise InvalidCatalog(data_dir, problems)
        digest = data_hash(data)
        existing = self.store.version_by_hash(digest)
        if existing is None:
            latest = self.store.latest()
            version = (latest["_id"] + 1) if latest else 1
            try:
                self.store.add_version(version, digest, data, utcnow())
                log.info("catalog version %s loaded from %s", version, data_dir)
            except DuplicateKeyError:  # another catalog process loaded it at the same time
                pass
        self._catalogs.clear()
        for entry in self.store.versions():
            self._catalogs[entry["_id"]] = None
        self.current = self.store.version_by_hash(digest)["_id"]
        current = self.get(self.current)
        for code in current.scenarios:
            current.scenario_view(code)
        current.search_index()  # built here, once per loaded version, not on a request
        return self.current

    def get(self, version=None):
        version = self.current if version is None else int(version)
        if version not in self._catalogs:
            self._refresh()  # another catalog process may have loaded it since
        if version not in self._catalogs:
            raise UnknownVersion(version)
        if self._catalogs[version] is None:
            self._catalogs[version] = Catalog(self.store.version_data(version), version)
        return self._catalogs[version]

    def _refresh(self):
        for entry in self.store.versions():
            self._catalogs.setdefault(entry["_id"], None)

    def diff(self, old_version, new_version):
        """What changed from one version to another (services.catalog.diff)."""
        old, new = self.get(old_version), self.get(new_version)
        return dict(diff_catalogs(old.data, new.data), **{"from": old.version, "to": new.version})

    def calendar(self):
        return WorkingCalendar(self.get().data["calendar"])

    def listing(self):
        return [
            {
                "version": e["_id"],
                "hash": e["hash"],
                "loaded_at": e["loaded_at"],
                "current": e["_id"] == self.current,
            }
            for e in self.store.versions()
        ]


class CatalogData(DependencyProvider):
    """Loads the catalog files into versions at start; workers get the CatalogVersions."""

    def setup(self):
        self.client = connect(self.container.config.get("MONGO_URI"))
        store = CatalogStore(self.client[config.db_name("catalog")])
        store.ensure_indexes()
        self.versions = CatalogVersions(store)
        self.versions.load(config.env("CATALOG_DATA_DIR", str(DEFAULT_DATA_DIR)))

    def stop(self):
        self.client.close()

    def get_dependency(self, worker_ctx):
        return self.versions
