import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const storedMessageSchema = z.object({
  receiptId: z.string(),
  iviReferenceId: z.string(),
  iviVersionNumber: z.number().int(),
  sha256: z.string(),
  receivedAt: z.string(),
});

const vinStateSchema = z.object({
  messages: z.array(storedMessageSchema),
  /** Set by a withdrawal (delete by VIN); a later submission starts a new life. */
  deleted: z.object({ receiptId: z.string(), at: z.string(), reason: z.string() }).optional(),
});

const simulatorStateSchema = z.object({
  vins: z.record(z.string(), vinStateSchema),
  /** Calls still to answer with 503 (the controllable outage). */
  outageRemaining: z.number().int().nonnegative(),
});

export type StoredMessage = z.infer<typeof storedMessageSchema>;
export type VinState = z.infer<typeof vinStateSchema>;
export type SimulatorState = z.infer<typeof simulatorStateSchema>;

/**
 * The simulator's memory, in its state directory: `state.json` (written to a temp file and
 * renamed, so a crash never leaves half a file) and the received messages under `messages/`.
 */
export class SimulatorStore {
  private readonly file: string;
  readonly state: SimulatorState;

  constructor(private readonly dir: string) {
    mkdirSync(join(dir, 'messages'), { recursive: true });
    this.file = join(dir, 'state.json');
    this.state = this.load();
  }

  private load(): SimulatorState {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { vins: {}, outageRemaining: 0 };
    }
    return simulatorStateSchema.parse(JSON.parse(text));
  }

  save(): void {
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, JSON.stringify(this.state, null, 2));
    renameSync(temp, this.file);
  }

  saveMessage(receiptId: string, xml: Uint8Array): void {
    writeFileSync(join(this.dir, 'messages', `${receiptId}.xml`), xml);
  }

  vin(vin: string): VinState | undefined {
    return this.state.vins[vin];
  }

  findReference(iviReferenceId: string): { vin: string; message: StoredMessage } | undefined {
    for (const [vin, entry] of Object.entries(this.state.vins)) {
      const message = entry.messages.find((m) => m.iviReferenceId === iviReferenceId);
      if (message) return { vin, message };
    }
    return undefined;
  }
}
