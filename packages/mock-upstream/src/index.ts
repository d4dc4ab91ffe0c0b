export { startMockUpstream } from './server.js';
export type {
  MockCalls,
  MockFault,
  MockModule,
  MockReply,
  MockRequest,
  MockRoute,
  MockUpstream,
  MockUpstreamOptions,
  RecordedRequest,
} from './server.js';
export { DEMO_CUSTOMER, LOGIN_ERRORS, MOCK_API_KEY } from './bizkithub.js';
export type { BizKitHubOptions, BizKitHubStatuses, CustomerInput, LoginErrorCode, SessionInfo } from './bizkithub.js';
export {
  KYC_MESSAGES,
  MOCK_KYC_APP_ID,
  MOCK_KYC_APP_SECRET,
  MOCK_KYC_CLIENT_ID,
  MOCK_KYC_FORM_ID,
  MOCK_KYC_RESTRICTED_CLIENT_ID,
  MOCK_KYC_TENANT_ID,
} from './kyc.js';
export type { KycMockOptions } from './kyc.js';
export { MOCK_CHAT_API_KEY } from './chat.js';
export type { ChatContact, ChatConversation, ChatMockOptions } from './chat.js';
