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

const RAW_ID: unique symbol = Symbol.for('idgate.identityId');

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
  // One literal per shape, the raw id included, so every property sits inside
  // the object: added one by one, the later ones (name, the raw id) would go
  // to a separate property array (about 25 bytes more per cached identity).
  // The key order stays id, email, attributes, verifiedAt, name.
  const attributes = Object.freeze(copyOf(profile.attributes));
  const at = new Date(verifiedAt);
  const identity: { -readonly [K in keyof Identity]: Identity[K] } & { [RAW_ID]?: string } =
    profile.name === undefined
      ? { id: profile.id, email: profile.email, attributes, verifiedAt: at, [RAW_ID]: identityId }
      : { id: profile.id, email: profile.email, attributes, verifiedAt: at, name: profile.name, [RAW_ID]: identityId };
  if (stale) identity.stale = true;
  Object.defineProperty(identity, RAW_ID, { enumerable: false });
  return Object.freeze(identity);
}

/**
 * A copy of `{ ...source }` built key by key. V8 gives a spread copy a map
 * outside its transition tree, and freezing such an object then allocates a
 * map of its own for every object: about 230 bytes per cached identity.
 * Built key by key, every copy with the same keys shares one frozen map.
 */
function copyOf(source: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string | symbol, unknown> = {};
  for (const key of Object.keys(source)) {
    // An own "__proto__" key (JSON.parse makes one) stays a plain property, as a spread keeps it.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: source[key], enumerable: true, writable: true, configurable: true });
    else copy[key] = source[key];
  }
  // A spread copies enumerable symbol keys too.
  for (const key of Object.getOwnPropertySymbols(source)) {
    if (Object.prototype.propertyIsEnumerable.call(source, key)) copy[key] = (source as Record<symbol, unknown>)[key];
  }
  return copy as Record<string, unknown>;
}

/** The raw identityId behind an identity, for server-side calls that need it (logout, upstream APIs). */
export function rawIdentityId(identity: Identity): string | undefined {
  return (identity as unknown as Record<symbol, string | undefined>)[RAW_ID];
}
