// Payment service calls (docs/api/openapi.yaml, payment). Calls that move money carry an
// Idempotency-Key chosen by the caller, who reuses it when retrying.
import type { Http } from './http';
import type { PaymentRequest, Topup, Transaction, Transfer, Wallet, Withdrawal } from './types';

export class PaymentApi {
  constructor(private readonly http: Http) {}

  async wallets(): Promise<Wallet[]> {
    return (await this.http.get<{ wallets: Wallet[] }>('/v1/wallets')).wallets;
  }

  transactions(
    cursor?: string | null,
    currency?: string | null,
  ): Promise<{ transactions: Transaction[]; next_cursor: string | null }> {
    return this.http.get('/v1/transactions', { query: { limit: 30, cursor, currency } });
  }
  getTransfer(id: string): Promise<Transfer> {
    return this.http.get(`/v1/transfers/${id}`);
  }
  /** The recipient sends a transfer back (again: the same refund). */
  refund(id: string): Promise<Transfer> {
    return this.http.post(`/v1/transfers/${id}/refund`);
  }
  /** The caller's requests: as payer (`incoming`), as requester (`outgoing`), newest first. */
  paymentRequests(q: {
    direction?: 'incoming' | 'outgoing';
    status?: PaymentRequest['status'];
    cursor?: string | null;
  }): Promise<{ payment_requests: PaymentRequest[]; next_cursor: string | null }> {
    return this.http.get('/v1/payment-requests', { query: { limit: 30, ...q } });
  }
  withdraw(
    key: string,
    w: { amount: number; currency: string; destination: string },
  ): Promise<Withdrawal> {
    return this.http.post('/v1/withdrawals', w, { headers: { 'Idempotency-Key': key } });
  }
  getWithdrawal(id: string): Promise<Withdrawal> {
    return this.http.get(`/v1/withdrawals/${id}`);
  }

  transfer(
    key: string,
    t: {
      to_user_id: string;
      amount: number;
      currency: string;
      note?: string;
      conversation_id?: string;
    },
  ): Promise<Transfer> {
    return this.http.post('/v1/transfers', t, { headers: { 'Idempotency-Key': key } });
  }

  requestMoney(
    key: string,
    r: {
      from_user_id: string;
      amount: number;
      currency: string;
      note?: string;
      conversation_id?: string;
    },
  ): Promise<PaymentRequest> {
    return this.http.post('/v1/payment-requests', r, { headers: { 'Idempotency-Key': key } });
  }

  paymentRequest(id: string): Promise<PaymentRequest> {
    return this.http.get(`/v1/payment-requests/${id}`);
  }

  actOnRequest(id: string, action: 'pay' | 'decline' | 'cancel'): Promise<unknown> {
    return this.http.post(`/v1/payment-requests/${id}/${action}`);
  }

  topup(key: string, t: { amount: number; currency: string; method: string }): Promise<Topup> {
    return this.http.post('/v1/topups', t, { headers: { 'Idempotency-Key': key } });
  }

  getTopup(id: string): Promise<Topup> {
    return this.http.get(`/v1/topups/${id}`);
  }
}
