// Tools and structured output as what they are: the `tools` and `response_format` parameters read from and written to
// the forms that edit them (OpenAI's Chat Completions shapes). Pure logic, no DOM.

// OpenAI's rule for a function's name (and a json_schema's): letters, digits, underscores and dashes, at most 64.
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const EMPTY_SCHEMA = '{\n  "type": "object",\n  "properties": {}\n}';

function nameProblem(name, what) {
  if (!name) return `Give the ${what} a name.`;
  if (!NAME_RE.test(name)) return "Letters, digits, _ and - only, at most 64.";
  return null;
}

/** A JSON schema typed as text: [the parsed object, null] or [null, why not]. */
export function parseSchema(text) {
  let schema;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    return [null, `Not valid JSON: ${error.message}`];
  }
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return [null, "A JSON schema is an object."];
  return [schema, null];
}

/**
 * The tools form's rows ({name, description, parameters: JSON schema text}) as the `tools` parameter.
 * @returns {{value: Array<object>|null, problems: Array<{index: number, field: string, message: string}>}} value is
 *   null while there is a problem, [] when there is no tool (then nothing is sent).
 */
export function toolsToValue(rows) {
  const problems = [];
  const seen = new Set();
  const value = rows.map((row, index) => {
    const name = (row.name || "").trim();
    const naming = nameProblem(name, "tool");
    if (naming) problems.push({ index, field: "name", message: naming });
    else if (seen.has(name)) problems.push({ index, field: "name", message: "Another tool has this name." });
    seen.add(name);
    const fn = { name };
    if ((row.description || "").trim()) fn.description = row.description.trim();
    const [schema, schemaProblem] = parseSchema(row.parameters || EMPTY_SCHEMA);
    if (schemaProblem) problems.push({ index, field: "parameters", message: schemaProblem });
    fn.parameters = schema;
    return { type: "function", function: fn };
  });
  return { value: problems.length ? null : value, problems };
}

/** The `tools` parameter as the form's rows, or null when it is not a list of function tools the form can show. */
export function toolsFromValue(value) {
  if (value === undefined || value === null || value === "") return [];
  if (!Array.isArray(value)) return null;
  const rows = [];
  for (const tool of value) {
    const fn = tool && tool.type === "function" && tool.function;
    if (!fn || typeof fn !== "object") return null;
    rows.push({
      name: fn.name || "",
      description: fn.description || "",
      parameters: JSON.stringify(fn.parameters || { type: "object", properties: {} }, null, 2),
    });
  }
  return rows;
}

/**
 * The response format form ({type: "" | "text" | "json_object" | "json_schema", name, strict, schema: text}) as the
 * `response_format` parameter.
 * @returns {{value: object|null, problems: Array<{field: string, message: string}>}} value null: nothing to send (type
 *   "") or a problem.
 */
export function responseFormatToValue(form) {
  if (!form.type) return { value: null, problems: [] };
  if (form.type !== "json_schema") return { value: { type: form.type }, problems: [] };
  const problems = [];
  const name = (form.name || "").trim();
  const naming = nameProblem(name, "schema");
  if (naming) problems.push({ field: "name", message: naming });
  const [schema, schemaProblem] = parseSchema(form.schema || "");
  if (schemaProblem) problems.push({ field: "schema", message: schemaProblem });
  if (problems.length) return { value: null, problems };
  const jsonSchema = { name, schema };
  if (form.strict) jsonSchema.strict = true;
  return { value: { type: "json_schema", json_schema: jsonSchema }, problems };
}

/** The `response_format` parameter as the form, or null when the form cannot show it. */
export function responseFormatFromValue(value) {
  if (value === undefined || value === null || value === "") return { type: "", name: "", strict: false, schema: EMPTY_SCHEMA };
  if (typeof value !== "object" || Array.isArray(value)) return null;
  if (value.type === "text" || value.type === "json_object") {
    return { type: value.type, name: "", strict: false, schema: EMPTY_SCHEMA };
  }
  const spec = value.type === "json_schema" && value.json_schema;
  if (!spec || typeof spec !== "object") return null;
  return {
    type: "json_schema",
    name: spec.name || "",
    strict: spec.strict === true,
    schema: JSON.stringify(spec.schema || {}, null, 2),
  };
}
