import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ProgressSample, renderProgress, startProgress } from './progress.ts';

const MiB = 1024 * 1024;
const half: ProgressSample = {
  files: 10,
  bytes: 50 * MiB,
  errors: 0,
  totalFiles: 100,
  totalBytes: 100 * MiB,
};

describe('renderProgress', () => {
  it('shows files, bytes, rate, ETA and a bar with percentage when totals are known', () => {
    const line = renderProgress(half, 10_000, 120);
    assert.match(line, /10\/100 files/);
    assert.match(line, /50\.0 MiB\/100 MiB/);
    assert.match(line, /5\.00 MiB\/s/);
    assert.match(line, /ETA 10s/);
    assert.match(line, /^\[(#+)(\.+)\]\s+50%/);
    const [, filled, empty] = /^\[(#+)(\.+)\]/.exec(line)!;
    assert.equal(filled!.length, empty!.length, 'half the bar is filled');
    assert.match(line, /\b10s\b/, 'elapsed time');
    assert.ok(line.length < 120);
  });

  it('computes the ETA from the rate so far', () => {
    // 25 % in 30 s: 90 s to go.
    const line = renderProgress({ ...half, bytes: 25 * MiB }, 30_000, 120);
    assert.match(line, /ETA 1m30s/);
    assert.match(line, /\]\s+25%/);
  });

  it('shows no bar and no ETA when totals are unknown', () => {
    const line = renderProgress({ files: 7, bytes: 3 * MiB, errors: 0 }, 2000, 120);
    assert.equal(line, '2.0s  7 files  3.00 MiB  1.50 MiB/s');
    assert.doesNotMatch(line, /ETA|%|\[/);
  });

  it('shows no ETA before the first second or before any byte', () => {
    assert.doesNotMatch(renderProgress(half, 1000, 120), /ETA/);
    assert.doesNotMatch(renderProgress({ ...half, bytes: 0 }, 5000, 120), /ETA/);
    assert.match(renderProgress({ ...half, bytes: 0 }, 5000, 120), /^\[\.+\]\s+0%/);
  });

  it('shows errors only when there are some', () => {
    assert.match(renderProgress({ ...half, errors: 3 }, 10_000, 200), /3 errors/);
    assert.doesNotMatch(renderProgress(half, 10_000, 200), /error/);
  });

  it('caps the bar at 100% and the ETA at zero when totals were underestimated', () => {
    const line = renderProgress({ ...half, bytes: 150 * MiB }, 10_000, 200);
    assert.match(line, /^\[#+\] 100%/);
    assert.match(line, /ETA 0\.0s/);
  });

  it('shows a rate of "-" at time zero', () => {
    assert.match(renderProgress({ files: 0, bytes: 0, errors: 0 }, 0, 80), /^0\.0s {2}0 files {2}0 B {2}-$/);
  });

  it('fits the width (leaving the last column free) for every width from 21 to 200', () => {
    const samples: ProgressSample[] = [
      half,
      { ...half, errors: 12345, totalFiles: 123_456_789, files: 98_765_432 },
      { files: 1, bytes: 1, errors: 0 },
    ];
    for (const sample of samples) {
      for (let width = 21; width <= 200; width++) {
        const line = renderProgress(sample, 3_723_000, width);
        assert.ok(line.length <= width - 1, `width ${width}: ${line.length} chars`);
      }
    }
  });

  it('on an 80-column terminal keeps the whole line, ETA included', () => {
    const line = renderProgress(half, 10_000, 80);
    assert.ok(line.length <= 79);
    assert.match(line, /ETA 10s$/);
  });
});

describe('startProgress', () => {
  it('does nothing when disabled', () => {
    const stop = startProgress(false, () => {
      throw new Error('sampled while disabled');
    });
    stop();
  });
});
