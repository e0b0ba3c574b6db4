// rjsf's validator backed by @cfworker/json-schema (docs/adr/0026-staff-screens.md).
// Ajv, rjsf's usual validator, compiles every schema into code with `new Function`, which the
// pages' Content-Security-Policy refuses (no 'unsafe-eval'); cfworker interprets the schema
// (drafts 4, 7, 2019-09 and 2020-12) and never evaluates code. Its errors are reshaped as
// Ajv's ({instancePath, schemaPath, keyword, params, message, parentSchema}) and handed to
// rjsf's own error processing (titles, transformErrors, customValidate, errorSchema), which
// the ajv8 package ships as a module of its own that imports no Ajv.
import { dereference, validate } from "@cfworker/json-schema";
import processRawValidationErrors from "@rjsf/validator-ajv8/lib/processRawValidationErrors.js";

// the draft a schema declares; 2020-12 when it declares none (the catalog's forms)
function draftOf(schema) {
  const declared = String(schema?.$schema || "");
  if (declared.includes("draft-04")) return "4";
  if (declared.includes("draft-06") || declared.includes("draft-07")) return "7";
  if (declared.includes("2019-09")) return "2019-09";
  return "2020-12";
}

// cfworker marks the schema objects it resolves; it gets copies, never rjsf's own schemas
function copy(schema) {
  if (!schema || typeof schema !== "object") return schema;
  try {
    return structuredClone(schema);
  } catch {
    return JSON.parse(JSON.stringify(schema)); // a schema carrying a function (never JSON's)
  }
}

// one prepared schema per schema object rjsf passes (rjsf keeps them across renders)
const prepared = new WeakMap();
function prepare(schema, rootSchema) {
  const key = schema && typeof schema === "object" ? schema : null;
  const cached = key && prepared.get(key);
  if (cached && cached.rootSchema === rootSchema) return cached;
  const own = copy(schema);
  const lookup = dereference(own);
  // a sub-schema's "#/..." references point into the root schema (rjsf's anyOf/oneOf checks)
  if (rootSchema && rootSchema !== schema) Object.assign(lookup, dereference(copy(rootSchema)));
  const entry = { rootSchema, schema: own, lookup, draft: draftOf(schema) };
  if (key) prepared.set(key, entry);
  return entry;
}

// "#/a/b%20c" (cfworker's URI-encoded pointer) -> ["a", "b c"] (JSON-pointer-escaped segments)
function segments(location) {
  return location
    .replace(/^#/, "")
    .split("/")
    .slice(1)
    .map((s) => decodeURIComponent(s));
}
const unescape = (segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~");
const pointer = (parts) => parts.map((p) => `/${p}`).join("");

// the schema node holding the keyword at `location`, following $ref through the lookup
function nodeAt(entry, parts) {
  let node = entry.schema;
  for (const part of parts) {
    if (node === undefined || node === null) return undefined;
    if (part === "$ref" || part === "$recursiveRef") {
      node = entry.lookup[node.__absolute_ref__ || node.__absolute_recursive_ref__ || node[part]];
    } else {
      node = node[unescape(part)];
    }
  }
  return node;
}

function valueAt(data, parts) {
  let value = data;
  for (const part of parts) value = value?.[unescape(part)];
  return value;
}

// Ajv's params and message for one failed keyword, from the schema's value of it
function ajvShape(keyword, value, instance, extra) {
  switch (keyword) {
    case "required":
      return [{ missingProperty: extra }, `must have required property '${extra}'`];
    case "type":
      return [{ type: [].concat(value).join(",") }, `must be ${[].concat(value).join(",")}`];
    case "enum":
      return [{ allowedValues: value }, "must be equal to one of the allowed values"];
    case "const":
      return [{ allowedValue: value }, "must be equal to constant"];
    case "pattern":
      return [{ pattern: value }, `must match pattern "${value}"`];
    case "format":
      return [{ format: value }, `must match format "${value}"`];
    case "minLength":
      return [{ limit: value }, `must NOT have fewer than ${value} characters`];
    case "maxLength":
      return [{ limit: value }, `must NOT have more than ${value} characters`];
    case "minItems":
      return [{ limit: value }, `must NOT have fewer than ${value} items`];
    case "maxItems":
      return [{ limit: value }, `must NOT have more than ${value} items`];
    case "minProperties":
      return [{ limit: value }, `must NOT have fewer than ${value} properties`];
    case "maxProperties":
      return [{ limit: value }, `must NOT have more than ${value} properties`];
    case "minimum":
      return [{ comparison: ">=", limit: value }, `must be >= ${value}`];
    case "maximum":
      return [{ comparison: "<=", limit: value }, `must be <= ${value}`];
    case "exclusiveMinimum":
      return [{ comparison: ">", limit: value }, `must be > ${value}`];
    case "exclusiveMaximum":
      return [{ comparison: "<", limit: value }, `must be < ${value}`];
    case "multipleOf":
      return [{ multipleOf: value }, `must be multiple of ${value}`];
    case "uniqueItems":
      return [{}, "must NOT have duplicate items"];
    case "additionalProperties":
      return [{ additionalProperty: extra }, "must NOT have additional properties"];
    case "unevaluatedProperties":
      return [{ unevaluatedProperty: extra }, "must NOT have unevaluated properties"];
    case "anyOf":
      return [{}, "must match a schema in anyOf"];
    case "oneOf":
      return [{}, "must match exactly one schema in oneOf"];
    case "not":
      return [{}, "must NOT be valid"];
    case "false":
      return [{}, "boolean schema is false"];
    default:
      return [{}, instance];
  }
}

// keywords whose failure cfworker reports as a wrapper followed by the failures inside it;
// Ajv reports only those inside (anyOf, oneOf, if and not are reported by both)
const WRAPPERS = new Set([
  "properties",
  "patternProperties",
  "additionalProperties",
  "unevaluatedProperties",
  "items",
  "prefixItems",
  "additionalItems",
  "unevaluatedItems",
  "propertyNames",
  "dependentSchemas",
  "allOf",
  "$ref",
  "$recursiveRef",
]);

// cfworker's output units as Ajv's error objects
export function ajvErrors(entry, data, units) {
  const out = [];
  const missing = new Map(); // required keyword location -> the properties still to name
  for (let i = 0; i < units.length; i += 1) {
    const unit = units[i];
    const next = units[i + 1];
    let keyword = unit.keyword;
    let instanceParts = segments(unit.instanceLocation);
    const schemaParts = segments(unit.keywordLocation);
    let extra;
    if (
      (keyword === "additionalProperties" || keyword === "unevaluatedProperties") &&
      next?.keyword === "false"
    ) {
      // a property the schema does not allow: Ajv names it at the object
      extra = unescape(segments(next.instanceLocation).pop());
      i += 1;
    } else if (
      WRAPPERS.has(keyword) ||
      (keyword === "dependencies" && next?.keywordLocation.startsWith(`${unit.keywordLocation}/`))
    ) {
      continue;
    } else if (keyword === "required") {
      if (!missing.has(unit.keywordLocation)) {
        const object = valueAt(data, instanceParts) || {};
        const names = nodeAt(entry, schemaParts) || [];
        missing.set(
          unit.keywordLocation,
          names.filter((name) => !Object.prototype.hasOwnProperty.call(object, name)),
        );
      }
      extra = missing.get(unit.keywordLocation).shift();
    }
    const parentSchema = keyword === "false" ? undefined : nodeAt(entry, schemaParts.slice(0, -1));
    const value = parentSchema?.[keyword];
    const [params, message] = ajvShape(keyword, value, unit.error, extra);
    out.push({
      instancePath: pointer(instanceParts),
      schemaPath: `#${pointer(schemaParts)}`,
      keyword,
      params,
      message,
      parentSchema,
    });
  }
  return out;
}

// the data as JSON has it: a member set to undefined (a field the person emptied) is absent,
// as Ajv treats it, so it fails `required` and not `type`
function asJson(value) {
  if (Array.isArray(value)) return value.map(asJson);
  if (!value || typeof value !== "object") return value;
  const out = {};
  for (const [key, member] of Object.entries(value)) if (member !== undefined) out[key] = asJson(member);
  return out;
}

function run(schema, formData, rootSchema) {
  const entry = prepare(schema, rootSchema);
  const data = asJson(formData);
  const result = validate(data, entry.schema, entry.draft, entry.lookup, false);
  return result.valid ? [] : ajvErrors(entry, data, result.errors);
}

// rjsf's ValidatorType
const validator = {
  rawValidation(schema, formData) {
    try {
      const errors = run(schema, formData);
      return { errors: errors.length ? errors : undefined };
    } catch (error) {
      return { errors: undefined, validationError: error };
    }
  },
  validateFormData(formData, schema, customValidate, transformErrors, uiSchema) {
    return processRawValidationErrors(
      this,
      this.rawValidation(schema, formData),
      formData,
      schema,
      customValidate,
      transformErrors,
      uiSchema,
    );
  },
  isValid(schema, formData, rootSchema) {
    try {
      return run(schema, formData, rootSchema).length === 0;
    } catch (error) {
      console.warn("Error encountered validating with the schema:", error); // eslint-disable-line no-console
      return false;
    }
  },
  reset() {},
};

export default validator;
