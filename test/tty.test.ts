// On a terminal: the passphrase prompt hides what is typed, asks twice for a new one,
// and backup draws a progress line. `script` gives the CLI a real pseudo-terminal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './helpers/cli.ts';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const PASS = 'typed at the prompt, long enough';

/** Runs the CLI on a pseudo-terminal, typing one line of `input` at each prompt. */
function onTerminal(args: string[], input: string): Promise<{ code: number; output: string }> {
  return new Promise((done, reject) => {
    const command = [process.execPath, MAIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', COLUMNS: '100' },
    });
    let output = '';
    const answers = input.split('\n').filter(Boolean);
    let prompts = 0;
    child.stdout.on('data', (d) => {
      output += d;
      // Answer each prompt as it appears, as a person would.
      const seen = output.match(/(passphrase|Repeat it): /g)?.length ?? 0;
      while (prompts < seen && answers.length > 0) {
        prompts++;
        child.stdin.write(`${answers.shift()}\r`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => done({ code: code ?? -1, output }));
  });
}

describe('on a terminal', () => {
  it('asks for a new passphrase twice without echoing it, then backs up with a progress line', async (t) => {
    const dir = await tempDir(t);
    const repo = join(dir, 'repo');
    const src = join(dir, 'src');
    await mkdir(src);
    for (let i = 0; i < 200; i++) await writeFile(join(src, `f${i}`), `file number ${i}\n`.repeat(500));

    const init = await onTerminal(['init', '--repo', repo], `${PASS}\n${PASS}\n`);
    assert.equal(init.code, 0, init.output);
    assert.match(init.output, /New passphrase: /);
    assert.match(init.output, /Repeat it: /);
    assert.ok(!init.output.includes(PASS), 'the passphrase is never echoed');

    const backup = await onTerminal(['backup', '--repo', repo, src], `${PASS}\n`);
    assert.equal(backup.code, 0, backup.output);
    assert.match(backup.output, /\r\x1b\[K.*\d+ files {2}[\d.]+ \w*B/, 'a progress line is drawn in place');
    assert.match(backup.output, /Files: +200 new/);
    assert.ok(!backup.output.includes(PASS));
  });

  it('refuses two different new passphrases', async (t) => {
    const dir = await tempDir(t);
    const result = await onTerminal(
      ['init', '--repo', join(dir, 'repo')],
      `${PASS}\nsomething else entirely\n`,
    );
    assert.equal(result.code, 1);
    assert.match(result.output, /the two passphrases differ/);
  });
});
