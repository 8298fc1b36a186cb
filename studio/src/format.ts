// How values read in the studio's tables.
import type { JsonFloat } from "./api";

export function duration(start: number | null, end: number | null, now: number = Date.now() / 1000): string {
  if (start === null) return "";
  const seconds = Math.max(0, (end ?? now) - start);
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function when(epoch: number | null): string {
  if (epoch === null) return "";
  return new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 19);
}

export function metric(value: JsonFloat | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.toExponential(4) : value.toPrecision(5);
}

export function bytes(size: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

// a search key as the MLflow grammar writes it: backticks around keys that are not plain words
export function searchKey(entity: "metrics" | "params" | "tags" | "attributes", key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(key) ? `${entity}.${key}` : `${entity}.\`${key}\``;
}
