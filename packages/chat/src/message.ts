import { z } from 'zod';
import { ChatError } from './errors.js';

/**
 * What a browser may ask for: a message, optionally in an existing conversation, optionally streamed.
 * @example const input: ChatInput = { message: 'Where is my order?', conversationId: 456, stream: true };
 */
export interface ChatInput {
  message: string;
  conversationId: string | number | undefined;
  stream: boolean;
}

// Bookbag conversation ids are integers; a string id of safe characters is accepted for compatible upstreams.
const ID_RULE = 'expected a positive integer or an id of 1 to 64 letters, digits, _ or -';
const conversationIdSchema = z.union(
  [z.number({ error: ID_RULE }).int(ID_RULE).positive(ID_RULE).max(Number.MAX_SAFE_INTEGER, ID_RULE), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, ID_RULE)],
  { error: ID_RULE },
);

// An allow-list: zod builds a new object from these keys only, so `userId`,
// `__proto__`, `constructor` or anything else a client adds never survives.
const schema = z.object({
  message: z.string({ error: 'expected a string' }).refine((m) => m.trim() !== '', 'expected a non-empty string'),
  conversationId: conversationIdSchema.nullish(),
  stream: z.boolean({ error: 'expected true or false' }).optional(),
});

/**
 * Validate a chat request body; a bad one is a 400 (413 when the message is
 * too large) before any upstream call.
 * @example parseChatInput({ message: 'Hi', userId: 'someone-else' }, 16_384) // { message: 'Hi', conversationId: undefined, stream: false }
 */
export function parseChatInput(body: Record<string, unknown>, maxMessageBytes: number): ChatInput {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'body');
    const message = field === 'message' && body.message === undefined ? 'is required' : issue.message;
    throw new ChatError('CHAT_BAD_REQUEST', `\`${field}\` ${message}.`, { status: 400 });
  }
  const { message, conversationId, stream } = parsed.data;
  if (Buffer.byteLength(message) > maxMessageBytes) {
    throw new ChatError('CHAT_MESSAGE_TOO_LARGE', `\`message\` is larger than ${maxMessageBytes} bytes.`, { status: 413 });
  }
  return { message, conversationId: conversationId ?? undefined, stream: stream ?? false };
}
