import assert from 'node:assert/strict';
import { it } from 'node:test';
import { COMMANDS } from './registry.ts';

it('each entry of the registry loads its command, with the same name and summary', async () => {
  for (const entry of COMMANDS) {
    const command = await entry.load();
    assert.equal(command.name, entry.name);
    assert.equal(command.summary, entry.summary, `the summary of ${entry.name} in registry.ts`);
  }
  assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length, 'names are unique');
});
