/** Number formats shared by the metrics panel and the tours' captions. */
export const fmtBytes = (n: number): string =>
  n < 1024 ? `${n.toFixed(0)} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(2)} MiB`;

export const fmtBits = (n: number): string =>
  n < 1e3 ? `${n.toFixed(0)} bit/s` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kbit/s` : `${(n / 1e6).toFixed(2)} Mbit/s`;

/** "12.3×" for a ratio, with one decimal below 100. */
export const fmtRatio = (r: number): string => (Number.isFinite(r) ? (r >= 100 ? `${r.toFixed(0)}×` : `${r.toFixed(1)}×`) : "∞×");
