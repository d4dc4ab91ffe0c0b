// Type tests for the error codes: core's union is closed over core's failures;
// chat and KYC extend it with their own, through the generic base class.
import { expectTypeOf } from 'vitest';
import { IdgateError, type IdgateErrorCode } from '@idgate/core';
import { ChatError, type ChatErrorCode } from '@idgate/chat';
import { KycError, type KycErrorCode } from '@idgate/kyc';

const core: IdgateErrorCode = 'UPSTREAM_TIMEOUT';
void core;
// @ts-expect-error a chat code is the chat package's, not core's
const chatInCore: IdgateErrorCode = 'CHAT_RATE_LIMITED';
void chatInCore;
// @ts-expect-error a KYC code is the KYC package's, not core's
const kycInCore: IdgateErrorCode = 'KYC_RATE_LIMITED';
void kycInCore;

declare const chat: ChatError;
expectTypeOf(chat.code).toEqualTypeOf<ChatErrorCode>();
expectTypeOf(chat).toMatchTypeOf<IdgateError<string>>();
declare const kyc: KycError;
expectTypeOf(kyc.code).toEqualTypeOf<KycErrorCode>();
// @ts-expect-error a ChatError carries chat codes only
new ChatError('UPSTREAM_TIMEOUT', 'x', { status: 503 });

/** A package of one's own adds its codes the same way. */
class BillingError extends IdgateError<'BILLING_DECLINED'> {}
expectTypeOf(new BillingError('BILLING_DECLINED', 'declined').code).toEqualTypeOf<'BILLING_DECLINED'>();
