/** A hand-written SVG of the soak: RSS, heap used and open sockets of each instance over time, faults marked. */
import type { Sample } from './sampler.js';

export interface Marker {
  readonly t: number;
  readonly label: string;
}

const COLORS = ['#0366d6', '#e36209', '#28a745', '#6f42c1'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderChart(title: string, samples: readonly Sample[], markers: readonly Marker[], durationS: number): string {
  const instances = [...new Set(samples.map((s) => s.instance))];
  const panels: { title: string; pick: (s: Sample) => number; gcOnly?: boolean }[] = [
    { title: 'RSS (MB), every sample', pick: (s) => s.rssMB },
    { title: 'heap used (MB), samples right after a forced full GC', pick: (s) => s.heapUsedMB, gcOnly: true },
    { title: 'open sockets', pick: (s) => s.sockets },
  ];
  const width = 820;
  const left = 60;
  const plotWidth = width - left - 150;
  const panelHeight = 150;
  const height = 50 + panels.length * (panelHeight + 40);
  const x = (t: number) => left + (t / Math.max(1, durationS)) * plotWidth;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`);
  out.push('<rect width="100%" height="100%" fill="#fff"/>');
  out.push(`<text x="12" y="22" font-size="14" font-weight="600">${escape(title)}</text>`);
  panels.forEach((panel, p) => {
    const top = 50 + p * (panelHeight + 40);
    const points = samples.filter((s) => s.t >= 0 && (!panel.gcOnly || s.afterGc) && Number.isFinite(panel.pick(s)));
    const max = Math.max(1, ...points.map(panel.pick)) * 1.1;
    const y = (v: number) => top + panelHeight - (v / max) * panelHeight;
    out.push(`<text x="${left}" y="${top - 6}" font-weight="600">${escape(panel.title)}</text>`);
    out.push(`<rect x="${left}" y="${top}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#ccc"/>`);
    for (const v of [0, max / 2, max]) out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#666">${Math.round(v)}</text>`);
    for (let t = 0; t <= durationS; t += 60) out.push(`<text x="${x(t)}" y="${top + panelHeight + 14}" text-anchor="middle" fill="#666">${t / 60}m</text>`);
    for (const m of markers) out.push(`<line x1="${x(m.t).toFixed(1)}" x2="${x(m.t).toFixed(1)}" y1="${top}" y2="${top + panelHeight}" stroke="#d73a49" stroke-dasharray="3,3"/>`);
    instances.forEach((name, i) => {
      // A gap (instance down, no answer) breaks the line rather than drawing through it.
      const mine = points.filter((s) => s.instance === name);
      let path = '';
      let prev: Sample | null = null;
      for (const s of mine) {
        const gap = prev && s.t - prev.t > (panel.gcOnly ? 130 : 30);
        path += `${!prev || gap ? 'M' : 'L'}${x(s.t).toFixed(1)},${y(panel.pick(s)).toFixed(1)} `;
        prev = s;
      }
      out.push(`<path d="${path.trim()}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`);
      out.push(`<text x="${left + plotWidth + 10}" y="${top + 14 + i * 14}" fill="${COLORS[i % COLORS.length]}">${escape(name)}</text>`);
    });
  });
  markers.forEach((m, i) => out.push(`<text x="${(x(m.t) + 3).toFixed(1)}" y="${44 - (i % 2) * 10}" fill="#d73a49">${escape(m.label)}</text>`));
  out.push('</svg>');
  return out.join('\n');
}
