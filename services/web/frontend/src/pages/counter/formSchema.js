// The scenario's form (its JSON Schema from the catalog) as @rjsf/core shows it: titles and
// enum labels in the page's language (x-title-zh, x-enum-titles-zh when Chinese; the
// schema's own title and enum otherwise), per-field messages in that language, and the
// server's 400 per-field messages on the fields they name. Shared by the counter (filling
// it) and the officer's task (reading it).
import i18n from "../../i18n/index.js";

// the schema rjsf validates with ajv's default draft: without $schema/$id, titles localised
export function localisedSchema(schema, lang) {
  const { $schema, $id, ...rest } = schema || {};
  const properties = {};
  for (const [name, field] of Object.entries(rest.properties || {})) {
    properties[name] = { ...field, title: fieldTitle(field, name, lang) };
  }
  return { ...rest, title: undefined, properties };
}

export function fieldTitle(field, name, lang) {
  return (lang !== "en" && field?.["x-title-zh"]) || field?.title || name;
}

// enum labels (rjsf's ui:enumNames), hidden submit button (the page has its own)
export function uiSchemaFor(schema, lang) {
  const ui = { "ui:submitButtonOptions": { norender: true } };
  for (const [name, field] of Object.entries(schema?.properties || {})) {
    if (Array.isArray(field.enum)) {
      ui[name] = { "ui:enumNames": enumTitles(field, lang) };
    }
  }
  return ui;
}

export function enumTitles(field, lang) {
  const zh = field["x-enum-titles-zh"];
  if (lang !== "en" && Array.isArray(zh) && zh.length === field.enum.length) return zh;
  return field.enum.map(String);
}

// a stored form value as a person reads it (an enum value by its title)
export function displayValue(field, value, lang) {
  if (value === undefined || value === null || value === "") return "—";
  if (field && Array.isArray(field.enum)) {
    const index = field.enum.indexOf(value);
    if (index >= 0) return enumTitles(field, lang)[index];
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// ajv's errors said in the page's language (rjsf transformErrors)
export function transformErrors(errors) {
  return errors.map((error) => {
    const p = error.params || {};
    const key = `counter:validation.${error.name}`;
    const message = i18n.exists(key)
      ? i18n.t(key, {
          limit: p.limit,
          format: p.format,
          pattern: p.pattern,
        })
      : error.message;
    return { ...error, message, stack: message };
  });
}

// a 400's `fields.form` ({name: [messages]}) as rjsf extraErrors ({name: {__errors}})
export function extraErrorsOf(fields) {
  const form = fields?.form;
  if (!form || typeof form !== "object") return undefined;
  const out = {};
  for (const [name, messages] of Object.entries(form)) {
    out[name] = { __errors: [].concat(messages).map(String) };
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
