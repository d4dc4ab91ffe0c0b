import { ConfigError, NO_STORE_HEADERS, type Identity, type IdentityEndpoint } from '@idgate/core/adapter';
import type { KycCustomerInput } from './customer.js';
import type { GetSessionOptions, KycSession } from './client.js';

type WithoutEmail<T> = T extends unknown ? Omit<T, 'customerEmail'> & { customerEmail?: string } : never;

/**
 * A customer as the endpoint's `customer` option builds it: any
 * `customerEmail` is replaced by the verified identity's e-mail.
 * @example { customerType: 'LegalEntity', company: { fullName: 'Acme Ltd', registrationNumber: '123', tradingName: 'Acme' } }
 */
export type KycCustomerDetails = WithoutEmail<KycCustomerInput>;

/**
 * Options of `client.endpoint()`, i.e. the second argument of every adapter's `kycSessionHandler`.
 * @example kycSessionHandler(kyc, { customer: (id) => ({ customerType: 'Individual', individual: { firstName: id.attributes.firstName, lastName: id.attributes.lastName }, clientId: 'branch-1' }) })
 */
export interface KycEndpointOptions {
  /**
   * Who the session is for, built from the verified identity (and your own
   * data: it may be async). `clientId`, `employeeId` and `sendEmail` belong here,
   * decided by the server.
   * @default an Individual named from `attributes.firstName`/`lastName` (or
   * `first_name`/`last_name`, `givenName`/`familyName`), else `identity.name`
   * split at its first space
   */
  customer?: (identity: Identity) => KycCustomerDetails | Promise<KycCustomerDetails>;
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/**
 * The default customer: an Individual named from the identity. A name that
 * cannot be split into first and last is left for validation to refuse
 * ("Invalid request parameters"): pass `customer` when your profiles lack names.
 * @example defaultCustomer(identity) // { customerType: 'Individual', individual: { firstName: 'Demo', lastName: 'Customer' } }
 */
export function defaultCustomer(identity: Identity): KycCustomerDetails {
  const a = identity.attributes;
  const words = (identity.name ?? '').trim().split(/\s+/).filter(Boolean);
  const firstName = str(a.firstName) ?? str(a.first_name) ?? str(a.givenName) ?? words[0] ?? '';
  const lastName = str(a.lastName) ?? str(a.last_name) ?? str(a.familyName) ?? words.slice(1).join(' ');
  return { customerType: 'Individual', individual: { firstName, lastName } };
}

/**
 * The `IdentityEndpoint` of `client.endpoint()`: `POST` → `{ sessionId, expiryDate }`.
 * The e-mail is always the verified identity's. The body may carry only
 * `fresh: true` (a new session); anything else in it, an e-mail or a
 * `clientId` included, is ignored, since the browser must not choose whose
 * session it gets or which client the profile is assigned to.
 * @example const endpoint = createKycEndpoint(client, { customer: defaultCustomer });
 */
export function createKycEndpoint(
  client: { getSession(customer: KycCustomerInput, options?: GetSessionOptions): Promise<KycSession> },
  options: KycEndpointOptions = {},
): IdentityEndpoint {
  if (typeof options !== 'object' || options === null) throw new ConfigError('@idgate/kyc: endpoint options must be an object');
  const build = options.customer ?? defaultCustomer;
  if (typeof build !== 'function') throw new ConfigError('@idgate/kyc: option `customer` expected a function (identity) => customer');
  return {
    async handle({ identity, body, signal }) {
      const details = await build(identity);
      const customer = { ...details, customerEmail: identity.email } as KycCustomerInput;
      const session = await client.getSession(customer, { fresh: body.fresh === true, signal });
      return {
        kind: 'respond',
        statusCode: 200,
        body: { sessionId: session.sessionId, expiryDate: session.expiryDate },
        headers: NO_STORE_HEADERS,
        setCookies: [],
      };
    },
  };
}
