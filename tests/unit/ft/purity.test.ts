import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '../../../src/ft/protocol');

describe('protocol core purity', () => {
  it('uses no clocks, timers, randomness, DOM, I/O or v86', () => {
    const forbidden = /\b(Date\.now|new Date\b|performance\.now|Math\.random|setTimeout|setInterval|queueMicrotask|requestAnimationFrame|document\.|window\.|indexedDB|fetch\(|from ['"]v86|from ['"]node:|await )/;
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => !l.trim().startsWith('*') && !l.trim().startsWith('//'))
        .join('\n');
      expect(src, f).not.toMatch(forbidden);
    }
  });
});
