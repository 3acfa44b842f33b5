/** A hand-written SVG: one panel of horizontal bars per headline metric, min–max whiskers over runs. */
import { PEER_LABELS, type PeerKind } from './peers.js';
import { metrics, valuesOf, type BenchResults } from './report.js';

const COLORS: Record<PeerKind, string> = {
  floor: '#8c8c8c',
  'floor-prepared': '#c0c0c0',
  apollo: '#6f42c1',
  mercurius: '#e36209',
  herald: '#0366d6',
  'herald-redis': '#28a745',
  'herald-legacy': '#79b8ff',
};

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderSvg(results: BenchResults): string {
  const kinds = (Object.keys(PEER_LABELS) as PeerKind[]).filter((k) => results.runs.some((r) => r[k]));
  const last = results.sizes.fanoutSubscribers.length - 1;
  const panels = [
    { title: `CPU µs per delivery · fan-out 1→${results.sizes.fanoutSubscribers[last]} at ${results.sizes.referenceDeliveryRate}/s`, pick: metrics.fanoutCpu(last) },
    { title: `CPU µs per delivery · ${results.sizes.manyTopics} topics × ${results.sizes.subscribersPerTopic} at ${results.sizes.manyTopicsReferenceRate} events/s`, pick: metrics.manyCpu() },
    { title: 'KB per idle authenticated subscriber (RSS slope after GC)', pick: metrics.kb() },
  ];
  const width = 760;
  const labelWidth = 230;
  const barArea = width - labelWidth - 90;
  const rowHeight = 22;
  const panelHeight = 34 + kinds.length * rowHeight + 14;
  const height = 40 + panels.length * panelHeight;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="12" y="24" font-size="15" font-weight="600">Herald vs the raw ws floor, Apollo and Mercurius${results.quick ? ' (quick run)' : ''} · lower is better</text>`);
  panels.forEach((panel, p) => {
    const top = 40 + p * panelHeight;
    out.push(`<text x="12" y="${top + 18}" font-weight="600">${escape(panel.title)}</text>`);
    const rows = kinds.map((k) => ({ k, values: valuesOf(results, k, panel.pick) }));
    const maxValue = Math.max(1e-9, ...rows.flatMap((r) => r.values));
    rows.forEach(({ k, values }, i) => {
      const y = top + 30 + i * rowHeight;
      out.push(`<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escape(PEER_LABELS[k])}</text>`);
      if (!values.length) {
        out.push(`<text x="${labelWidth + 4}" y="${y + 14}" fill="#999">no passing measurement</text>`);
        return;
      }
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const scale = (v: number) => (v / maxValue) * barArea;
      out.push(`<rect x="${labelWidth}" y="${y + 3}" width="${scale(mean).toFixed(1)}" height="${rowHeight - 6}" fill="${COLORS[k]}"/>`);
      if (values.length > 1) {
        const lo = labelWidth + scale(Math.min(...values));
        const hi = labelWidth + scale(Math.max(...values));
        out.push(`<line x1="${lo.toFixed(1)}" x2="${hi.toFixed(1)}" y1="${y + rowHeight / 2}" y2="${y + rowHeight / 2}" stroke="#222" stroke-width="1.5"/>`);
      }
      out.push(`<text x="${(labelWidth + scale(mean) + 6).toFixed(1)}" y="${y + 14}">${mean.toFixed(1)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
