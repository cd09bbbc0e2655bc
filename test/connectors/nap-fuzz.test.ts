import { describe, expect, it } from 'vitest';
import { buildFaultResponse, buildReceiptResponse, NapEnvelopeError, parseResponse, readReceipt, type NapRequest } from '../../connectors/nap/envelope.ts';
import { createFuzz, fuzzCount, mutateXml } from '../support/fuzz.ts';

const VIN = 'WVWZZZ1JZXW000001';
const REFERENCE = '6f1c2a9e-3b7d-4c55-9f0e-1a2b3c4d5e6f';
const submit: NapRequest = { operation: 'SubmitIvi', vin: VIN, iviReferenceId: REFERENCE, iviVersionNumber: 1, xml: Buffer.from('<x/>') };
const answers = (['1.1', '1.2'] as const).flatMap((version) => [
  buildReceiptResponse('SubmitIvi', { receiptId: 'R-1', vin: VIN, iviReferenceId: REFERENCE, receivedAt: '2026-07-06T09:00:00.000Z', replayed: false }, version).body,
  buildFaultResponse({ party: 'sender', code: 'INVALID_SIGNATURE', message: 'signature does not verify' }, version).body,
  buildFaultResponse({ party: 'receiver', code: 'TEMPORARILY_UNAVAILABLE', message: 'later' }, version).body,
]);

/**
 * NAP answers damaged at random (ECOC_FUZZ_ROWS cases, 1,000 in CI) through the parser the client
 * uses: each is a typed protocol error, a fault, or a receipt for exactly the message sent.
 * A damaged receipt is never taken for a delivery of this message.
 */
describe('NAP answers under mutation', () => {
  it('never crashes and never takes a malformed answer for a delivery', () => {
    const fuzz = createFuzz('nap-fuzz');
    const problems: string[] = [];
    const outcomes = { receipt: 0, fault: 0, refused: 0 };
    for (let i = 0; i < fuzzCount(1_000); i++) {
      const original = fuzz.pick(answers);
      const { bytes, mutation } = mutateXml(fuzz, original);
      try {
        const parsed = parseResponse(bytes);
        if (parsed.kind === 'fault') {
          outcomes.fault++;
          continue;
        }
        const receipt = readReceipt(parsed, submit);
        outcomes.receipt++;
        // Accepted only as a receipt for this very message (the receipt id is the NAP's own, any non-empty text).
        if (receipt.vin !== VIN || receipt.iviReferenceId !== REFERENCE || receipt.receiptId === '' || Number.isNaN(Date.parse(receipt.receivedAt))) {
          problems.push(`case ${i} (${mutation}): taken as delivered: ${JSON.stringify(receipt)}`);
        }
      } catch (error) {
        outcomes.refused++;
        if (!(error instanceof NapEnvelopeError)) problems.push(`case ${i} (${mutation}): untyped ${String(error).slice(0, 200)}`);
      }
    }
    expect(problems, fuzz.say(`${problems.length} bad outcomes (${JSON.stringify(outcomes)})`)).toEqual([]);
    expect(outcomes.refused, fuzz.say('mutations refused')).toBeGreaterThan(0);
  });

  it('refuses a well-formed receipt for another VIN, message or operation, or without a time', () => {
    const receipt = (over: Record<string, string>) => {
      const parsed = parseResponse(buildReceiptResponse('SubmitIvi', { receiptId: 'R-1', vin: VIN, iviReferenceId: REFERENCE, receivedAt: '2026-07-06T09:00:00.000Z', replayed: false, ...over }, '1.1').body);
      if (parsed.kind !== 'receipt') throw new Error(`expected a receipt, got ${JSON.stringify(parsed)}`);
      return parsed;
    };
    expect(readReceipt(receipt({}), submit)).toMatchObject({ receiptId: 'R-1', vin: VIN });
    expect(() => readReceipt(receipt({ vin: 'WVWZZZ1JZXW000002' }), submit)).toThrow(/receipt is for VIN WVWZZZ1JZXW000002, the message for WVWZZZ1JZXW000001/);
    expect(() => readReceipt(receipt({ iviReferenceId: 'other' }), submit)).toThrow(NapEnvelopeError);
    expect(() => readReceipt(receipt({ receivedAt: 'yesterday' }), submit)).toThrow(/ReceivedAt "yesterday" is not a date-time/);
    expect(() => readReceipt(receipt({}), { operation: 'DeleteIvi', vin: VIN, reason: 'x' })).toThrow(/answers SubmitIvi, the request was DeleteIvi/);
  });
});
