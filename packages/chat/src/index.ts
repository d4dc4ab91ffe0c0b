export { createChatForwarder, type ChatForwarder, type ChatEndpointOptions, type ChatReply } from './forwarder.js';
export { ChatError, type ChatErrorCode } from './errors.js';
export { chatUserId, USER_ID_PATTERN } from './userId.js';
export { SSE_HEADERS } from './stream.js';
export type { ChatForwarderOptions, ChatStore } from './options.js';
export type { ConversationPage, ConversationSummary, ListOptions } from './conversations.js';
