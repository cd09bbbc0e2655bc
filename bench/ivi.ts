// IVI generation throughput on one core: build the XML from the model and validate it against
// the official XSD (what writeIvi does for every certificate), plus each half on its own.
// Run: npx tsx bench/ivi.ts [--certificates 4000]
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readIvi } from '../ivi/reader.ts';
import { serializeIvi, writeIvi } from '../ivi/writer.ts';
import { validateUnsignedIviXml } from '../ivi/xsd.ts';
import type { IviMessage } from '../schemas/ivi/index.ts';

export interface IviBenchOptions {
  /** Certificates per measurement. */
  certificates?: number;
}

/**
 * Rates per wall-clock second and per CPU second of this process. On a shared machine the wall
 * rate drops with other load; the CPU rate is what one dedicated core would do.
 */
export interface IviBenchRate {
  perSecond: number;
  perCpuSecond: number;
}

export interface IviBenchResult {
  certificates: number;
  averageDocumentBytes: number;
  /** writeIvi: model → compact XML → XSD validation. The target is ≥ 1,000/s. */
  buildAndValidate: IviBenchRate;
  buildOnly: IviBenchRate;
  validateOnly: IviBenchRate;
}

const FIXTURES = new URL('../test/fixtures/ivi2/', import.meta.url);

function rate(count: number, run: (index: number) => void): IviBenchRate {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let index = 0; index < count; index += 1) run(index);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { perSecond: Math.round(count / seconds), perCpuSecond: Math.round(count / cpuSeconds) };
}

export function runIviBench(options: IviBenchOptions = {}): IviBenchResult {
  const count = options.certificates ?? 4000;
  const specimens = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.xml'))
    .map((name) => readIvi(readFileSync(new URL(name, FIXTURES))));
  // Every certificate is a distinct message, as in production (own reference id and VIN).
  const messages: IviMessage[] = Array.from({ length: count }, (_, index) => {
    const base = specimens[index % specimens.length] as IviMessage;
    return {
      header: { ...base.header, IviReferenceId: randomUUID() },
      cocDataGroup: { ...base.cocDataGroup, VehicleIdentificationNumber: `WDB9634031${String(index).padStart(7, '0')}` },
    };
  });
  const pick = (index: number) => messages[index] as IviMessage;
  rate(Math.min(200, count), (index) => writeIvi(pick(index))); // warm-up: JIT, schema load
  const documents = messages.map((message) => serializeIvi(message));
  return {
    certificates: count,
    averageDocumentBytes: Math.round(documents.reduce((total, xml) => total + Buffer.byteLength(xml), 0) / count),
    buildAndValidate: rate(count, (index) => writeIvi(pick(index))),
    buildOnly: rate(count, (index) => serializeIvi(pick(index))),
    validateOnly: rate(count, (index) => validateUnsignedIviXml(documents[index] as string)),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { certificates: { type: 'string', default: '4000' } } });
  const result = runIviBench({ certificates: Number(values.certificates) });
  console.log(`IVI build + XSD validation, one core, ${result.certificates} certificates of ~${result.averageDocumentBytes} bytes`);
  const show = (label: string, rate: IviBenchRate) =>
    console.log(`  ${label.padEnd(17)} ${rate.perSecond} certificates/s wall clock, ${rate.perCpuSecond} per CPU second`);
  show('build + validate:', result.buildAndValidate);
  console.log('                    (target ≥ 1000/s on one core)');
  show('build only:', result.buildOnly);
  show('validate only:', result.validateOnly);
}
