// Registers the incident search attributes on a server that does not have them yet: the time-skipping test server
// (drills, tests) and any cluster an operator points the engine at. The dev server gets them as start flags instead.
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { INCIDENT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
} as const;

export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<void> {
  const searchAttributes = Object.fromEntries(
    Object.entries(INCIDENT_SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED[type]]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (error) {
    // Already registered (by an earlier run or the dev server's flags) is what we want.
    if (!/already exists/i.test((error as Error).message)) throw error;
  }
}
