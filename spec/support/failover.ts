/**
 * What the cluster and sentinel failover specs share: virtual users that save, read and log out through a
 * store in a loop and keep a tally (what was acknowledged, what failed, with which code), the outcome of a
 * kill read back from the new topology (recovery time, lost saves, resurrected logouts), one summary line
 * per client for the CI logs, and a way to hold back a replica's replication for a deterministic window.
 */
import type session from 'express-session'
import * as assert from 'uvu/assert'
import type { RedisSessionStore } from '../../src'
import { sleep } from './redis-group'

export const session_ = (inMs: number, extra: Record<string, unknown> = {}): session.SessionData =>
  ({
    cookie: { originalMaxAge: inMs, expires: new Date(Date.now() + inMs), httpOnly: true, path: '/' },
    ...extra
  } as unknown as session.SessionData)

/** Rejects after `ms`: a client-side bound on every operation of the virtual users. */
export const within = <A>(ms: number, run: () => Promise<A>): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    run().then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e)
      }
    )
  })

export const codeOf = (e: unknown): string => {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : 'no code'
}

export const NOT_REPLICATED = 'ESESSION_NOT_REPLICATED'

/** The code of a store error; for a walk that failed (`ESESSION_WALK_FAILED`), the code of the page that failed. */
export const failureCode = (e: { code?: string; cause?: unknown }): string | undefined =>
  e.code === 'ESESSION_WALK_FAILED' && typeof e.cause === 'object' && e.cause !== null
    ? (e.cause as { code?: string }).code
    : e.code

/** How a logout ended, after the retries a user makes when it timed out. */
export type LogoutEnd = 'acknowledged' | 'unconfirmed' | 'other'

/** The logouts of one store: their ids by how each ended, and how many attempts timed out (`ETIMEDOUT`). */
export interface Logouts {
  readonly acknowledged: Array<string>
  readonly unconfirmed: Array<string>
  readonly other: Array<string>
  /** `sid code` of each that ended in neither (e.g. still `ETIMEDOUT` after every try). */
  readonly otherCodes: Array<string>
  timedOut: number
}

/**
 * Logs each session out in turn, as a user does: a logout that timed out (`ETIMEDOUT`: the deadline ran out,
 * on a loaded machine, while `WAIT` held the connection) is not an answer, so it is tried again, up to `tries`
 * times. `destroy` is idempotent (with `waitReplicas` every try sends its `WAIT`). A logout ends acknowledged,
 * `ESESSION_NOT_REPLICATED` (unconfirmed), or other.
 */
export const logOutEach = async (
  store: RedisSessionStore,
  sids: ReadonlyArray<string>,
  tries = 5
): Promise<Logouts> => {
  const out: Logouts = { acknowledged: [], unconfirmed: [], other: [], otherCodes: [], timedOut: 0 }
  for (const sid of sids) {
    for (let attempt = 1; ; attempt++) {
      const end = await store.access.destroy(sid).then(
        // After a timed-out try, `false` means that try removed it: the logout is answered all the same.
        (gone): LogoutEnd | string => (gone || attempt > 1 ? 'acknowledged' : 'answered false'),
        (e: { code?: string }): LogoutEnd | string => (e.code === NOT_REPLICATED ? 'unconfirmed' : codeOf(e))
      )
      if (end === 'ETIMEDOUT' && attempt < tries) {
        out.timedOut++
        continue
      }
      if (end === 'acknowledged' || end === 'unconfirmed') out[end].push(sid)
      else {
        out.other.push(sid)
        out.otherCodes.push(`${sid} ${end}`)
      }
      break
    }
  }
  return out
}

/** What the virtual users of one store saw. Times are `Date.now()` values. */
export interface Tally {
  /** Acknowledged saves not logged out since, with when they were acknowledged. */
  readonly saved: Map<string, number>
  /** Acknowledged logouts. */
  readonly loggedOut: Set<string>
  /** Logouts that rejected with ESESSION_NOT_REPLICATED (the primary holds the tombstone, too few replicas). */
  readonly unconfirmed: Set<string>
  /** Failed operations by `<operation> <code>`, ESESSION_NOT_REPLICATED not among them. */
  readonly failures: Map<string, number>
  ok: number
  failed: number
  lastFailureAt: number
  lastUnconfirmedAt: number
  firstUnconfirmedAt: number
}

export interface Load {
  readonly tally: Tally
  /** Asks the users to stop after their current operation. */
  readonly stop: () => void
  /** Resolves once every user has stopped. */
  readonly done: Promise<void>
}

/**
 * `users` virtual users on `store`: each saves a new session, reads it, and logs every other one out, each
 * operation capped at `capMs`, until `stop()`.
 */
export const startLoad = (store: RedisSessionStore, users: number, capMs: number): Load => {
  const tally: Tally = {
    saved: new Map(),
    loggedOut: new Set(),
    unconfirmed: new Set(),
    failures: new Map(),
    ok: 0,
    failed: 0,
    lastFailureAt: 0,
    lastUnconfirmedAt: 0,
    firstUnconfirmedAt: 0
  }
  let stopped = false
  const op = async <A>(
    name: string,
    run: () => Promise<A>
  ): Promise<{ ok: true; a: A } | { ok: false; code: string }> => {
    try {
      const a = await within(capMs, run)
      tally.ok++
      return { ok: true, a }
    } catch (e) {
      const code = codeOf(e)
      if (code === NOT_REPLICATED) {
        const now = Date.now()
        tally.lastUnconfirmedAt = now
        if (tally.firstUnconfirmedAt === 0) tally.firstUnconfirmedAt = now
      } else {
        tally.failed++
        tally.lastFailureAt = Date.now()
        const kind = `${name} ${code}`
        tally.failures.set(kind, (tally.failures.get(kind) ?? 0) + 1)
      }
      return { ok: false, code }
    }
  }
  const user = async (u: number): Promise<void> => {
    for (let i = 0; !stopped; i++) {
      const sid = `u${u}-${i}`
      const put = await op('set', () => store.access.set(sid, session_(600_000, { u, i })))
      const written = put.ok && put.a === 'written'
      if (written) tally.saved.set(sid, Date.now())
      await op('get', () => store.access.get(sid))
      if (i % 2 === 1 && written) {
        // Whatever the logout's outcome, the session is no longer a save that must survive.
        tally.saved.delete(sid)
        const gone = await op('destroy', () => store.access.destroy(sid))
        if (gone.ok) tally.loggedOut.add(sid)
        else if (gone.code === NOT_REPLICATED) tally.unconfirmed.add(sid)
      }
    }
  }
  const done = Promise.all(Array.from({ length: users }, (_, u) => user(u))).then(() => undefined)
  return { tally, stop: () => void (stopped = true), done }
}

/**
 * Whether a load may end: at least `minMs` after the kill, and no failure for `cleanMs` (or `maxMs` after the
 * kill at the latest).
 */
export const settled = (tally: Tally, killedAt: number, o: { minMs: number; cleanMs: number; maxMs: number }) => {
  const now = Date.now()
  if (killedAt === 0 || now - killedAt < o.minMs) return false
  return now - killedAt > o.maxMs || now - Math.max(tally.lastFailureAt, killedAt) > o.cleanMs
}

export interface Outcome {
  /** From the kill to the last failed operation (0: none failed). */
  readonly recoveredMs: number
  readonly failed: number
  readonly ok: number
  readonly failures: ReadonlyMap<string, number>
  readonly saved: number
  readonly lost: number
  /** For each lost save: when it was acknowledged, in ms after the kill (negative: before it). */
  readonly lostAckedAt: ReadonlyArray<number>
  readonly loggedOut: number
  /** Acknowledged logouts whose session is a string again. */
  readonly resurrected: number
  readonly unconfirmed: number
  /** From the kill to the last logout that rejected with ESESSION_NOT_REPLICATED (0: none after the kill). */
  readonly unconfirmedUntilMs: number
  /** Of the unconfirmed logouts, how many are a string again (never acknowledged, so not "undone"). */
  readonly unconfirmedStrings: number
}

/** The tally read back through `typesOf` (the `TYPE` of each session id's key on the new topology). */
export const outcomeOf = async (
  tally: Tally,
  killedAt: number,
  typesOf: (sids: ReadonlyArray<string>) => Promise<ReadonlyArray<string>>
): Promise<Outcome> => {
  const savedIds = [...tally.saved.keys()]
  const lostAckedAt: Array<number> = []
  ;(await typesOf(savedIds)).forEach((type, i) => {
    if (type !== 'string') lostAckedAt.push((tally.saved.get(savedIds[i] ?? '') ?? 0) - killedAt)
  })
  const strings = async (sids: Iterable<string>) => (await typesOf([...sids])).filter((t) => t === 'string').length
  return {
    recoveredMs: tally.lastFailureAt === 0 ? 0 : tally.lastFailureAt - killedAt,
    failed: tally.failed,
    ok: tally.ok,
    failures: tally.failures,
    saved: tally.saved.size,
    lost: lostAckedAt.length,
    lostAckedAt,
    loggedOut: tally.loggedOut.size,
    resurrected: await strings(tally.loggedOut),
    unconfirmed: tally.unconfirmed.size,
    unconfirmedUntilMs: tally.lastUnconfirmedAt > killedAt ? tally.lastUnconfirmedAt - killedAt : 0,
    unconfirmedStrings: await strings(tally.unconfirmed)
  }
}

/** The summary of one client's outcome, for one `[tag]` line of the CI log. */
export const describe = (o: Outcome): string => {
  const kinds = [...o.failures].map(([kind, n]) => `${n} ${kind}`).join(', ')
  return (
    `recovered ${o.recoveredMs} ms after the kill; ${o.failed} failed operations${
      kinds === '' ? '' : ` (${kinds})`
    }, ` +
    `${o.ok} ok; ${o.lost} of ${o.saved} acknowledged saves lost${
      o.lost > 0 ? ` (acknowledged ${Math.min(...o.lostAckedAt)}…${Math.max(...o.lostAckedAt)} ms from the kill)` : ''
    }; ${o.resurrected} of ${o.loggedOut} acknowledged logouts undone; ${o.unconfirmed} logouts ${NOT_REPLICATED}` +
    (o.unconfirmed > 0
      ? ` (the last ${o.unconfirmedUntilMs} ms after the kill; ${o.unconfirmedStrings} of them a string again)`
      : '')
  )
}

type Send = (port: number, args: ReadonlyArray<string>) => Promise<unknown>

const offsetOf = async (send: Send, port: number): Promise<number> =>
  Number(/^master_repl_offset:(\d+)/m.exec(String(await send(port, ['INFO', 'replication'])))?.[1] ?? NaN)

/**
 * Holds back the replication of the replica on `replicaPort`: it authenticates to its master as a user that
 * does not exist (`masteruser`), and its link is cut (`CLIENT KILL TYPE master`), so it cannot sync again
 * (checked: its link is still down after its once-a-second reconnection attempt). Until `releaseReplication`,
 * its master acknowledges writes it never gets — a failover to it now loses them.
 */
export const holdBackReplication = async (send: Send, replicaPort: number): Promise<void> => {
  await send(replicaPort, ['CONFIG', 'SET', 'masteruser', 'crs-no-such-user'])
  await send(replicaPort, ['CONFIG', 'SET', 'masterauth', 'crs-wrong'])
  await send(replicaPort, ['CLIENT', 'KILL', 'TYPE', 'master'])
  await sleep(1_200)
  const info = String(await send(replicaPort, ['INFO', 'replication']))
  if (!/master_link_status:down/.test(info)) throw new Error(`the replica on ${replicaPort} still follows its master`)
}

/** How many bytes of the master's replication stream the replica has not processed. */
export const replicationGap = async (send: Send, masterPort: number, replicaPort: number): Promise<number> =>
  (await offsetOf(send, masterPort)) - (await offsetOf(send, replicaPort))

/** Lets the replica on `replicaPort` authenticate (and so sync) again. */
export const releaseReplication = async (send: Send, replicaPort: number): Promise<void> => {
  await send(replicaPort, ['CONFIG', 'SET', 'masteruser', ''])
  await send(replicaPort, ['CONFIG', 'SET', 'masterauth', ''])
}

/**
 * Waits until the master on `port` streams to at least one replica: `INFO replication` shows a replica
 * `state=online` with an acknowledged offset. After a (diskless) sync the master sends nothing until the
 * replica's first `REPLCONF ACK` (once a second), so before that every `WAIT` times out.
 */
export const replicaStreaming = async (send: Send, port: number, timeoutMs = 10_000): Promise<void> => {
  const since = Date.now()
  for (;;) {
    const seen = await streams(send, port)
    if (seen === null) return
    if (Date.now() - since > timeoutMs)
      throw new Error(`no replica of :${port} online within ${timeoutMs} ms (last seen: ${seen})`)
    await sleep(50)
  }
}

/** `null` when the master on `port` streams to a replica (see `replicaStreaming`), else what its INFO shows. */
export const streams = async (send: Send, port: number): Promise<string | null> => {
  const info = String(await send(port, ['INFO', 'replication']).catch((e: Error) => `no answer: ${e.message}`))
  const offsets = [...info.matchAll(/^slave\d+:.*state=online,offset=(\d+)/gm)].map((m) => Number(m[1]))
  if (offsets.some((o) => o > 0)) return null
  const lines = info.split(/\r?\n/).filter((l) => /^(role|connected_slaves|slave\d+|no answer)/.test(l))
  return lines.join(' ') || 'nothing'
}

/**
 * The batched operations on the topology a failover left: `all()` agrees with `length()`, and `clear()` removes
 * every session. With `waitReplicas`, `clear()` answers once every master's replica confirms its tombstones, and
 * a replica that has just (re)synced may not stream yet, or (GLIDE) a `WAIT` routed by slot key may still go
 * unanswered for a while after the failover, so a page ends `ETIMEDOUT`: `clear()` is idempotent, so on either
 * it is tried again for a while, as a caller would (a retried clear() counts only what the failed attempt
 * left). Each retry is printed. Resolves to the number of live sessions found.
 */
export const batchedWorkAfterFailover = async (s: {
  readonly label: string
  readonly store: RedisSessionStore
  readonly waits: boolean
}): Promise<number> => {
  const live = await s.store.access.length()
  assert.is(Object.keys(await s.store.access.all()).length, live, `${s.label}: all() agrees with length()`)
  const since = Date.now()
  let cleared: unknown
  for (;;) {
    cleared = await s.store.access.clear().catch(failureCode)
    const retry = s.waits && (cleared === NOT_REPLICATED || cleared === 'ETIMEDOUT')
    if (!retry || Date.now() - since > 10_000) break
    console.log(`[failover] ${s.label}: clear() ${String(cleared)} ${Date.now() - since} ms in, tried again`)
    await sleep(200)
  }
  const counted = typeof cleared === 'number' && (cleared === live || (s.waits && cleared <= live))
  assert.ok(counted, `${s.label}: clear() answered ${String(cleared)} (${live} live)`)
  assert.is(await s.store.access.length(), 0, `${s.label}: nothing left`)
  return live
}
