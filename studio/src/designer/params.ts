// The parameter panel's checks, from the component's JSON schema (params.properties/required).

export type Property = Record<string, unknown>;

/** The value typed in a field, as the schema's type wants it, or the one-line reason it is not. */
export function parseField(prop: Property, text: string): { value: unknown } | { error: string } {
  const type = prop.type;
  if (text === "") return { value: undefined };
  if (type === "integer" || type === "number") {
    const n = Number(text);
    if (!Number.isFinite(n)) return { error: `must be a number` };
    if (type === "integer" && !Number.isInteger(n)) return { error: "must be a whole number" };
    if (typeof prop.minimum === "number" && n < prop.minimum) return { error: `must be at least ${prop.minimum}` };
    if (typeof prop.maximum === "number" && n > prop.maximum) return { error: `must be at most ${prop.maximum}` };
    return { value: n };
  }
  if (type === "boolean") {
    if (text !== "true" && text !== "false") return { error: "must be true or false" };
    return { value: text === "true" };
  }
  if (Array.isArray(prop.enum) && !prop.enum.includes(text))
    return { error: `must be one of ${prop.enum.join(", ")}` };
  return { value: text };
}
