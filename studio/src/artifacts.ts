// How the artifact list previews a file, by its name: images as pictures, CSV/TSV and Parquet as
// tables of their first rows, an MLmodel with its signature, other text as text; null for a file
// it cannot show (download it).
export type PreviewKind = "image" | "csv" | "tsv" | "parquet" | "mlmodel" | "text";

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;
const TEXT = /(\.(txt|log|json|jsonl|ya?ml|md|py|cfg|ini|toml|sh|html?)|(^|\/)requirements\.txt)$/i;

export function previewKind(name: string): PreviewKind | null {
  if (IMAGE.test(name)) return "image";
  if (/\.csv$/i.test(name)) return "csv";
  if (/\.tsv$/i.test(name)) return "tsv";
  if (/\.parquet$/i.test(name)) return "parquet";
  if (/(^|\/)MLmodel$/.test(name)) return "mlmodel";
  return TEXT.test(name) ? "text" : null;
}
