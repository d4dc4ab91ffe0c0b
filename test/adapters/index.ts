import { expressAdapter } from './express.js';
import type { AdapterUnderTest } from './types.js';

/** Every adapter the conformance suite runs against. */
export const adapters: AdapterUnderTest[] = [expressAdapter];
