// The parameter panel's checks, from the component's JSON schema (params.properties/required),
// with the CLI's rules and words (components/params.py: Param.parse and Param.validate), so what
// the panel refuses as you type is what `trainyard pipeline submit` would refuse, said the same way.

export type Property = Record<string, unknown>;
export type Parsed = { value: unknown } | { error: string };

const INT_LIMIT = 2 ** 31 - 1;

/** A number as Python's ``format(x, "g")`` writes it (six significant digits, 1e-05, 1e+06). */
export function formatG(n: number): string {
  if (n === 0) return "0";
  const rounded = Number(n.toPrecision(6));
  const exponent = Math.floor(Math.log10(Math.abs(rounded)));
  if (exponent >= -4 && exponent < 6) return String(rounded);
  const [mantissa, power] = rounded.toExponential().split("e");
  const digits = power.replace(/^[+-]/, "").padStart(2, "0");
  return `${mantissa}e${power.startsWith("-") ? "-" : "+"}${digits}`;
}

/** A value as Python's ``repr`` shows it in the CLI's messages ('text', 1.5, 2.0 for a float). */
function repr(value: unknown, float = false): string {
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "number") return float && Number.isInteger(value) ? value.toFixed(1) : String(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  return JSON.stringify(value);
}

function rangeText(prop: Property): string | null {
  const lowEx = typeof prop.exclusiveMinimum === "number";
  const highEx = typeof prop.exclusiveMaximum === "number";
  const low = (lowEx ? prop.exclusiveMinimum : prop.minimum) as number | undefined;
  const high = (highEx ? prop.exclusiveMaximum : prop.maximum) as number | undefined;
  if (typeof low === "number" && typeof high === "number") {
    if (lowEx === highEx) return `between ${formatG(low)} and ${formatG(high)}${lowEx ? " (exclusive)" : ""}`;
    return `between ${formatG(low)} (${lowEx ? "exclusive" : "inclusive"}) and ${formatG(high)} (${highEx ? "exclusive" : "inclusive"})`;
  }
  if (typeof low === "number") return `${lowEx ? "greater than" : "at least"} ${formatG(low)}`;
  if (typeof high === "number") return `${highEx ? "less than" : "at most"} ${formatG(high)}`;
  return null;
}

function inRange(prop: Property, n: number): boolean {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = prop;
  if (typeof minimum === "number" && n < minimum) return false;
  if (typeof maximum === "number" && n > maximum) return false;
  if (typeof exclusiveMinimum === "number" && n <= exclusiveMinimum) return false;
  if (typeof exclusiveMaximum === "number" && n >= exclusiveMaximum) return false;
  return true;
}

/** Parameter ``name``'s value as typed in its field, as the schema's type wants it, or the CLI's
 * one-line reason it is not allowed. An empty field is unset (the component's default applies). */
export function parseField(name: string, prop: Property, text: string): Parsed {
  const fail = (allowed: string, value: unknown, float = false): Parsed => ({
    error: `${name} must be ${allowed}, got ${repr(value, float)}`,
  });
  if (isCode(prop)) return { value: text }; // source code as written: an emptied script stays empty
  if (text.trim() === "") return { value: undefined };
  const type = prop.type;
  let value: unknown = text;
  if (type === "integer" || type === "number") {
    const float = type === "number" || text.includes(".");
    const n = Number(text.trim());
    if (text.trim() === "" || Number.isNaN(n)) return fail(type === "integer" ? "a whole number" : "a number", text);
    if (!Number.isFinite(n)) return fail("a finite number (not inf or nan)", n);
    if (type === "integer" && !Number.isInteger(n)) return fail("a whole number", n, float);
    if (type === "integer" && Math.abs(n) > INT_LIMIT) {
      const low = typeof prop.minimum === "number" ? prop.minimum : -INT_LIMIT;
      return fail(`a whole number between ${formatG(low)} and ${INT_LIMIT}`, n);
    }
    value = n;
    const range = rangeText(prop);
    if (range && !inRange(prop, n)) return fail(range, n, float);
    if (Array.isArray(prop.enum) && !prop.enum.includes(n)) return fail(`one of ${prop.enum.join(", ")}`, n, float);
    return { value };
  }
  if (type === "boolean") {
    const lowered = text.trim().toLowerCase();
    if (!["true", "false", "1", "0", "yes", "no"].includes(lowered)) return fail("true or false", text);
    return { value: ["true", "1", "yes"].includes(lowered) };
  }
  if (type === "array") {
    const stripped = text.trim();
    let names: unknown = stripped.split(",").map((n) => n.trim()).filter(Boolean);
    if (stripped.startsWith("[")) {
      try {
        names = JSON.parse(stripped);
      } catch {
        return fail("a JSON list or comma-separated column names", text);
      }
    }
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string" && n))
      return fail("a list of column names", names);
    const allowed = (prop.items as Property | undefined)?.enum;
    const bad = Array.isArray(allowed) ? names.find((n) => !allowed.includes(n)) : undefined;
    if (bad !== undefined && Array.isArray(allowed)) return fail(`one of ${allowed.join(", ")}`, bad);
    return { value: names };
  }
  if (type === undefined) {
    // a json parameter: any JSON value
    try {
      return { value: JSON.parse(text) };
    } catch (e) {
      return fail(`JSON (${e instanceof Error ? e.message : String(e)})`, text);
    }
  }
  if (Array.isArray(prop.enum) && !prop.enum.includes(value)) return fail(`one of ${prop.enum.join(", ")}`, value);
  return { value };
}

/** A parameter whose value is source code (``format: python``): edited in the code editor. */
export function isCode(prop: Property): boolean {
  return prop.format === "python";
}

/** What the code editor shows: the draft's value, or the module's default (Azure's template)
 * while none is set, so there is a script to start from. */
export function codeText(value: unknown, prop: Property): string {
  if (typeof value === "string") return value;
  return typeof prop.default === "string" ? prop.default : "";
}

/** The field's text for a value the draft holds (the inverse of ``parseField``). */
export function fieldText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The first required parameter left unset, as the CLI says it; null when all are given. */
export function missingRequired(
  params: Record<string, unknown>,
  schema: { properties: Record<string, Property>; required: string[] },
  component: string,
): string | null {
  const name = schema.required.find((p) => params[p] === undefined);
  if (name === undefined) return null;
  return `${component}: parameter '${name}' is required (${String(schema.properties[name]?.description ?? "")})`;
}
