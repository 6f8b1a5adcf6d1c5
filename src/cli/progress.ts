import { formatBytes, formatDuration, formatRate } from './output.ts';

export interface ProgressSample {
  files: number;
  bytes: number;
  errors: number;
  totalFiles?: number | undefined;
  totalBytes?: number | undefined;
}

/** One status line, redrawn in place on a terminal: files, bytes, rate, ETA. */
export function renderProgress(sample: ProgressSample, elapsedMs: number, width: number): string {
  const parts = [formatDuration(elapsedMs)];
  const { totalBytes, totalFiles } = sample;
  const files = totalFiles ? `${sample.files}/${totalFiles} files` : `${sample.files} files`;
  const bytes = totalBytes
    ? `${formatBytes(sample.bytes)}/${formatBytes(totalBytes)}`
    : formatBytes(sample.bytes);
  parts.push(files, bytes, formatRate(sample.bytes, elapsedMs));
  if (totalBytes && sample.bytes > 0 && elapsedMs > 1000) {
    const remaining = ((totalBytes - sample.bytes) * elapsedMs) / sample.bytes;
    parts.push(`ETA ${formatDuration(Math.max(0, remaining))}`);
  }
  if (sample.errors) parts.push(`${sample.errors} errors`);
  let line = parts.join('  ');
  if (totalBytes) {
    const share = Math.min(1, sample.bytes / totalBytes);
    const barWidth = Math.max(10, Math.min(30, width - line.length - 10));
    const filled = Math.round(share * barWidth);
    line = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${line}`;
  }
  return line.slice(0, Math.max(20, width - 1));
}

/** Redraws on stderr every 250 ms while enabled; returns a stop function that clears the line. */
export function startProgress(enabled: boolean, sample: () => ProgressSample): () => void {
  if (!enabled) return () => {};
  const started = Date.now();
  const draw = () =>
    process.stderr.write(
      `\r\x1b[K${renderProgress(sample(), Date.now() - started, process.stderr.columns || 80)}`,
    );
  draw();
  const timer = setInterval(draw, 250);
  return () => {
    clearInterval(timer);
    process.stderr.write('\r\x1b[K');
  };
}
