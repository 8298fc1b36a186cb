// What the endpoint page checks before it sends: a traffic split and a test request's JSON.

// the weights as typed (a field per deployment) as numbers, or what is wrong with them
export function trafficOf(typed: Record<string, string>): { weights: Record<string, number> } | { problem: string } {
  const weights: Record<string, number> = {};
  for (const [name, text] of Object.entries(typed)) {
    const value = text.trim() === "" ? 0 : Number(text);
    if (!Number.isInteger(value) || value < 0 || value > 100)
      return { problem: `${name}: a whole percent from 0 to 100, not ${JSON.stringify(text)}` };
    weights[name] = value;
  }
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  if (total !== 100) return { problem: `the split adds up to ${total}%, not 100%` };
  return { weights };
}

// a test request's body: the JSON typed, or why it does not parse
export function requestBody(text: string): { body: unknown } | { problem: string } {
  try {
    return { body: JSON.parse(text) };
  } catch (error) {
    return { problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

// the split as a line: "blue 70% · green 30%", the largest share first
export function splitLine(traffic: Record<string, number>): string {
  const shares = Object.entries(traffic).filter(([, weight]) => weight > 0);
  if (shares.length === 0) return "no traffic";
  return shares
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, weight]) => `${name} ${weight}%`)
    .join(" · ");
}
