import { OffsiteError } from '../../../errors/index.ts';

// The errors of using a catalog or one of its transactions wrongly: programming errors,
// the same whichever backend noticed them.

export function catalogClosed(): OffsiteError {
  return new OffsiteError('internal', 'CATALOG_CLOSED', 'the catalog is closed');
}

export function transactionMisuse(
  message = 'the catalog was called directly inside its own transaction',
): OffsiteError {
  return new OffsiteError('internal', 'CATALOG_TX_MISUSE', message, {
    hint: 'inside transaction(fn), make every call through the catalog fn receives',
  });
}

export function transactionEnded(): OffsiteError {
  return new OffsiteError('internal', 'CATALOG_TX_ENDED', 'this transaction has already ended', {
    hint: 'keep using a transaction only until its function returns',
  });
}
