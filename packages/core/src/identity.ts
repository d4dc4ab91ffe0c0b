/** A verified customer, as the upstream profile describes them. */
export interface Identity {
  /** Stable upstream contact id. */
  readonly id: string;
  /** Normalized e-mail. */
  readonly email: string;
  readonly name?: string;
  /** The rest of the upstream profile. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** When the upstream last confirmed this session. */
  readonly verifiedAt: Date;
  /** True when served from cache while the upstream was unreachable. */
  readonly stale?: boolean;
}

/** How the request's identity was resolved. */
export type IdentityStatus = 'authenticated' | 'anonymous' | 'expired' | 'invalid' | 'unavailable';

const RAW_ID = Symbol.for('idgate.identityId');

/**
 * Build a frozen `Identity`. The raw identityId is attached under a
 * non-enumerable symbol, so JSON.stringify, pino and util.inspect never show it.
 */
export function createIdentity(
  profile: { id: string; email: string; name?: string | undefined; attributes: Record<string, unknown> },
  verifiedAt: number,
  identityId: string,
  stale = false,
): Identity {
  const identity: { -readonly [K in keyof Identity]: Identity[K] } = {
    id: profile.id,
    email: profile.email,
    attributes: Object.freeze({ ...profile.attributes }),
    verifiedAt: new Date(verifiedAt),
  };
  if (profile.name !== undefined) identity.name = profile.name;
  if (stale) identity.stale = true;
  Object.defineProperty(identity, RAW_ID, { value: identityId, enumerable: false });
  return Object.freeze(identity);
}

/** The raw identityId behind an identity, for server-side calls that need it (logout, upstream APIs). */
export function rawIdentityId(identity: Identity): string | undefined {
  return (identity as unknown as Record<symbol, string | undefined>)[RAW_ID];
}
