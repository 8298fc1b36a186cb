// Records the hash of the studio's sources beside the build, so that a test of the Python
// package (tests/unit/test_studio_build.py) fails when the committed build is older than them.
// The same hash in Python: source_hash in that test.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const TOP = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "scripts/stamp.mjs"];

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = [...TOP, ...walk(join(root, "src")).map((p) => relative(root, p).split(sep).join("/"))]
  .filter((p) => !/\.test\.tsx?$/.test(p))
  .sort();
const hash = createHash("sha256");
for (const path of files) {
  const digest = createHash("sha256").update(readFileSync(join(root, path))).digest("hex");
  hash.update(`${path}\0${digest}\n`);
}
const out = join(root, "../src/trainyard/server/studio_static/build.json");
writeFileSync(out, JSON.stringify({ sources: hash.digest("hex"), files: files.length }, null, 2) + "\n");
console.log(`stamped ${files.length} source files into ${relative(root, out)}`);
