/**
 * Redis Cluster hash slots: which of the 16384 slots a key lives in, so that a multi-key command (`MGET`,
 * the tombstone script) is only ever sent with keys of one slot.
 *
 * @since 0.1.0
 */
import { attempt } from './run'

const table = ((): Uint16Array => {
  // CRC16-CCITT (XMODEM), polynomial 0x1021: the checksum Redis Cluster uses.
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    t[i] = crc
  }
  return t
})()

const crc16 = (bytes: Uint8Array): number => {
  let crc = 0
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ (table[((crc >> 8) ^ b) & 0xff] as number)
  return crc
}

/**
 * The slot of `key`: CRC16 of the key (of its hash tag, the part between the first `{` and the next `}`, when
 * that part is not empty) modulo 16384.
 *
 * @internal
 */
export const keySlot = (key: string): number => {
  const open = key.indexOf('{')
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key
  return crc16(Buffer.from(hashed, 'utf8')) % 16384
}

/**
 * `items` grouped by the slot of `keyOf(item)`, in first-seen order, each group at most `size` long.
 *
 * @internal
 */
export const bySlot = <A>(items: ReadonlyArray<A>, keyOf: (a: A) => string, size: number): Array<Array<A>> => {
  const groups = new Map<number, Array<A>>()
  const out: Array<Array<A>> = []
  for (const item of items) {
    const slot = keySlot(keyOf(item))
    let group = groups.get(slot)
    if (group === undefined || group.length >= size) {
      group = []
      groups.set(slot, group)
      out.push(group)
    }
    group.push(item)
  }
  return out
}

/**
 * `MGET` of keys of any hash slots, the values in the order of `keys`: one `mGet` per slot (at most `size` keys
 * each), all sent at once, each routed by the client. `keyPrefix` is the client's own, which decides the slots.
 * Rejects with the first failure.
 *
 * @internal
 */
export const mGetBySlot = async (
  mGet: (keys: Array<string>) => Promise<ReadonlyArray<unknown>>,
  keys: ReadonlyArray<string>,
  keyPrefix: string,
  size: number = keys.length
): Promise<Array<string | null>> => {
  const indexed = keys.map((key, i) => ({ key, i }))
  const groups = bySlot(indexed, (k) => keyPrefix + k.key, size)
  const replies = await Promise.all(groups.map((g) => attempt(() => mGet(g.map((k) => k.key)))))
  const values = new Array<string | null>(keys.length).fill(null)
  groups.forEach((g, n) => g.forEach((k, j) => (values[k.i] = ((replies[n] ?? [])[j] as string | null) ?? null)))
  return values
}
