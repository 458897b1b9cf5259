// Balances per currency (GET /v1/wallets). Refreshed when the wallet screen
// opens and whenever a payment involving the user shows up in a chat.
import type { PaymentApi } from '../api/payment';
import type { Wallet } from '../api/types';
import { Emitter } from '../util/emitter';

export class WalletState {
  readonly events = new Emitter<{ changed: void }>();
  wallets: Wallet[] = [];
  loaded = false;
  private inflight: Promise<void> | null = null;
  private again = false;

  constructor(private readonly api: PaymentApi) {}

  balance(currency: string): number {
    return this.wallets.find((w) => w.currency === currency)?.balance ?? 0;
  }

  /** Reloads the balances; calls made while one runs collapse into one more. */
  refresh(): Promise<void> {
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    this.inflight = (async () => {
      do {
        this.again = false;
        try {
          this.wallets = await this.api.wallets();
          this.loaded = true;
          this.events.emit('changed', undefined);
        } catch {
          // Offline: the balance shown stays what it was.
        }
      } while (this.again);
    })().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }
}
