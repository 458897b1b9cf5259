// Where money can be withdrawn to, per currency: a bank account in the currency's
// country or one of its e-wallets. The API takes one free-text `destination`
// (POST /v1/withdrawals, 1 to 200 printable characters); the client writes it as
// "<method>: <account>", e.g. "PromptPay: 0812345678", so that the provider and
// the receipt both show where the money went.
import { METHOD_NAMES } from './countries';

/** `bank` first, then the e-wallets people in that market cash out to. */
export const WITHDRAW_METHODS: Record<string, string[]> = {
  THB: ['bank', 'promptpay', 'truemoney'],
  SGD: ['bank', 'paynow', 'grabpay'],
  IDR: ['bank', 'gopay', 'ovo', 'dana'],
  MYR: ['bank', 'duitnow', 'touchngo'],
  PHP: ['bank', 'gcash', 'maya'],
  VND: ['bank', 'momo', 'zalopay'],
  USD: ['bank'],
};

/** The account a method needs: a bank name and account number, or a phone number. */
export function accountKind(method: string): 'bank' | 'phone' {
  return method === 'bank' ? 'bank' : 'phone';
}

/** The destination text the API stores (trimmed; at most 200 characters). */
export function destinationText(method: string, methodLabel: string, account: string): string {
  const name = method === 'bank' ? methodLabel : (METHOD_NAMES[method] ?? method);
  return `${name}: ${account.trim().replace(/\s+/g, ' ')}`.slice(0, 200);
}
