/** leaf-spine end to end: 2 spines, 4 leaves, 16 hosts as real processes; every pair exchanges UDP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { startLab } from './lab-client.js';
import { expectAllPairsExchangeUdp } from './all-pairs.js';

describe('leaf-spine lab', () => {
  let lab: LabHandle;
  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/leaf-spine.yaml', logLevel: 'warn', readyTimeoutMs: 90_000 });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('every host pair exchanges UDP with the payload intact', async () => {
    expect(await expectAllPairsExchangeUdp(lab)).toBe(16 * 15);
  }, 60_000);
});
