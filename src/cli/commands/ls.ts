import { findSnapshot, printableName, type TreeNode, walkTree } from '../../repo/index.ts';
import { nsToSeconds } from '../../repo/restore/metadata.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS, UsageError } from '../command.ts';

const TYPE_CHAR: Record<TreeNode['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  socket: 's',
  chardev: 'c',
  blockdev: 'b',
};

function modeString(node: TreeNode): string {
  const bits = 'rwxrwxrwx';
  let out = TYPE_CHAR[node.type];
  for (let i = 0; i < 9; i++) out += node.mode & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list the files in a snapshot',
  usage: 'offsite ls SNAPSHOT|latest [PATH] [--long]',
  options: { ...REPO_OPTIONS, long: { type: 'boolean', short: 'l' } },
  optionHelp: [...REPO_OPTION_HELP, ['-l, --long', 'show mode, owner, size and time']],
  async run(ctx) {
    const [ref, filter] = ctx.positionals;
    if (!ref) throw new UsageError('give a SNAPSHOT (an id or "latest")');
    const repo = await openRepository(ctx);
    const snapshot = await findSnapshot(repo, ref);
    const prefix = filter ? `/${filter.replace(/^\/+|\/+$/g, '')}` : '';
    const entries: Record<string, unknown>[] = [];
    await walkTree(repo, Buffer.from(snapshot.snapshot.tree, 'hex'), (pathBytes, node) => {
      const path = printableName(pathBytes);
      if (prefix && path !== prefix && !path.startsWith(`${prefix}/`)) return;
      const mtime = new Date(nsToSeconds(node.mtime) * 1000).toISOString();
      if (ctx.out.json) {
        entries.push({
          path,
          type: node.type,
          mode: node.mode,
          uid: node.uid,
          gid: node.gid,
          user: node.user,
          group: node.group,
          size: node.size,
          mtime,
        });
      } else if (ctx.values.long) {
        const owner = `${node.user ?? node.uid}/${node.group ?? node.gid}`;
        const link = node.type === 'symlink' ? ` -> ${printableName(node.target!)}` : '';
        ctx.out.line(
          `${modeString(node)} ${owner.padEnd(15)} ${String(node.size).padStart(12)} ${mtime.slice(0, 19).replace('T', ' ')} ${path}${link}`,
        );
      } else {
        ctx.out.line(path);
      }
    });
    ctx.out.data(entries);
    return 0;
  },
};
