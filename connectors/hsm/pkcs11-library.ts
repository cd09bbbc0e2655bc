import pkcs11js from 'pkcs11js';
import { SignerConfigurationError } from './errors.ts';

export type Pkcs11Api = pkcs11js.PKCS11;

/**
 * One loaded, initialised PKCS#11 library per module path and process: `C_Initialize` is
 * process-wide, so every signer on the same module shares this. Calls run through `run()` so that
 * `reinitialize()` (the only way a SoftHSM or network HSM that vanished is seen again) never
 * finalises the library under a call in flight; `epoch` tells sessions opened before it apart.
 */
export class Pkcs11Library {
  private static readonly loaded = new Map<string, Pkcs11Library>();

  /** Bumped by every re-initialisation: sessions and object handles from older epochs are void. */
  epoch = 0;
  private users = 0;
  private inFlight = 0;
  private initialized = false;
  private idleWaiters: (() => void)[] = [];
  private reinitializing: Promise<void> | undefined;

  private constructor(
    readonly modulePath: string,
    private readonly api: Pkcs11Api,
  ) {}

  static acquire(modulePath: string): Pkcs11Library {
    let library = Pkcs11Library.loaded.get(modulePath);
    if (!library) {
      const api = new pkcs11js.PKCS11();
      try {
        api.load(modulePath);
      } catch (error) {
        throw new SignerConfigurationError('module_unloadable', `Cannot load the PKCS#11 module ${modulePath} (ECOC_PKCS11_MODULE): ${(error as Error).message}`, { cause: error });
      }
      library = new Pkcs11Library(modulePath, api);
      Pkcs11Library.loaded.set(modulePath, library);
    }
    library.users += 1;
    return library;
  }

  /** Runs one or more PKCS#11 calls, initialising the library first if needed. */
  async run<T>(operation: (api: Pkcs11Api) => Promise<T> | T): Promise<T> {
    while (this.reinitializing) await this.reinitializing;
    this.inFlight += 1;
    try {
      if (!this.initialized) this.initialize();
      return await operation(this.api);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Finalises and initialises again, once per failed epoch, after calls in flight have returned. */
  reinitialize(failedEpoch: number): Promise<void> {
    if (failedEpoch !== this.epoch) return Promise.resolve();
    this.reinitializing ??= (async () => {
      try {
        await this.idle();
        this.finalize();
      } finally {
        this.epoch += 1;
        this.reinitializing = undefined;
      }
    })();
    return this.reinitializing;
  }

  /** Drops one user; the last one finalises and unloads the module. */
  async release(): Promise<void> {
    this.users -= 1;
    if (this.users > 0) return;
    await this.idle();
    if (this.users > 0) return;
    Pkcs11Library.loaded.delete(this.modulePath);
    this.finalize();
    this.api.close();
  }

  private initialize(): void {
    // Without OS locking the module assumes one thread; concurrent C_Sign from the libuv pool crashed.
    this.api.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    this.initialized = true;
  }

  private finalize(): void {
    if (!this.initialized) return;
    this.initialized = false;
    try {
      this.api.C_Finalize();
    } catch {
      // A module that already lost its token may refuse to finalise cleanly; initialising again is what matters.
    }
  }

  private idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
