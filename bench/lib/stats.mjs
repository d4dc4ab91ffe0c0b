// Summaries: medians of per-round figures, percentiles of samples.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Nearest-rank percentile of a numeric array (sorted in place when `sorted` is false). */
export function percentile(values, p, sorted = false) {
  if (values.length === 0) return NaN;
  const v = sorted ? values : Float64Array.from(values).sort();
  const rank = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return v[rank];
}

export const min = (values) => Math.min(...values);
export const max = (values) => Math.max(...values);
