// Frames of the /v1/ws protocol (docs/api/openapi.yaml, messaging and services/messaging/README.md).
import type { Conversation, Message, Presence } from '../api/types';
import type { SendBody } from '../api/messaging';

export type ServerEvent =
  | { type: 'ready'; session_id?: string }
  | { type: 'pong' }
  | { type: 'sync.required' }
  | {
      type: 'message.new' | 'message.updated' | 'message.deleted';
      conversation_id: string;
      message: Message;
    }
  | {
      type: 'reaction';
      conversation_id: string;
      reaction: { seq: number; user_id: string; emoji: string; added: boolean };
      message: Message;
    }
  | { type: 'read'; conversation_id: string; read: { user_id: string; seq: number } }
  | { type: 'typing'; conversation_id: string; typing: { user_id: string } }
  | { type: 'presence'; presence: Presence }
  | {
      type: 'conversation.updated';
      conversation_id: string;
      conversation: Conversation | null;
      removed?: boolean;
    }
  | { type: 'ack'; client_msg_id: string; conversation_id?: string; message: Message }
  | { type: 'auth.ok'; expires_at: string }
  | {
      type: 'error';
      client_msg_id?: string;
      retry_after?: number;
      error: { code: string; message: string };
    };

export type ClientFrame =
  | { type: 'ping' }
  | { type: 'auth'; access_token: string }
  | { type: 'typing'; conversation_id: string }
  | { type: 'read'; conversation_id: string; seq: number }
  | {
      type: 'message.send';
      conversation_id: string;
      message: SendBody;
    };
