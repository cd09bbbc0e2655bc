import type { CertificateStatus } from '../../schemas/certificate.ts';
import { h } from './dom.ts';

export function statusLabel(status: string): string {
  return status.replace(/_/g, ' ');
}

export function statusBadge(status: CertificateStatus | string): HTMLElement {
  return h('span', { className: `badge status-${status}`, 'data-status': status }, statusLabel(status));
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 16)} UTC`;
}

/** `3 d 4 h`, `25 min`: ages and remaining times at the precision people act on. */
export function duration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function percent(share: number | null): string {
  return share === null ? '—' : `${(share * 100).toFixed(1)} %`;
}

/** `MassInRunningOrder` → `Mass in running order`, `EURepresentativeName` → `EU representative name`. */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-z])(\d{3})/g, '$1 $2')
    .split(' ');
  return words.map((word, index) => (index > 0 && /^[A-Z][a-z]/.test(word) ? word.toLowerCase() : word)).join(' ');
}

export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export const sourceLabels: Record<string, string> = {
  type_approval: 'Type approval',
  erp: 'ERP',
  api: 'API',
  vecto: 'VECTO',
  correction: 'Correction',
};

export function sourceBadge(provenance: { source: string; by?: string | undefined; at?: string | undefined } | null | undefined): HTMLElement {
  if (!provenance) return h('span', { className: 'source' }, '—');
  const who = provenance.by ? ` by ${provenance.by}` : '';
  const when = provenance.at ? ` at ${dateTime(provenance.at)}` : '';
  return h('span', { className: `source source-${provenance.source}`, title: `${sourceLabels[provenance.source] ?? provenance.source}${who}${when}` }, sourceLabels[provenance.source] ?? provenance.source, who);
}
