// `npm run runbook-schema`: writes runbooks/runbook.schema.json from the zod schema. A test fails while it is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RUNBOOK_SCHEMA_FILE, runbookJsonSchemaText } from '../src/runbooks/json-schema';
import { DEFAULT_RUNBOOK_DIR } from '../src/runbooks/load';

const file = path.join(DEFAULT_RUNBOOK_DIR, RUNBOOK_SCHEMA_FILE);
writeFileSync(file, runbookJsonSchemaText());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
