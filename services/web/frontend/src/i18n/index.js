// Chinese first, with an English switch (docs/adr/0024). One namespace per area of the
// screens, one JSON file per language and namespace: common (the shell), home (browse and
// search), signin, applicant, counter, officer, supervisor, verify; and forms (the messages of
// every form generated from a JSON Schema, src/forms/schema.js).
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

const files = import.meta.glob("./*/*.json", { eager: true, import: "default" });
const resources = {};
for (const [path, messages] of Object.entries(files)) {
  const [, lang, ns] = path.match(/^\.\/(\w+)\/(\w+)\.json$/);
  (resources[lang] ||= {})[ns] = messages;
}

export const LANGUAGES = { zh: "zh-CN", en: "en" };
const STORED = "onestop.lang";

function initial() {
  const stored = globalThis.localStorage?.getItem(STORED);
  return stored in LANGUAGES ? stored : "zh";
}

i18n.use(initReactI18next).init({
  resources,
  lng: initial(),
  fallbackLng: "zh",
  ns: Object.keys(resources.zh),
  defaultNS: "common",
  interpolation: { escapeValue: false },
  returnNull: false,
});

function applyLang(lang) {
  document.documentElement.lang = LANGUAGES[lang] || "zh-CN";
  document.title = i18n.t("common:title");
}
applyLang(i18n.language);
i18n.on("languageChanged", (lang) => {
  globalThis.localStorage?.setItem(STORED, lang);
  applyLang(lang);
});

export default i18n;
