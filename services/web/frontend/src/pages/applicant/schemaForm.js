// The scenario's JSON Schema made into what @rjsf/core shows: catalog extensions (x-title-zh,
// x-enum-titles-zh) become the uiSchema's titles in the page's language and leave the schema
// the validator sees; validation messages are said per field in the page's language, and the
// server's own 400 field messages are put back at their fields.
import { englishStringTranslator } from "@rjsf/utils";
import i18n from "../../i18n/index.js";

const t = (key, options) => i18n.t(`applicant:${key}`, options);

// drop `$schema`, `$id` and every `x-...` keyword (the validator needs none of them)
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

// the title of one property in the page's language (x-title-zh in Chinese, else title)
export function fieldTitle(property, name, lang) {
  if (lang !== "en" && property?.["x-title-zh"]) return property["x-title-zh"];
  return property?.title || name;
}

export function uiSchemaFor(schema, lang) {
  const ui = {};
  for (const [name, property] of Object.entries(schema?.properties || {})) {
    const field = { "ui:title": fieldTitle(property, name, lang) };
    if (property.enum) {
      const zh = property["x-enum-titles-zh"];
      const names =
        lang !== "en" && Array.isArray(zh) && zh.length === property.enum.length
          ? zh
          : property.enum.map((value) => t(`enum_values.${value}`, { defaultValue: String(value) }));
      field["ui:enumNames"] = names;
      field["ui:placeholder"] = t("form.choose");
    }
    if (property.format === "date") field["ui:help"] = t("form.date_help");
    if (/id_number$/.test(name)) field["ui:help"] = t("form.id_number_help");
    ui[name] = field;
  }
  return ui;
}

// rjsf's own few words (buttons, labels) in the page's language
const RJSF_ZH = {
  Yes: "是",
  No: "否",
  Errors: "错误",
  Close: "关闭",
  "Select a date": "选择日期",
  Now: "今天",
  Clear: "清除",
  "clear input": "清除输入",
};
export function translateString(str, params) {
  if (i18n.language !== "en" && RJSF_ZH[str]) return RJSF_ZH[str];
  return englishStringTranslator(str, params);
}

// ajv's errors, one per field, said as a person would (the field's title is beside it)
export function transformErrors(errors) {
  return errors.map((error) => {
    const field = (error.property || "").replace(/^\./, "").split(".").pop();
    const params = error.params || {};
    let message;
    switch (error.name) {
      case "required":
        message = t("errors.required");
        break;
      case "pattern":
        message = /id_number$/.test(field) ? t("errors.id_number") : t("errors.pattern");
        break;
      case "format":
        message = params.format === "date" ? t("errors.date") : t("errors.format");
        break;
      case "enum":
        message = t("errors.enum");
        break;
      case "minLength":
        message = params.limit <= 1 ? t("errors.required") : t("errors.min_length", { count: params.limit });
        break;
      case "maxLength":
        message = t("errors.max_length", { count: params.limit });
        break;
      case "minimum":
        message = t("errors.minimum", { limit: params.limit });
        break;
      case "maximum":
        message = t("errors.maximum", { limit: params.limit });
        break;
      case "type":
        message = t("errors.type");
        break;
      default:
        message = t("errors.invalid");
    }
    return { ...error, message, stack: message };
  });
}

// one message of the server's (English, from the service's validation) in the page's language
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

// the server's `fields.form` ({name: [messages]}) as rjsf's errorSchema
export function serverErrorSchema(fields) {
  const out = {};
  for (const [name, messages] of Object.entries(fields || {})) {
    const list = [].concat(messages).filter((m) => typeof m === "string");
    if (list.length) out[name] = { __errors: list.map(serverMessage) };
  }
  return out;
}
