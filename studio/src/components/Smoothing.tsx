// The smoothing weight of a page's metric charts (smooth.ts): 0, none, to 0.99.
import { MAX_SMOOTHING } from "../smooth";

export function Smoothing({ value, onChange }: { value: number; onChange: (weight: number) => void }) {
  return (
    <label>
      smoothing{" "}
      <input
        type="range"
        aria-label="smoothing"
        min={0}
        max={MAX_SMOOTHING}
        step={0.01}
        value={value}
        onChange={(event) => onChange(Number(event.target.value))}
      />{" "}
      <output data-testid="smoothing-value">{value.toFixed(2)}</output>
    </label>
  );
}
