/**
 * fast-check options every fuzzer shares, from the environment:
 *   TRACKHUB_FUZZ_SEED   replays a seed;
 *   TRACKHUB_FUZZ_PATH   with the seed, replays exactly that counterexample (no shrinking);
 *   CI=true              reports the first counterexample as found, unshrunk: shrinking a
 *                        schedule of real servers and devices can take longer than the
 *                        whole suite. The seed and path it prints replay it locally, where
 *                        it is shrunk (TRACKHUB_FUZZ_SHRINK=1 shrinks in CI too).
 */
import type { Parameters } from 'fast-check';

export const FUZZ_SEED = process.env.TRACKHUB_FUZZ_SEED !== undefined ? Number(process.env.TRACKHUB_FUZZ_SEED) : undefined;
export const FUZZ_PATH = process.env.TRACKHUB_FUZZ_PATH;

export function fuzzParameters(numRuns: number): Parameters<unknown> {
  const unshrunk = FUZZ_PATH !== undefined || (process.env.CI === 'true' && !process.env.TRACKHUB_FUZZ_SHRINK);
  return {
    numRuns,
    ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}),
    ...(FUZZ_PATH !== undefined ? { path: FUZZ_PATH } : {}),
    ...(unshrunk ? { endOnFailure: true } : {}),
  };
}
