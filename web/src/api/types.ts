// Shapes of the Tchat API (SPEC §3–§6), as the services answer them.

export interface User {
  id: string;
  /** Only on the signed-in user's own profile. */
  phone?: string;
  display_name: string | null;
  username: string | null;
  avatar_url: string | null;
  locale: string;
  country: string;
  created_at: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  user: User;
  new_user: boolean;
}

export interface OtpRequestResponse {
  expires_in: number;
  resend_after: number;
  /** Only when the server runs with development OTP (TCHAT_DEV_OTP=1). */
  dev_code?: string;
}

export interface Member {
  user_id: string;
  role: 'owner' | 'admin' | 'member';
  last_read_seq: number;
}

export interface PaymentInfo {
  kind: 'transfer' | 'refund' | 'request';
  status: string;
  amount: number;
  currency: string;
  note?: string | null;
  /** Transfers: the payer. Requests: the one asked to pay. */
  from_user_id: string;
  /** Transfers: the payee. Requests: the one asking. */
  to_user_id: string;
  transfer_id?: string;
  request_id?: string;
}

export type MessageType = 'text' | 'image' | 'file' | 'payment' | 'system';

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  type: MessageType;
  body: string;
  client_msg_id: string | null;
  reply_to_seq: number | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  reactions: Record<string, string[]>;
  payment?: PaymentInfo;
  system?: Record<string, unknown>;
  attachment?: { url?: string; name?: string; mime?: string; size?: number };
}

export interface Conversation {
  id: string;
  type: 'direct' | 'group';
  title: string | null;
  members: Member[];
  last_seq: number;
  last_message: Message | null;
  unread_count: number;
  created_at: string;
  updated_at: string;
}

export interface SyncResponse {
  conversations: Conversation[];
  messages: Message[];
  truncated_conversation_ids: string[];
  removed_conversation_ids: string[];
  token: string;
  full: boolean;
}

export interface Presence {
  user_id: string;
  online: boolean;
  last_seen_at: string | null;
}

export interface Wallet {
  currency: string;
  balance: number;
  updated_at: string;
}

export interface Transaction {
  id: string;
  kind: string;
  amount: number;
  currency: string;
  balance_after: number;
  counterparty_user_id: string | null;
  reference_id: string;
  created_at: string;
}

export interface Transfer {
  id: string;
  kind?: string;
  from_user_id: string;
  to_user_id: string;
  amount: number;
  currency: string;
  note: string | null;
  conversation_id: string | null;
  status: string;
  created_at: string;
}

export interface PaymentRequest {
  id: string;
  from_user_id: string;
  to_user_id: string;
  amount: number;
  currency: string;
  note: string | null;
  conversation_id: string | null;
  status: 'pending' | 'paid' | 'declined' | 'cancelled';
  transfer_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface Topup {
  id: string;
  user_id: string;
  amount: number;
  currency: string;
  method: string;
  status: 'pending' | 'succeeded' | 'failed' | string;
  provider_reference: string;
  created_at: string;
  updated_at: string;
  /** Where to send the user to pay, when the payment service names one. */
  checkout_url?: string;
}

export interface Notification {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  read: boolean;
  created_at: string;
}

export interface QuietHours {
  start: string;
  end: string;
  timezone: string;
}

export interface MutedConversation {
  conversation_id: string;
  until: string | null;
}

export interface Preferences {
  push_enabled: boolean;
  show_previews: boolean;
  locale?: string;
  timezone?: string;
  quiet_hours: QuietHours | null;
  muted_conversations: MutedConversation[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
