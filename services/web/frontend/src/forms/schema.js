// A package's form (its JSON Schema from the catalog) as @rjsf/core shows it, for every screen
// that fills or reads one (the applicant's form, the counter's, the officer's task): the
// catalog's extensions (x-title-zh, x-enum-titles-zh) become titles and option labels in the
// page's language and leave the schema the validator sees; the validator's errors and the
// service's 400 field messages are said per field in the page's language (namespace "forms").
import { englishStringTranslator } from "@rjsf/utils";
import i18n from "../i18n/index.js";

const t = (key, options) => i18n.t(`forms:${key}`, options);
const english = (lang) => lang === "en";

// the schema without `$schema`, `$id` and every `x-...` keyword (the validator needs none)
export function cleanSchema(schema) {
  if (Array.isArray(schema)) return schema.map(cleanSchema);
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "$id" || key.startsWith("x-")) continue;
    out[key] = cleanSchema(value);
  }
  return out;
}

// one property's title in the page's language (x-title-zh in Chinese, else title, else name)
export function fieldTitle(property, name, lang) {
  return (!english(lang) && property?.["x-title-zh"]) || property?.title || name;
}

// an enum's labels: x-enum-titles-zh in Chinese when it matches the enum, else the few
// values the screens know (forms:enum_values), else the values themselves
export function enumTitles(property, lang) {
  const zh = property?.["x-enum-titles-zh"];
  if (!english(lang) && Array.isArray(zh) && zh.length === property.enum.length) return zh;
  return property.enum.map((value) => t(`enum_values.${value}`, { defaultValue: String(value) }));
}

// rjsf's uiSchema of the form's properties: titles, option labels, a hint for dates and
// ID numbers; `submitButton: false` hides rjsf's own button (the page has its own)
export function uiSchemaFor(schema, lang, { submitButton = true } = {}) {
  const ui = submitButton ? {} : { "ui:submitButtonOptions": { norender: true } };
  for (const [name, property] of Object.entries(schema?.properties || {})) {
    const field = { "ui:title": fieldTitle(property, name, lang) };
    if (Array.isArray(property.enum)) {
      field["ui:enumNames"] = enumTitles(property, lang);
      field["ui:placeholder"] = t("form.choose");
    }
    if (property.format === "date") field["ui:help"] = t("form.date_help");
    if (/id_number$/.test(name)) field["ui:help"] = t("form.id_number_help");
    ui[name] = field;
  }
  return ui;
}

// a stored form value as a person reads it (an enum value by its label)
export function displayValue(property, value, lang) {
  if (value === undefined || value === null || value === "") return "—";
  if (property && Array.isArray(property.enum)) {
    const index = property.enum.indexOf(value);
    if (index >= 0) return enumTitles(property, lang)[index];
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// rjsf's own few words (buttons, labels) in the page's language
export function translateString(str, params) {
  const key = `forms:rjsf.${str}`;
  if (!english(i18n.language) && i18n.exists(key)) return i18n.t(key);
  return englishStringTranslator(str, params);
}

// one validation error said as a person would (the field's title is beside it)
function messageOf(error) {
  const field = (error.property || "").split(".").pop();
  const params = error.params || {};
  switch (error.name) {
    case "required":
      return t("errors.required");
    case "pattern":
      return /id_number$/.test(field) ? t("errors.id_number") : t("errors.pattern");
    case "format":
      return params.format === "date" ? t("errors.date") : t("errors.format");
    case "enum":
    case "const":
      return t("errors.enum");
    case "minLength":
      return params.limit <= 1
        ? t("errors.required")
        : t("errors.min_length", { count: params.limit });
    case "maxLength":
      return t("errors.max_length", { count: params.limit });
    case "minimum":
    case "exclusiveMinimum":
      return t("errors.minimum", { limit: params.limit });
    case "maximum":
    case "exclusiveMaximum":
      return t("errors.maximum", { limit: params.limit });
    case "type":
      return t("errors.type");
    case "additionalProperties":
      return t("errors.additional_properties");
    default:
      return t("errors.invalid");
  }
}

// rjsf's transformErrors: every error in the page's language
export function transformErrors(errors) {
  return errors.map((error) => {
    const message = messageOf(error);
    return { ...error, message, stack: message };
  });
}

// one of the service's messages (English, from its validation) in the page's language;
// a message the screens do not know is shown as the service wrote it
export function serverMessage(text) {
  const known = [
    [/does not match expected pattern|pattern/i, "errors.pattern"],
    [/not a valid date/i, "errors.date"],
    [/must be one of/i, "errors.enum"],
    [/missing data for required field|required/i, "errors.required"],
    [/longer than|at most/i, "errors.too_long"],
    [/not a valid/i, "errors.invalid"],
  ];
  for (const [pattern, key] of known) if (pattern.test(text)) return t(key);
  return text;
}

// a 400's per-field messages of the form ({name: [messages]}, the answer's `fields.form`)
// as rjsf's extraErrors ({name: {__errors: [...]}})
export function extraErrorsOf(form) {
  const out = {};
  if (!form || typeof form !== "object") return out;
  for (const [name, messages] of Object.entries(form)) {
    const list = [].concat(messages).filter((m) => typeof m === "string");
    if (list.length) out[name] = { __errors: list.map(serverMessage) };
  }
  return out;
}

// nested per-field messages ({materials: {"0": {file_id: [..]}}}) as flat dotted names
export function flatFields(fields, prefix = "") {
  const out = {};
  for (const [key, value] of Object.entries(fields || {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      Object.assign(out, flatFields(value, name));
    } else {
      out[name] = [].concat(value).map(String);
    }
  }
  return out;
}
