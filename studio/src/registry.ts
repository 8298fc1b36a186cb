// The model registry as the pages show it.
import type { ModelVersion } from "./api";

// each version's aliases, from a model's alias -> version map, sorted by name
export function aliasesOf(aliases: Record<string, number>): Map<number, string[]> {
  const byVersion = new Map<number, string[]>();
  for (const alias of Object.keys(aliases).sort()) {
    const version = aliases[alias];
    byVersion.set(version, [...(byVersion.get(version) ?? []), alias]);
  }
  return byVersion;
}

// newest version first, as a registry lists them
export function newestFirst(versions: ModelVersion[]): ModelVersion[] {
  return [...versions].sort((a, b) => b.version - a.version);
}
