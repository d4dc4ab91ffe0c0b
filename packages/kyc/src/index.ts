export {
  createKycClient,
  GET_SESSION_PATH,
  type GetSessionOptions,
  type KycClient,
  type KycClientOptions,
  type KycSession,
  type KycStore,
} from './client.js';
export { checkCustomer, type KycCompany, type KycCustomerFields, type KycCustomerInput, type KycIndividual } from './customer.js';
export { createKycEndpoint, defaultCustomer, type KycCustomerDetails, type KycEndpointOptions } from './endpoint.js';
export { KycError, KYC_ERRORS, errorFor400, type KycErrorCode } from './errors.js';
