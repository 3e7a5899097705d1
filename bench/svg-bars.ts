/** Grouped bar charts as hand-written SVG: no chart library for one picture. */

export interface BarPanel {
  title: string;
  /** One group of bars per label, one bar per series, values in series order; undefined draws no bar. */
  groups: { label: string; values: (number | undefined)[] }[];
  format: (value: number) => string;
  /** Draws a dashed line at this value, e.g. 1 for "same as direct". */
  reference?: number;
}

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#af7aa1'];
const PANEL_WIDTH = 560;
const PANEL_HEIGHT = 300;
const MARGIN = { top: 36, right: 12, bottom: 40, left: 48 };
const TICKS = 5;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Panels side by side above a legend naming the series. */
export function barChart(series: string[], panels: BarPanel[]): string {
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + 30;
  const legend = series
    .map((name, i) => {
      const x = 16 + i * 130;
      return `<rect x="${x}" y="${PANEL_HEIGHT + 8}" width="14" height="14" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 20}" y="${PANEL_HEIGHT + 20}">${escape(name)}</text>`;
    })
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...panels.map((panel, i) => `<g transform="translate(${i * PANEL_WIDTH},0)">${drawPanel(panel, series.length)}</g>`),
    legend,
    '</svg>',
    '',
  ].join('\n');
}

function drawPanel(panel: BarPanel, seriesCount: number): string {
  const plotW = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = panel.groups.flatMap((g) => g.values).filter((v) => v !== undefined);
  const top = niceCeiling(Math.max(...values, panel.reference ?? 0) * 1.1);
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const groupW = plotW / panel.groups.length;
  const barW = (groupW * 0.8) / seriesCount;
  const parts = [`<text x="${PANEL_WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(panel.title)}</text>`];
  for (let t = 0; t <= TICKS; t++) {
    const v = (top * t) / TICKS;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${escape(panel.format(v))}</text>`,
    );
  }
  panel.groups.forEach((group, g) => {
    const x0 = MARGIN.left + g * groupW + groupW * 0.1;
    group.values.forEach((v, s) => {
      if (v === undefined) return;
      const x = x0 + s * barW;
      parts.push(
        `<rect x="${x}" y="${y(v)}" width="${barW - 2}" height="${y(0) - y(v)}" fill="${PALETTE[s % PALETTE.length]}"/>`,
        `<text x="${x + (barW - 2) / 2}" y="${y(v) - 3}" text-anchor="middle" font-size="10">${escape(panel.format(v))}</text>`,
      );
    });
    parts.push(`<text x="${x0 + (groupW * 0.8) / 2}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escape(group.label)}</text>`);
  });
  if (panel.reference !== undefined) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(panel.reference)}" y2="${y(panel.reference)}" stroke="#333" stroke-dasharray="4 3"/>`);
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  return parts.join('\n');
}

/** The smallest round number at or above `v` whose fifths are round too, for the axis ticks. */
function niceCeiling(v: number): number {
  if (v <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((c) => c >= v) ?? 10 * power;
}
