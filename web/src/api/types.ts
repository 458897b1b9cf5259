// Shapes of the Tchat API, as the services answer them: taken from the types
// generated from the API contract (docs/api/openapi.yaml → schema.d.ts, `npm run
// gen:api`), so that a change of the contract the client does not follow fails
// the type check.
import type { components } from './schema';

type Schemas = components['schemas'];

/** `phone` and `has_password` only on the signed-in user's own profile. */
export type User = Schemas['User'];
export type TokenResponse = Schemas['TokenResponse'];
/** A signed-in device (GET /v1/auth/sessions); `current` is the caller's. */
export type AuthSession = Schemas['Session'];
/** `dev_code` only when the server runs with development OTP (TCHAT_DEV_OTP=1). */
export type OtpRequestResponse = Schemas['OtpRequested'];

export type Member = Schemas['Member'];
/**
 * Transfers: `from_user_id` is the payer, `to_user_id` the payee.
 * Requests: `from_user_id` is the one asked to pay, `to_user_id` the one asking.
 */
export type PaymentInfo = Schemas['PaymentInfo'];
export type Message = Schemas['Message'];
export type MessageType = Message['type'];
export type Conversation = Schemas['Conversation'];
export type SyncResponse = Schemas['SyncResponse'];
export type Presence = Schemas['Presence'];
/** A message search result: `highlights` are [start, end) UTF-16 offsets into the body. */
export type MessageSearchHit = Schemas['MessageSearchHit'];
export type MessageSearchPage = Schemas['MessageSearchPage'];

export type Wallet = Schemas['Wallet'];
export type Transaction = Schemas['Transaction'];
export type Transfer = Schemas['Transfer'];
export type PaymentRequest = Schemas['PaymentRequest'];
export type Withdrawal = Schemas['Withdrawal'];
export type Topup = Schemas['Topup'] & {
  /**
   * Where to send the user to pay, should the payment service name one (it does
   * not today: the contract has no such field).
   */
  checkout_url?: string;
};

export type Notification = Schemas['Notification'];
export type QuietHours = Schemas['QuietHours'];
export type MutedConversation = Schemas['MutedConversation'];
export type Preferences = Schemas['Preferences'];

/** A page of a list, as the client keeps it. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
