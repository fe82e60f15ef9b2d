/**
 * `failureWithin`: how long a promise that must fail took, and with what. One that resolves, or still waits past
 * `boundMs`, fails the spec (named with `fault`, e.g. "Redis was stopped") instead of hanging it.
 */
import type { SessionStoreError } from '../../src'

export const failureWithin = async (
  p: Promise<unknown>,
  boundMs: number,
  fault: string
): Promise<{ readonly ms: number; readonly err: SessionStoreError }> => {
  const start = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), boundMs)))
  try {
    const outcome = await Promise.race([p.then(() => 'resolved' as const), late])
    throw new Error(
      outcome === 'late'
        ? `still waiting after ${boundMs} ms although ${fault}`
        : `resolved after ${Math.round(performance.now() - start)} ms although ${fault}`
    )
  } catch (e) {
    if (e instanceof Error && /although/.test(e.message)) throw e
    return { ms: performance.now() - start, err: e as SessionStoreError }
  } finally {
    clearTimeout(timer)
  }
}
