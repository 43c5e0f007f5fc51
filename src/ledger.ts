// The evidence ledger as operators see it (`incident-engine ledger verify`): where it lives and how it is checked.
// The evidence and quarantine activities write it (activities/ledger.ts); clients reach it only through this module.
export { ledgerFile, verifyLedger, type LedgerProblem, type LedgerReport } from '../activities/ledger';
