export interface WaitOptions {
  timeoutMs: number;
  what: string;
  intervalMs?: number;
  /** Stop polling at once (the awaited process died). */
  fatal?: () => boolean;
}

/** Polls `probe` until it returns true; readiness by observation, never by sleeping a fixed time. */
export async function waitFor(probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
      if (options.fatal?.()) throw error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`${options.what} not ready after ${options.timeoutMs} ms${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
