// Issue 14: the mock is as strict as the upstreams' documentation.
//
// Mutation tests: each one takes the request that idgate's real client sends
// (core's upstream client, @idgate/kyc, @idgate/chat), changes one thing the
// documentation fixes (where the key goes, a field's name or type, which
// customer object is sent, the credentials), sends it over a real socket and
// checks that the mock refuses it with the documented answer. A control test
// per client proves the unmutated request succeeds, so a refusal is the
// mutation's doing. Against the mock of before issue 14 (which took the key
// from anywhere, checked the KYC customer type first and answered a wrong
// secret 401), 13 of these fail: the key moves, apiKey dropped or renamed,
// rule 1 before rule 3, the wrong secret, `users` renamed `contacts`.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUpstreamClient, resolveConfig, type Identity, type UpstreamClient } from '@idgate/core/adapter';
import { createKycClient, type KycCustomerInput } from '@idgate/kyc';
import { createChatForwarder, type ChatForwarder } from '@idgate/chat';
import {
  DEMO_CUSTOMER,
  MOCK_API_KEY,
  MOCK_CHAT_API_KEY,
  MOCK_KYC_APP_ID,
  MOCK_KYC_APP_SECRET,
  MOCK_KYC_FORM_ID,
  MOCK_KYC_TENANT_ID,
  startMockUpstream,
  type MockUpstream,
} from '@idgate/mock-upstream';

/** The request as the client built it, for a mutation to change before it is sent. */
interface Wire {
  url: URL;
  headers: Record<string, string>;
  /** The parsed JSON body; undefined when there is none. */
  body: any;
}
type Mutation = (wire: Wire) => void;

/** The mock's answers, as they came over the socket. */
interface Answer {
  status: number;
  body: unknown;
}

/** A `fetch` that applies `mutate` to each request and records each answer. */
function mutating(mutate: Mutation, answers: Answer[]): typeof fetch {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    const wire: Wire = { url, headers, body };
    mutate(wire);
    const res = await fetch(wire.url, { ...init, headers: wire.headers, body: wire.body === undefined ? null : JSON.stringify(wire.body) });
    const text = await res.clone().text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a stream: kept as text
    }
    answers.push({ status: res.status, body: parsed });
    return res;
  };
}

const unchanged: Mutation = () => {};
const dropBearer = (w: Wire) => void delete w.headers.authorization;

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream({ port: 0, host: '127.0.0.1' });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

// ---------------------------------------------------------------- BizKitHub

const INVALID_API_KEY = { status: 401, body: { success: false, error: 'INVALID_API_KEY', message: 'Invalid API key.' } };
const BAD_REQUEST = { status: 400, body: { success: false, error: 'BAD_REQUEST', message: expect.any(String) } };

function bizkithub(mutate: Mutation, answers: Answer[], apiKeyIn: 'header' | 'query' = 'header'): UpstreamClient {
  const config = resolveConfig(
    {
      upstreamUrl: mock.url,
      apiKey: MOCK_API_KEY,
      apiKeyIn,
      secret: 'idgate-test-secret-0123456789abcdef',
      fetch: mutating(mutate, answers),
      upstream: { timeout: 1_000, totalTimeout: 2_000, retries: 0 },
    },
    {},
  );
  return createUpstreamClient(config);
}

/** A live identityId, signed in straight at the mock. */
async function liveSession(): Promise<string> {
  const answers: Answer[] = [];
  return bizkithub(unchanged, answers).login(DEMO_CUSTOMER);
}

describe('BizKitHub login (seed 001: the key as a query parameter or Bearer token)', () => {
  it.each([
    ['with the key as a Bearer token', 'header'],
    ['with the key as ?apiKey=', 'query'],
  ] as const)('control: the unmutated client signs in %s', async (_name, apiKeyIn) => {
    const answers: Answer[] = [];
    await expect(bizkithub(unchanged, answers, apiKeyIn).login(DEMO_CUSTOMER)).resolves.toMatch(/^[A-Za-z0-9]{32}$/);
    expect(answers).toEqual([{ status: 200, body: { success: true, identityId: expect.any(String) } }]);
  });

  const rows: [string, Mutation, 'header' | 'query', Answer][] = [
    ['the key moved from the Bearer header into the body', (w) => (dropBearer(w), (w.body.apiKey = MOCK_API_KEY)), 'header', INVALID_API_KEY],
    ['the key moved from ?apiKey= into the body', (w) => (w.url.searchParams.delete('apiKey'), (w.body.apiKey = MOCK_API_KEY)), 'query', INVALID_API_KEY],
    ['the key in an X-Api-Key header instead of a Bearer token', (w) => (dropBearer(w), (w.headers['x-api-key'] = MOCK_API_KEY)), 'header', INVALID_API_KEY],
    ['the key as a bare Authorization value (no Bearer scheme)', (w) => void (w.headers.authorization = MOCK_API_KEY), 'header', INVALID_API_KEY],
    ['the query parameter renamed api_key', (w) => (w.url.searchParams.delete('apiKey'), w.url.searchParams.set('api_key', MOCK_API_KEY)), 'query', INVALID_API_KEY],
    ['email renamed mail', (w) => ((w.body.mail = w.body.email), delete w.body.email), 'header', BAD_REQUEST],
    ['password sent as a number', (w) => void (w.body.password = 1234), 'header', BAD_REQUEST],
    ['customerRealIp that is not an IP address', (w) => void (w.body.customerRealIp = 'not-an-ip'), 'header', BAD_REQUEST],
  ];
  it.each(rows)('refuses a login with %s', async (_name, mutate, apiKeyIn, expected) => {
    const answers: Answer[] = [];
    await expect(bizkithub(mutate, answers, apiKeyIn).login(DEMO_CUSTOMER)).rejects.toThrow();
    expect(answers).toEqual([expected]);
    expect(mock.sessions()).toEqual([]);
  });
});

describe('BizKitHub profile and logout (seed 000: { apiKey, identityId } in the body)', () => {
  it('control: the unmutated client verifies and ends a session', async () => {
    const identityId = await liveSession();
    const answers: Answer[] = [];
    const client = bizkithub(unchanged, answers);
    await expect(client.profile(identityId)).resolves.toMatchObject({ kind: 'valid', profile: { id: 'c_demo' } });
    await client.logout(identityId);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(mock.sessions()).toEqual([]);
  });

  const rows: [string, Mutation, Answer][] = [
    ['apiKey dropped from the body (the Bearer header alone)', (w) => void delete w.body.apiKey, INVALID_API_KEY],
    ['apiKey moved from the body to ?apiKey=', (w) => (w.url.searchParams.set('apiKey', w.body.apiKey), delete w.body.apiKey), INVALID_API_KEY],
    ['apiKey renamed api_key', (w) => ((w.body.api_key = w.body.apiKey), delete w.body.apiKey), INVALID_API_KEY],
    ['identityId renamed identity', (w) => ((w.body.identity = w.body.identityId), delete w.body.identityId), BAD_REQUEST],
    ['identityId sent as an array', (w) => void (w.body.identityId = [w.body.identityId]), BAD_REQUEST],
  ];
  it.each(rows)('refuses a profile call with %s', async (_name, mutate, expected) => {
    const identityId = await liveSession();
    const answers: Answer[] = [];
    await expect(bizkithub(mutate, answers).profile(identityId)).rejects.toThrow();
    expect(answers).toEqual([expected]);
  });

  it.each(rows)('refuses a logout with %s, and the session stays alive', async (_name, mutate, expected) => {
    const identityId = await liveSession();
    const answers: Answer[] = [];
    await expect(bizkithub(mutate, answers).logout(identityId)).rejects.toThrow();
    expect(answers).toEqual([expected]);
    expect(mock.sessions()).toMatchObject([{ identityId, expired: false }]);
  });
});

// ---------------------------------------------------------------------- KYC

const ADA: KycCustomerInput = { customerType: 'Individual', customerEmail: 'ada@example.com', individual: { firstName: 'Ada', lastName: 'Lovelace' } };
const ACME_COMPANY = { fullName: 'Acme Ltd', registrationNumber: '12345', tradingName: 'Acme' };

function kyc(mutate: Mutation, answers: Answer[]) {
  return createKycClient({
    baseUrl: mock.url,
    appId: MOCK_KYC_APP_ID,
    appSecret: MOCK_KYC_APP_SECRET,
    tenantId: MOCK_KYC_TENANT_ID,
    formId: MOCK_KYC_FORM_ID,
    fetch: mutating(mutate, answers),
    http: { timeout: 1_000, totalTimeout: 2_000, retries: 0 },
  });
}

const kycFailure = (message: string): Answer => ({ status: 400, body: { version: null, statusCode: 400, messages: [message], result: null } });

describe('Azakaw GetSessionId (seed 004: rules 1-4 in order, the error table)', () => {
  it('control: the unmutated client gets a session', async () => {
    const answers: Answer[] = [];
    await expect(kyc(unchanged, answers).getSession(ADA)).resolves.toMatchObject({ sessionId: expect.any(String), isNewCustomer: true });
    expect(answers).toEqual([{ status: 200, body: expect.objectContaining({ statusCode: 200 }) }]);
  });

  const rows: [string, Mutation, Answer][] = [
    ['both individual and company (rule 1)', (w) => void (w.body.company = ACME_COMPANY), kycFailure('Invalid Customer Details')],
    ['neither object and an invalid customerType (rule 1 before rule 3)', (w) => (delete w.body.individual, (w.body.customerType = 'Business')), kycFailure('Invalid Customer Details')],
    ['both objects and no customerType (rule 1 before rule 3)', (w) => ((w.body.company = ACME_COMPANY), delete w.body.customerType), kycFailure('Invalid Customer Details')],
    ['customerType LegalEntity beside an individual (rule 2)', (w) => void (w.body.customerType = 'LegalEntity'), kycFailure('Invalid Customer Type')],
    ['customerType outside the enum (rule 3)', (w) => void (w.body.customerType = 'Person'), kycFailure('Invalid customer type.')],
    ['customerType in the wrong case (rule 3)', (w) => void (w.body.customerType = 'individual'), kycFailure('Invalid customer type.')],
    ['a wrong appSecret (rule 4: the 400 row, not 401)', (w) => void (w.body.appSecret = 'not-the-secret'), kycFailure('Invalid AppId or AppSecret')],
    ['appSecret renamed app_secret (rule 4)', (w) => ((w.body.app_secret = w.body.appSecret), delete w.body.appSecret), kycFailure('Invalid AppId or AppSecret')],
    ['the credentials in headers instead of the body (rule 4)', (w) => {
      w.headers['x-app-id'] = w.body.appId;
      w.headers['x-app-secret'] = w.body.appSecret;
      delete w.body.appId;
      delete w.body.appSecret;
    }, kycFailure('Invalid AppId or AppSecret')],
    ['a wrong appSecret and a type mismatch (rule 2 before rule 4)', (w) => ((w.body.appSecret = 'x'), (w.body.customerType = 'LegalEntity')), kycFailure('Invalid Customer Type')],
    ['a wrong appSecret, neither object and an invalid type (rule 1 before rules 3 and 4)', (w) => ((w.body.appSecret = 'x'), (w.body.customerType = 'Business'), delete w.body.individual), kycFailure('Invalid Customer Details')],
    ['individual.firstName renamed first_name', (w) => void (w.body.individual = { first_name: 'Ada', lastName: 'Lovelace' }), kycFailure('Invalid request parameters')],
    ['sendEmail sent as a string', (w) => void (w.body.sendEmail = 'true'), kycFailure('Invalid request parameters')],
    ['customerEmail renamed email', (w) => ((w.body.email = w.body.customerEmail), delete w.body.customerEmail), kycFailure('Invalid request parameters')],
    ['a null body', (w) => void (w.body = null), kycFailure('Invalid Request')],
  ];
  it.each(rows)('refuses %s', async (_name, mutate, expected) => {
    const answers: Answer[] = [];
    await expect(kyc(mutate, answers).getSession(ADA)).rejects.toThrow();
    expect(answers).toEqual([expected]);
  });
});

// --------------------------------------------------------------------- chat

const IDENTITY: Identity = { id: 'c_demo', email: 'demo@example.com', name: 'Demo Customer', attributes: { plan: 'pro' }, verifiedAt: new Date() };
const v2Error = (status: number, code: string): Answer => ({ status, body: { error: { code, message: expect.any(String) } } });

function chat(mutate: Mutation, answers: Answer[]): ChatForwarder {
  return createChatForwarder({
    baseUrl: mock.url,
    apiKey: MOCK_CHAT_API_KEY,
    agentId: 7,
    contact: { chatbotId: 7 },
    fetch: mutating(mutate, answers),
    http: { timeout: 1_000, totalTimeout: 2_000, retries: 0 },
  });
}

/** One non-streamed chat message through the forwarder's endpoint, as an adapter runs it. */
async function sendMessage(forwarder: ChatForwarder): Promise<unknown> {
  const input = { identity: IDENTITY, request: {} as never, body: { message: 'Where is my order?', stream: false }, signal: new AbortController().signal };
  return forwarder.endpoint().handle(input).catch((err: unknown) => err);
}

/** Only the chat post itself: contact sync is scheduled in the background and would record its own answer. */
const onlyChat = (mutate: Mutation): Mutation => (w) => {
  if (w.url.pathname.endsWith('/chat')) mutate(w);
};

describe('Bookbag (seed 003: Bearer key, userId pattern, contacts keyed by external_id)', () => {
  it('control: the unmutated forwarder chats, syncs the contact and lists conversations', async () => {
    const answers: Answer[] = [];
    const forwarder = chat(unchanged, answers);
    await forwarder.syncContact(IDENTITY);
    await sendMessage(forwarder);
    await expect(forwarder.listConversations(IDENTITY)).resolves.toMatchObject({ conversations: [expect.anything()] });
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(mock.contacts('7')).toMatchObject([{ external_id: 'c_demo' }]);
  });

  const chatRows: [string, Mutation, Answer][] = [
    ['the key moved from the Bearer header into the body', (w) => (dropBearer(w), (w.body.apiKey = MOCK_CHAT_API_KEY)), v2Error(401, 'AUTH_MISSING_API_KEY')],
    ['the key moved to ?apiKey=', (w) => (dropBearer(w), w.url.searchParams.set('apiKey', MOCK_CHAT_API_KEY)), v2Error(401, 'AUTH_MISSING_API_KEY')],
    ['a userId outside ^[a-zA-Z0-9._-]{1,128}$ (an e-mail)', (w) => void (w.body.userId = 'demo@example.com'), v2Error(400, 'VALIDATION_INVALID_BODY')],
    ['a userId of 129 characters', (w) => void (w.body.userId = 'a'.repeat(129)), v2Error(400, 'VALIDATION_INVALID_BODY')],
    ['message renamed text', (w) => ((w.body.text = w.body.message), delete w.body.message), v2Error(400, 'VALIDATION_INVALID_BODY')],
  ];
  it.each(chatRows)('refuses a chat message with %s', async (_name, mutate, expected) => {
    const answers: Answer[] = [];
    const forwarder = chat(onlyChat(mutate), answers);
    await forwarder.syncContact(IDENTITY); // settles the background sync first
    answers.length = 0;
    await sendMessage(forwarder);
    expect(answers).toEqual([expected]);
    expect(mock.chatConversations()).toEqual([]);
  });

  const contactRows: [string, Mutation, Answer][] = [
    ['the key moved from the Bearer header into the body', (w) => (dropBearer(w), (w.body.apiKey = MOCK_CHAT_API_KEY)), { status: 401, body: { message: 'Unauthorized' } }],
    ['users renamed contacts', (w) => ((w.body.contacts = w.body.users), delete w.body.users), { status: 400, body: { message: 'Invalid request data' } }],
    ['external_id sent as a number', (w) => void (w.body.users[0].external_id = 42), { status: 400, body: { message: 'Invalid request data' } }],
  ];
  it.each(contactRows)('refuses a contact upsert with %s', async (_name, mutate, expected) => {
    const answers: Answer[] = [];
    await expect(chat(mutate, answers).syncContact(IDENTITY)).rejects.toThrow();
    expect(answers).toEqual([expected]);
    expect(mock.contacts()).toEqual([]);
  });

  const listRows: [string, Mutation, Answer][] = [
    ['the Bearer key dropped', dropBearer, v2Error(401, 'AUTH_MISSING_API_KEY')],
    ['a userId outside the pattern in the path', (w) => void (w.url.pathname = w.url.pathname.replace('/users/c_demo/', '/users/demo%40example.com/')), v2Error(400, 'VALIDATION_INVALID_PARAMS')],
  ];
  it.each(listRows)('refuses a conversation list with %s', async (_name, mutate, expected) => {
    const answers: Answer[] = [];
    await expect(chat(mutate, answers).listConversations(IDENTITY)).rejects.toThrow();
    expect(answers).toEqual([expected]);
  });
});

// ------------------------------------------- statuses the documents leave open

describe('idgate copes with every status the documentation leaves open (statuses option, real sockets)', () => {
  const started: MockUpstream[] = [];
  afterAll(() => Promise.all(started.map((m) => m.close())));
  async function clientFor(statuses: Record<string, number>, extra: Record<string, unknown> = {}) {
    const own = await startMockUpstream({ port: 0, host: '127.0.0.1', statuses, ...extra });
    started.push(own);
    const config = resolveConfig(
      { upstreamUrl: own.url, apiKey: MOCK_API_KEY, secret: 'idgate-test-secret-0123456789abcdef', upstream: { timeout: 1_000, totalTimeout: 2_000, retries: 0 } },
      {},
    );
    return { own, client: createUpstreamClient(config) };
  }

  it.each([200, 400, 401, 403, 404, 410])('SESSION_EXPIRED answered with %i: the session is expired', async (status) => {
    const { own, client } = await clientFor({ sessionExpired: status });
    const identityId = await client.login(DEMO_CUSTOMER);
    own.expire({ identityId });
    await expect(client.profile(identityId)).resolves.toEqual({ kind: 'expired' });
    // And logging out of it still ends the session locally without an error.
    await expect(client.logout(identityId)).resolves.toBeUndefined();
  });

  it.each([200, 400, 401, 403, 404, 410])('INVALID_IDENTITY answered with %i: the session is invalid', async (status) => {
    const { client } = await clientFor({ invalidIdentity: status });
    await expect(client.profile('Z9CPkS2o3UV163VQn5OUv0T8BQi8Fvdg')).resolves.toEqual({ kind: 'invalid' });
  });

  it.each([200, 400, 401, 403, 429])('E006 answered with %i: TOO_MANY_ATTEMPTS with the upstream Retry-After', async (status) => {
    const { client } = await clientFor({ tooManyAttempts: status }, { loginAttemptLimit: 1, loginAttemptWindowMs: 120_000 });
    await expect(client.login({ email: DEMO_CUSTOMER.email, password: 'wrong' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', upstreamCode: 'E004' });
    await expect(client.login(DEMO_CUSTOMER)).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS', upstreamCode: 'E006', status: 429, retryAfter: 120 });
  });

  it.each([200, 400, 401, 403, 404, 422])('E001-E005 and E007 answered with %i: the typed LoginError of each code', async (status) => {
    const { client } = await clientFor({ loginError: status });
    const cases = [
      [{ email: 'nobody@example.com', password: 'pw' }, 'UNKNOWN_EMAIL', 'E002'],
      [{ email: 'noaccount@example.com', password: 'demo-password' }, 'NO_ACCOUNT', 'E003'],
      [{ email: DEMO_CUSTOMER.email, password: 'wrong' }, 'INVALID_CREDENTIALS', 'E004'],
      [{ email: 'banned@example.com', password: 'demo-password' }, 'ACCOUNT_BANNED', 'E005'],
      [{ email: 'unverified@example.com', password: 'demo-password' }, 'EMAIL_NOT_VERIFIED', 'E007'],
    ] as const;
    for (const [input, code, upstreamCode] of cases) {
      await expect(client.login(input)).rejects.toMatchObject({ code, upstreamCode });
    }
  });
});
