// @rjsf/validator-ajv8 without code generation: Ajv compiles every schema into a function
// with `new Function`, which the pages' Content-Security-Policy rightly refuses (no
// 'unsafe-eval'), so the form could never validate in production. This keeps rjsf's
// validator (its error processing, transformErrors, extraErrors) and replaces only the
// schema check with an interpreter of the keywords the catalog's form schemas use
// (type, required, properties, additionalProperties, enum, minLength, maxLength, pattern,
// format date, minimum, maximum); the service checks the whole schema again on submit.
import { customizeValidator } from "@rjsf/validator-ajv8";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isDate(value) {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function typeOk(type, value) {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "null":
      return value === null;
    default:
      return true;
  }
}

// Ajv-shaped errors ({instancePath, schemaPath, keyword, params, message, parentSchema})
export function check(schema, data, path = "", schemaPath = "#", parent = schema) {
  const errors = [];
  const add = (keyword, params, message) =>
    errors.push({
      instancePath: path,
      schemaPath: `${schemaPath}/${keyword}`,
      keyword,
      params,
      message,
      parentSchema: parent,
    });
  if (!schema || typeof schema !== "object") return errors;
  if (schema.type) {
    const types = [].concat(schema.type);
    if (!types.some((t) => typeOk(t, data))) {
      add("type", { type: types.join(",") }, `must be ${types.join(",")}`);
      return errors;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((v) => v === data)) {
    add("enum", { allowedValues: schema.enum }, "must be equal to one of the allowed values");
  }
  if (typeof data === "string") {
    const length = [...data].length;
    if (schema.minLength !== undefined && length < schema.minLength)
      add("minLength", { limit: schema.minLength }, `must NOT have fewer than ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && length > schema.maxLength)
      add("maxLength", { limit: schema.maxLength }, `must NOT have more than ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(data))
      add("pattern", { pattern: schema.pattern }, `must match pattern "${schema.pattern}"`);
    if (schema.format === "date" && !isDate(data))
      add("format", { format: "date" }, 'must match format "date"');
  }
  if (typeof data === "number") {
    if (schema.minimum !== undefined && data < schema.minimum)
      add("minimum", { comparison: ">=", limit: schema.minimum }, `must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && data > schema.maximum)
      add("maximum", { comparison: "<=", limit: schema.maximum }, `must be <= ${schema.maximum}`);
  }
  if (data && typeof data === "object" && !Array.isArray(data)) {
    for (const name of schema.required || []) {
      if (data[name] === undefined)
        add("required", { missingProperty: name }, `must have required property '${name}'`);
    }
    const properties = schema.properties || {};
    for (const [name, value] of Object.entries(data)) {
      if (value === undefined) continue;
      if (properties[name]) {
        errors.push(
          ...check(properties[name], value, `${path}/${name}`, `${schemaPath}/properties/${name}`, properties[name]),
        );
      } else if (schema.additionalProperties === false) {
        add("additionalProperties", { additionalProperty: name }, "must NOT have additional properties");
      }
    }
  }
  return errors;
}

const validator = customizeValidator();
validator.rawValidation = (schema, formData) => ({ errors: check(schema, formData) });
validator.isValid = (schema, formData) => check(schema, formData).length === 0;

export default validator;
