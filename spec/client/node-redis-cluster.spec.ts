import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fromNodeRedisCluster, type NodeRedisClusterClient } from '../../src/client/node-redis-cluster'
import { recording } from './recording'

/** A node-redis-cluster-shaped stand-in: command methods and `sendCommand` that log their arguments and `this`. */
const rawCluster = () => {
  const { calls, self, answer, commands } = recording()
  const cluster = {
    calls,
    self,
    isOpen: true,
    masters: [],
    nodeClient: () => undefined,
    ...commands,
    sendCommand: answer('sendCommand', 3)
  }
  return cluster
}

const it = suite('fromNodeRedisCluster')

it('scripts go out through sendCommand, routed by their first key (node-redis 4 routes eval by the script)', async () => {
  const raw = rawCluster()
  const client = fromNodeRedisCluster(raw as unknown as NodeRedisClusterClient)
  assert.is(await client.evalSha('abc', { keys: ['s:k1', 's:k2'], arguments: ['9'] }), 3)
  assert.is(await client.eval('return 1', { keys: ['s:k3'], arguments: [] }), 3)
  assert.equal(raw.calls, [
    ['sendCommand', 's:k1', false, ['EVALSHA', 'abc', '2', 's:k1', 's:k2', '9']],
    ['sendCommand', 's:k3', false, ['EVAL', 'return 1', '1', 's:k3']]
  ])
  assert.ok(
    raw.self.every((s) => s === raw),
    'called on the cluster'
  )
})

it('without sendCommand, the client’s own eval and evalSha are used (and there is no waitReplicas)', async () => {
  const { sendCommand: _, ...raw } = rawCluster()
  const client = fromNodeRedisCluster(raw as unknown as NodeRedisClusterClient)
  assert.is(await client.evalSha('abc', { keys: ['s:k1'], arguments: [] }), 1)
  assert.is(await client.eval('return 1', { keys: ['s:k1'], arguments: [] }), 2)
  assert.is(client.waitReplicas, undefined)
})

it('WAIT goes through sendCommand to the node of the key', async () => {
  const raw = rawCluster()
  const client = fromNodeRedisCluster(raw as unknown as NodeRedisClusterClient)
  assert.is(await client.waitReplicas?.('s:k1', 1, 250.4), 3)
  assert.equal(raw.calls, [['sendCommand', 's:k1', false, ['WAIT', '1', '250']]])
})

it('each master is scanned once, even when listed once per slot range (node-redis 4 after a resharding)', async () => {
  const [a, b] = [{ address: 'a' }, { address: 'b' }]
  const scanned: Array<string> = []
  const nodeClient = (node: { address: string }) => ({
    scan: async () => (scanned.push(node.address), { cursor: 0, keys: [] })
  })
  const raw = { ...rawCluster(), masters: [a, b, a], nodeClient }
  const client = fromNodeRedisCluster(raw as unknown as NodeRedisClusterClient)
  const masters = (await client.cluster?.masters()) ?? []
  assert.is(masters.length, 2)
  await Promise.all(masters.map((m) => m.scan('0', { MATCH: '*', COUNT: 10 })))
  assert.equal(scanned, ['a', 'b'])
})

it.run()
