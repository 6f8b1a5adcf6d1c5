import { NotFoundError } from '../../errors/index.ts';
import { BLOB_DATA, BLOB_TREE } from '../../repo/blob-index.ts';
import { findSnapshot, listKeySlots, packName } from '../../repo/index.ts';
import { decodeIndex } from '../../repo/index-file.ts';
import { parsePack } from '../../repo/pack.ts';
import { decodeTree } from '../../repo/tree.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS, UsageError } from '../command.ts';

const KINDS = ['config', 'snapshot', 'index', 'key', 'tree', 'blob', 'pack'] as const;

function uniquePrefix(all: string[], prefix: string, kind: string): string {
  const found = all.filter((id) => id.startsWith(prefix));
  if (found.length !== 1)
    throw new NotFoundError(
      'OBJECT_NOT_FOUND',
      `no single ${kind} matches ${prefix} (${found.length} match)`,
    );
  return found[0]!;
}

function printable(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => (v?.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('hex') : v),
    2,
  );
}

export const catCommand: Command = {
  name: 'cat',
  summary: 'print a repository object (decrypted) for inspection',
  usage: `offsite cat ${KINDS.join('|')} [ID]`,
  details:
    'tree and blob take a blob id; pack prints the decrypted pack header. Secrets (the master key) are never printed.',
  options: { ...REPO_OPTIONS },
  optionHelp: [...REPO_OPTION_HELP],
  async run(ctx) {
    const [kind, id] = ctx.positionals;
    if (!kind || !(KINDS as readonly string[]).includes(kind))
      throw new UsageError(`give one of ${KINDS.join(', ')}`);
    if (kind !== 'config' && !id) throw new UsageError(`give the id of the ${kind}`);
    const repo = await openRepository(ctx, { index: kind === 'tree' || kind === 'blob' });
    const value = await load(repo, kind, id ?? '');
    if (Buffer.isBuffer(value)) process.stdout.write(value);
    else process.stdout.write(`${printable(value)}\n`);
    return 0;
  },
};

async function load(
  repo: Awaited<ReturnType<typeof openRepository>>,
  kind: string,
  id: string,
): Promise<unknown> {
  switch (kind) {
    case 'config':
      return repo.config;
    case 'snapshot':
      return (await findSnapshot(repo, id)).snapshot;
    case 'index': {
      const full = uniquePrefix(await repo.listFiles('index'), id, 'index');
      return decodeIndex(await repo.loadFile('index', full), `index/${full}`);
    }
    case 'key': {
      const slots = await listKeySlots(repo.store);
      return slots.find(
        (s) =>
          s.id ===
          uniquePrefix(
            slots.map((x) => x.id),
            id,
            'key',
          ),
      )!.file;
    }
    case 'tree': {
      const tree = decodeTree(await repo.loadBlob(Buffer.from(id, 'hex'), BLOB_TREE), `tree ${id}`);
      return tree.map((n) => ({ ...n, name: n.name.toString() }));
    }
    case 'blob':
      return repo.loadBlob(Buffer.from(id, 'hex'), BLOB_DATA);
    default: {
      const names: string[] = [];
      for await (const o of repo.store.list(`data/${id.slice(0, 2)}/`)) names.push(o.name.slice(8));
      const full = uniquePrefix(names, id, 'pack');
      const bytes = await repo.store.get(packName(Buffer.from(full, 'hex')));
      return parsePack(bytes, repo.keys.encKey, packName(Buffer.from(full, 'hex'))).entries;
    }
  }
}
