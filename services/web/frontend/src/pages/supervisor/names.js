// Chinese (or English) names of the catalog's departments, regions and scenarios, for the
// codes the supervision and licence APIs answer with (public catalog reads, no token).
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api.js";
import { useApi } from "../../components/common.jsx";

export function useCatalogNames() {
  const { i18n } = useTranslation();
  const departments = useApi("/api/departments", { anonymous: true }).data;
  const regions = useApi("/api/regions", { anonymous: true }).data;
  const scenarios = useApi("/api/scenarios", { anonymous: true }).data;
  const zh = i18n.language !== "en";
  // one object while the answers and the language stay (charts redraw only on change)
  return useMemo(() => {
    const byCode = (list) => Object.fromEntries((list || []).map((entry) => [entry.code, entry]));
    const named = (entry, code) => (entry ? (zh ? entry.name_zh || entry.name : entry.name) : code);
    const deps = byCode(departments?.departments);
    const regs = byCode(regions?.regions);
    const scens = byCode(scenarios?.scenarios);
    return {
      regions: regions?.regions || [],
      department: (code) => named(deps[code], code),
      // regions have Chinese names only: they are place names
      region: (code) => regs[code]?.name || code,
      scenario: (code) => named(scens[code], code),
    };
  }, [departments, regions, scenarios, zh]);
}

// does `region` lie in `area` (the province xx0000, a city xxxx00, or the region itself)?
export function regionCovers(area, region) {
  if (!area || !region) return true;
  if (area === region) return true;
  if (area.endsWith("0000")) return region.startsWith(area.slice(0, 2));
  if (area.endsWith("00")) return region.startsWith(area.slice(0, 4));
  return false;
}

// one request per item code for the whole visit, however many rows name it
const items = new Map();

function itemOf(code) {
  if (!items.has(code)) {
    items.set(
      code,
      api(`/api/items/${encodeURIComponent(code)}`, { anonymous: true }).catch(() => null),
    );
  }
  return items.get(code);
}

// a service item's name in the page's language ("" until known)
export function ItemName({ code, fallback }) {
  const { i18n } = useTranslation();
  const [item, setItem] = useState(null);
  useEffect(() => {
    let live = true;
    if (code) itemOf(code).then((found) => live && setItem(found));
    return () => {
      live = false;
    };
  }, [code]);
  if (!item) return fallback || code || "";
  return i18n.language === "en" ? item.name : item.name_zh || item.name;
}
