import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AuthError,
  BadInputError,
  ConflictError,
  IntegrityError,
  NotFoundError,
  OffsiteError,
  QuotaError,
} from '../../errors/index.ts';
import { blobStoreConformance, collect } from '../conformance.ts';
import { ensureDir, FileStore } from './index.ts';
import { type FsOps, nodeFs } from './ops.ts';

blobStoreConformance('FileStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'offsite-fs-'));
  return { store: new FileStore(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

let base: string;
let counter = 0;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'offsite-fs-extra-'));
});
after(() => rm(base, { recursive: true, force: true }));

/** A fresh, existing root directory under the per-file temp dir. */
async function newRoot(): Promise<string> {
  const root = join(base, `r${counter++}`);
  await mkdir(root);
  return root;
}

async function tempFiles(root: string): Promise<string[]> {
  return readdir(join(root, '.tmp')).catch(() => []);
}

/** A FileHandle whose listed methods are replaced; everything else is the real one. */
function wrapHandle(handle: FileHandle, overrides: Partial<Record<keyof FileHandle, unknown>>): FileHandle {
  return new Proxy(handle, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof FileHandle];
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

describe('FileStore on disk', () => {
  it('leaves no temp file after a put, a conflicting put, or a refused name', async () => {
    const root = await newRoot();
    const store = new FileStore(root);
    await store.put('data/ab/p1', Buffer.from('one'));
    assert.deepEqual(await tempFiles(root), []);
    await assert.rejects(store.put('data/ab/p1', Buffer.from('two')), ConflictError);
    await assert.rejects(store.put('.tmp/x', Buffer.from('two')), BadInputError);
    assert.deepEqual(await tempFiles(root), []);
    assert.equal((await store.get('data/ab/p1')).toString(), 'one');
  });

  it('is read back by a fresh FileStore on the same root', async () => {
    const root = await newRoot();
    await new FileStore(root).put('keys/k1', Buffer.from('key'));
    const fresh = new FileStore(root);
    assert.equal((await fresh.get('keys/k1')).toString(), 'key');
    assert.deepEqual(await collect(fresh.list('')), [{ name: 'keys/k1', size: 3 }]);
  });

  it('never lists temp files, stray files with invalid names, or empty directories', async () => {
    const root = await newRoot();
    const store = new FileStore(root);
    await store.put('a/b', Buffer.from('x'));
    await writeFile(join(root, '.tmp', 'stale-from-a-crash'), 'partial');
    await writeFile(join(root, 'a', 'has space'), 'stray');
    await mkdir(join(root, 'empty', 'dir'), { recursive: true });
    const only = [{ name: 'a/b', size: 1 }];
    for (const [prefix, expected] of [
      ['', only],
      ['a/', only],
      ['.t', []],
      ['e', []],
    ] as const) {
      assert.deepEqual(await collect(store.list(prefix)), expected, prefix);
    }
  });

  it('reserves the first segment ".tmp" in every method', async () => {
    const store = new FileStore(await newRoot());
    for (const name of ['.tmp', '.tmp/x']) {
      await assert.rejects(store.put(name, Buffer.from('x')), { code: 'BAD_OBJECT_NAME' });
      await assert.rejects(store.get(name), { code: 'BAD_OBJECT_NAME' });
      await assert.rejects(store.head(name), { code: 'BAD_OBJECT_NAME' });
      await assert.rejects(store.delete(name), { code: 'BAD_OBJECT_NAME' });
    }
    assert.deepEqual(await collect(store.list('.tmp/')), []);
    await store.put('a/.tmp/x', Buffer.from('deeper is fine'));
    assert.equal((await store.get('a/.tmp/x')).toString(), 'deeper is fine');
  });

  it('refuses an object that would be both a file and a directory', async () => {
    const store = new FileStore(await newRoot());
    await store.put('a', Buffer.from('file'));
    await assert.rejects(store.put('a/b', Buffer.from('x')), { code: 'OBJECT_PATH_CONFLICT' });
    await store.put('x/y', Buffer.from('below'));
    await assert.rejects(store.put('x', Buffer.from('x')), { code: 'OBJECT_PATH_CONFLICT' });
    assert.equal(await store.head('x'), null);
    await assert.rejects(store.get('x'), { code: 'OBJECT_NOT_FOUND' });
    await store.delete('x');
    assert.equal((await store.get('x/y')).toString(), 'below');
  });

  it('never creates a missing root: put and list say STORE_NOT_FOUND', async () => {
    const root = join(await newRoot(), 'missing');
    const store = new FileStore(root);
    await assert.rejects(store.put('a/b', Buffer.from('x')), (err) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, 'STORE_NOT_FOUND');
      assert.match(err.message, /missing does not exist/);
      return true;
    });
    await assert.rejects(collect(store.list('')), { code: 'STORE_NOT_FOUND' });
    await assert.rejects(collect(store.list('data/')), { code: 'STORE_NOT_FOUND' });
    await assert.rejects(store.get('a'), { code: 'OBJECT_NOT_FOUND' });
    assert.equal(await store.head('a'), null);
    await store.delete('a');
    await assert.rejects(stat(root), { code: 'ENOENT' });
  });

  it('resolves a relative root to an absolute location', () => {
    const store = new FileStore('some/relative/dir');
    assert.equal(store.location, join(process.cwd(), 'some/relative/dir'));
    assert.equal(FileStore.create('/abs').location, '/abs');
  });

  it('maps a permission failure on a read-only directory (needs a non-root user)', {
    skip: process.getuid?.() === 0 ? 'root ignores file modes' : false,
  }, async () => {
    const root = await newRoot();
    await chmod(root, 0o500);
    try {
      await assert.rejects(new FileStore(root).put('a', Buffer.from('x')), {
        code: 'STORAGE_PERMISSION_DENIED',
      });
    } finally {
      await chmod(root, 0o700);
    }
  });
});

describe('FileStore with injected fs failures', () => {
  /** Opening any temp file for writing fails with `code`. */
  const failingTempOpen = (code: string): FsOps => ({
    ...nodeFs,
    open: async (path, flags) => {
      if (flags === 'wx') throw errno(code);
      return nodeFs.open(path, flags);
    },
  });

  it('maps ENOSPC to QuotaError DISK_FULL naming the object (never the server path), with a hint and the cause', async () => {
    const root = await newRoot();
    const store = new FileStore(root, { fs: failingTempOpen('ENOSPC') });
    await assert.rejects(store.put('data/ab/p1', Buffer.from('x')), (err) => {
      assert.ok(err instanceof QuotaError);
      assert.equal(err.code, 'DISK_FULL');
      assert.equal(err.message, 'no space left on device writing data/ab/p1');
      assert.equal(err.hint, 'free space on the storage location');
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOSPC');
      return true;
    });
  });

  it('maps EACCES and EPERM to AuthError STORAGE_PERMISSION_DENIED', async () => {
    for (const code of ['EACCES', 'EPERM']) {
      const store = new FileStore(await newRoot(), { fs: failingTempOpen(code) });
      await assert.rejects(store.put('a', Buffer.from('x')), (err) => {
        assert.ok(err instanceof AuthError);
        assert.equal(err.code, 'STORAGE_PERMISSION_DENIED');
        assert.equal(err.message, 'permission denied writing a');
        return true;
      });
    }
  });

  it('wraps other I/O errors with the object name and the cause', async () => {
    const store = new FileStore(await newRoot(), { fs: failingTempOpen('EIO') });
    await assert.rejects(store.put('a', Buffer.from('x')), (err) => {
      assert.ok(err instanceof OffsiteError);
      assert.equal(err.code, 'STORAGE_IO_ERROR');
      assert.match(err.message, /writing a: EIO: injected/);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'EIO');
      return true;
    });
  });

  it('removes the temp file when writing it fails half-way', async () => {
    const root = await newRoot();
    const fs: FsOps = {
      ...nodeFs,
      open: async (path, flags) => {
        const handle = await nodeFs.open(path, flags);
        if (flags !== 'wx') return handle;
        return wrapHandle(handle, {
          writeFile: async (data: Uint8Array) => {
            await handle.writeFile(data.subarray(0, 1));
            throw errno('ENOSPC');
          },
        });
      },
    };
    await assert.rejects(new FileStore(root, { fs }).put('a', Buffer.from('xyz')), { code: 'DISK_FULL' });
    assert.deepEqual(await tempFiles(root), []);
    assert.equal(await new FileStore(root).head('a'), null);
  });

  it('removes the temp file when the final link fails', async () => {
    const root = await newRoot();
    const fs: FsOps = {
      ...nodeFs,
      link: async () => {
        throw errno('EIO');
      },
    };
    await assert.rejects(new FileStore(root, { fs }).put('a/b', Buffer.from('xyz')), {
      code: 'STORAGE_IO_ERROR',
    });
    assert.deepEqual(await tempFiles(root), []);
    assert.deepEqual(await collect(new FileStore(root).list('')), []);
  });

  it('reads a range at its position without reading the rest of the file', async () => {
    const root = await newRoot();
    await new FileStore(root).put('big', Buffer.alloc(1024 * 1024, 7));
    const reads: { length: number; position: number }[] = [];
    const fs: FsOps = {
      ...nodeFs,
      open: async (path, flags) => {
        const handle = await nodeFs.open(path, flags);
        return wrapHandle(handle, {
          read: (buffer: Buffer, offset: number, length: number, position: number) => {
            reads.push({ length, position });
            return handle.read(buffer, offset, length, position);
          },
        });
      },
    };
    const got = await new FileStore(root, { fs }).get('big', { offset: 1000, length: 10 });
    assert.deepEqual([...got], Array(10).fill(7));
    assert.deepEqual(reads, [{ length: 10, position: 1000 }]);
  });

  it('reports a file shorter than its size as IntegrityError SHORT_READ', async () => {
    const root = await newRoot();
    await new FileStore(root).put('p', Buffer.from('0123456789'));
    const fs: FsOps = {
      ...nodeFs,
      open: async (path, flags) => {
        const handle = await nodeFs.open(path, flags);
        const real = await handle.stat();
        // As if the file were truncated between stat and read.
        return wrapHandle(handle, { stat: async () => Object.assign(real, { size: 20 }) });
      },
    };
    const store = new FileStore(root, { fs });
    for (const range of [undefined, { offset: 8, length: 5 }]) {
      await assert.rejects(store.get('p', range), (err) => {
        assert.ok(err instanceof IntegrityError);
        assert.equal(err.code, 'SHORT_READ');
        assert.equal(err.object, 'p');
        return true;
      });
    }
  });

  it('lists by reading only the directories the prefix can match', async () => {
    const root = await newRoot();
    const plain = new FileStore(root);
    for (const name of ['data/ab/1', 'data/ab/2', 'data/ac/3', 'data/b0/4', 'index/5', 'keys/6']) {
      await plain.put(name, Buffer.from('x'));
    }
    const dirsRead: string[] = [];
    const fs: FsOps = {
      ...nodeFs,
      readdir: (path, options) => {
        dirsRead.push(relative(root, path));
        return nodeFs.readdir(path, options);
      },
    };
    const names = (await collect(new FileStore(root, { fs }).list('data/a'))).map((o) => o.name);
    assert.deepEqual(names, ['data/ab/1', 'data/ab/2', 'data/ac/3']);
    assert.deepEqual(dirsRead.sort(), ['data', 'data/ab', 'data/ac']);
  });
});

describe('ensureDir', () => {
  it('creates missing parents and is idempotent', async () => {
    const dir = join(await newRoot(), 'a', 'b', 'c');
    await ensureDir(dir);
    await ensureDir(dir);
    assert.ok((await stat(dir)).isDirectory());
    const store = new FileStore(dir);
    await store.put('x', Buffer.from('x'));
    assert.deepEqual(await collect(store.list('')), [{ name: 'x', size: 1 }]);
  });
});
