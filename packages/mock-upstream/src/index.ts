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
export type { BizKitHubOptions, CustomerInput, LoginErrorCode, SessionInfo } from './bizkithub.js';
