"""Search in plain Chinese (issue 18): a person's own words -> ranked scenario packages,
the matching items inside each, and why each matched.

Pure domain: no nameko, no pymongo. One `SearchIndex` per catalog version, built once
(services.catalog.domain.Catalog.search_index) when the version is loaded, never per request.

- Words: jieba (the dictionary is loaded once per process, `start()`), in its search mode
  (a long word also yields the shorter words inside it); the catalog's own terms (package,
  item, material and licence-type names, the synonyms' targets) are added as user words.
- Everyday words: data/catalog/synonyms.yaml maps what people say ("生孩子") to catalog terms
  ("出生", "生育") or to a package code; a synonym applies when its word occurs in the query.
- Ranking: BM25 (rank_bm25.BM25Okapi) over one document per package (its name, counted
  three times, its English description, its items' names, materials and licence types) and over one
  document per item (its name twice, materials, licence type).

docs/adr/0017-search-libraries.md says why these libraries and this shape.
"""

import logging
import re
import threading
import time
import unicodedata

import jieba
from rank_bm25 import BM25Okapi

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 100
ITEMS_PER_PACKAGE = 5
PACKAGE_SUFFIX = "一件事"
CODE_TOKEN = "@{}"  # a package code as a word: only a synonym can produce it
# field -> times its words count in the package's document
PACKAGE_FIELDS = {
    "code": 3,
    "name": 3,
    "description": 1,
    "items": 1,
    "materials": 1,
    "license_types": 1,
}
ITEM_FIELDS = {"name": 2, "materials": 1, "license_type": 1}
HINT = (
    "没有找到相关的服务。可以换个说法再试，例如“生孩子”“开公司”“退休”“买房办证”，"
    "或者查看全部一件事（GET /api/scenarios）。"
)
_WORD = re.compile(r"\w")

_tokenizer = jieba.Tokenizer()
_user_words = set()
_lock = threading.Lock()


def start():
    """Load jieba's dictionary (about a second): at service start, not on the first query."""
    jieba.setLogLevel(logging.WARNING)
    _tokenizer.initialize()


def add_user_words(words):
    """Catalog terms that jieba should keep whole (it still yields the words inside them).

    The tokenizer is one per process: a term added for one catalog version stays known."""
    start()
    with _lock:
        for word in sorted(set(words) - _user_words):
            if len(word) > 1:
                _tokenizer.add_word(word)
            _user_words.add(word)


def normalise(text):
    """Full-width to half-width, lower case, surrounding space removed."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def words_of(text, stop_words=frozenset()):
    """The words of `text` in jieba's search mode, without stop words and punctuation."""
    found = []
    for word in _tokenizer.lcut_for_search(normalise(text)):
        word = word.strip()
        if word and _WORD.search(word) and word not in stop_words and word not in found:
            found.append(word)
    return found


def catalog_terms(data):
    """The catalog's own terms: the words jieba is told about."""
    terms = set()
    for scenario in data["scenarios"]:
        terms.add(scenario["name_zh"].removesuffix(PACKAGE_SUFFIX))
    for name in ("items", "materials", "license_types"):
        terms.update(entry["name_zh"] for entry in data[name] if entry.get("name_zh"))
    for entry in (data.get("synonyms") or {}).get("synonyms") or []:
        terms.update(t for t in entry.get("means") or [] if not _is_code(t, data))
    return {normalise(term) for term in terms if term}


def _is_code(target, data):
    return any(s["code"] == target for s in data["scenarios"])


class _Documents:
    """BM25 over documents made of fields; remembers which field holds which word."""

    def __init__(self, keys, field_words, weights):
        self.keys = keys
        self.fields = field_words  # key -> {field: set of words}
        corpus = []
        for key in keys:
            document = []
            for field, weight in weights.items():
                document.extend(sorted(field_words[key].get(field, ())) * weight)
            corpus.append(document or ["\0"])
        self.bm25 = BM25Okapi(corpus)

    def scores(self, words):
        return dict(zip(self.keys, self.bm25.get_scores(words))) if words else {}

    def containing(self, words):
        """The keys of the documents that hold at least one of the words."""
        return {
            key
            for key, counts in zip(self.keys, self.bm25.doc_freqs)
            if any(word in counts for word in words)
        }

    def matched(self, key, query_words):
        """[{word, via, fields}] for the query words found in the document's fields."""
        found = []
        for word, via in query_words:
            fields = [f for f, words in self.fields[key].items() if word in words]
            if fields:
                found.append(_match(word, via, fields))
        return found


def _match(word, via, fields=None):
    """How one word matched; a package code (a synonym's target) shows without its mark."""
    match = {"word": word.removeprefix(CODE_TOKEN.format(""))}
    if fields is not None:
        match["fields"] = fields
    if via:
        match["via"] = via
    return match


class SearchIndex:
    """The index of one catalog version; `search(q)` answers GET /api/search."""

    def __init__(self, catalog):
        started = time.monotonic()
        data = catalog.data
        synonyms = data.get("synonyms") or {}
        self.version = catalog.version
        self.catalog = catalog
        self.stop_words = frozenset(normalise(w) for w in synonyms.get("stop_words") or [])
        add_user_words(catalog_terms(data))
        self.synonyms = self._synonyms(synonyms.get("synonyms") or [], catalog)
        self.item_fields = {code: self._item_fields(item) for code, item in catalog.items.items()}
        self.items = _Documents(list(catalog.items), self.item_fields, ITEM_FIELDS)
        self.packages = _Documents(
            list(catalog.scenarios),
            {c: self._package_fields(s) for c, s in catalog.scenarios.items()},
            PACKAGE_FIELDS,
        )
        log.info(
            "search index of catalog version %s built in %.2f s: %d packages, %d items, "
            "%d everyday words",
            self.version,
            time.monotonic() - started,
            len(catalog.scenarios),
            len(catalog.items),
            len(self.synonyms),
        )

    # -- building -------------------------------------------------------------
    def _words(self, *texts):
        return {w for text in texts if text for w in words_of(text, self.stop_words)}

    def _item_fields(self, item):
        catalog = self.catalog
        license = catalog.license_types.get(item.get("license")) or {}
        return {
            "name": self._words(item["name_zh"]),
            "materials": self._words(
                *(catalog.materials[m].get("name_zh") for m in item["materials"])
            ),
            "license_type": self._words(license.get("name_zh")),
        }

    def _package_fields(self, scenario):
        fields = {
            "code": {CODE_TOKEN.format(scenario["code"])},
            "name": self._words(scenario["name_zh"].removesuffix(PACKAGE_SUFFIX)),
            # the English description only: description_zh restates the items' names with
            # generic words (社保, 办理, 一并) and lowered the query set's score when indexed
            # (docs/catalog.md "Search synonyms")
            "description": self._words(scenario.get("description")),
            "items": set(),
            "materials": set(),
            "license_types": set(),
        }
        for entry in scenario["items"]:
            item_fields = self.item_fields[entry["item"]]
            fields["items"] |= item_fields["name"]
            fields["materials"] |= item_fields["materials"]
            fields["license_types"] |= item_fields["license_type"]
        return fields

    def _synonyms(self, entries, catalog):
        """[(everyday word, [catalog words])], longest everyday word first."""
        table = []
        for entry in entries:
            targets = []
            for target in entry.get("means") or []:
                if target in catalog.scenarios:
                    targets.append(CODE_TOKEN.format(target))
                else:
                    targets.extend(words_of(target, self.stop_words))
            for word in entry.get("words") or []:
                table.append((normalise(word), targets))
        return sorted(table, key=lambda pair: -len(pair[0]))

    # -- answering ------------------------------------------------------------
    def query_words(self, q):
        """[(word, via)]: the query's own words (via None) and what its everyday words mean
        (via the everyday word), each word once."""
        text = normalise(q)
        found = {}
        for word in words_of(text, self.stop_words):
            found.setdefault(word, None)
        for everyday, targets in self.synonyms:
            if everyday in text:
                for target in targets:
                    found.setdefault(target, everyday)
        return list(found.items())

    def search(self, q, limit=10, offset=0):
        words = self.query_words(q)
        plain = [w for w, _ in words]
        scores = self.packages.scores(plain)
        ranked = sorted(self.packages.containing(plain), key=lambda c: (-scores[c], c))
        page = ranked[offset : offset + limit]
        item_scores, items_found = {}, set()
        if page:
            item_scores, items_found = self.items.scores(plain), self.items.containing(plain)
        answer = {
            "catalog_version": self.version,
            "q": q,
            "words": [_match(word, via) for word, via in words],
            "total": len(ranked),
            "limit": limit,
            "offset": offset,
            "results": [
                self._result(code, scores[code], words, item_scores, items_found) for code in page
            ],
        }
        if not ranked:
            answer["hint"] = HINT
        return answer

    def _result(self, code, score, words, item_scores, items_found):
        scenario = self.catalog.scenarios[code]
        return {
            "code": code,
            "name": scenario["name"],
            "name_zh": scenario["name_zh"],
            "audience": scenario["audience"],
            "score": round(float(score), 4),
            "matched": self.packages.matched(code, words),
            "items": self._items_of(scenario, words, item_scores, items_found),
        }

    def _items_of(self, scenario, words, item_scores, items_found):
        """The package's items that hold a word of the query, best first (at most 5)."""
        found = []
        for entry in scenario["items"]:
            code = entry["item"]
            if code in items_found:
                item = self.catalog.items[code]
                found.append(
                    {
                        "code": code,
                        "name": item["name"],
                        "name_zh": item["name_zh"],
                        "score": round(float(item_scores[code]), 4),
                        "matched": self.items.matched(code, words),
                    }
                )
        found.sort(key=lambda i: (-i["score"], i["code"]))
        return found[:ITEMS_PER_PACKAGE]
