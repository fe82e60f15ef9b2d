// What the adapters share for keyspace notifications (src/client/keyspace.ts), on hand-made replies and subscribers:
// the CONFIG GET reply, the CLUSTER NODES reply, an address map, one node's channel, and the nodes of a cluster
// followed as they come and go.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { KeyspaceListener, NodeReport } from '../../src/client/contract'
import {
  clusterNodes,
  configValue,
  keyspaceOfNode,
  keyspaceOfNodes,
  mappedAddress,
  readThenSubscribe,
  type OpenSubscriber,
  type SubscriberHandlers
} from '../../src/client/keyspace'

const settle = () => new Promise((r) => setImmediate(r))

const replies = suite('replies')

replies('configValue: RESP2 pair, RESP3 map or object, anything else undefined', () => {
  assert.is(configValue(['notify-keyspace-events', 'hxK']), 'hxK')
  assert.is(configValue(new Map([['notify-keyspace-events', 'AKE']])), 'AKE')
  assert.is(configValue({ 'notify-keyspace-events': '' }), '')
  assert.is(configValue([]), undefined)
  assert.is(configValue('OK'), undefined)
})

replies('clusterNodes: every node with an address, but failed, failing, handshaking or address-less ones', () => {
  const reply = [
    'a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460',
    'b2 127.0.0.1:7001@17001,host-b master - 0 0 2 connected 5461-10922',
    'c3 127.0.0.1:7002@17002 slave a1 0 0 1 connected',
    'd4 127.0.0.1:7003@17003 master,fail - 0 0 3 disconnected',
    'e5 127.0.0.1:7004@17004 slave,fail? b2 0 0 2 connected',
    'f6 :0@0 master,noaddr - 0 0 0 disconnected',
    'g7 127.0.0.1:7006@17006 handshake - 0 0 0 connected',
    '1f 2001:db8::1:7007@17007 slave b2 0 0 2 connected',
    ''
  ].join('\n')
  assert.equal(clusterNodes(reply), [
    ['127.0.0.1', 7000],
    ['127.0.0.1', 7001],
    ['127.0.0.1', 7002],
    ['2001:db8::1', 7007]
  ])
  assert.equal(clusterNodes(Buffer.from(reply.split('\n')[0] ?? '')), [['127.0.0.1', 7000]])
  assert.equal(clusterNodes(null), [])
})

replies('mappedAddress: an object or a function by host:port, else the address as it is', () => {
  assert.equal(mappedAddress({ '10.0.0.1:6379': { host: 'db.example', port: 7379 } }, '10.0.0.1', 6379), [
    'db.example',
    7379
  ])
  assert.equal(
    mappedAddress((a: string) => (a === '10.0.0.1:6379' ? { host: 'x' } : undefined), '10.0.0.1', 6379),
    ['x', 6379]
  )
  assert.equal(mappedAddress(undefined, '10.0.0.1', 6379), ['10.0.0.1', 6379])
  assert.equal(mappedAddress({}, '10.0.0.1', 6379), ['10.0.0.1', 6379])
})

replies.run()

// ---

const recorder = () => {
  const events: Array<string> = []
  const nodes: Array<[string, NodeReport]> = []
  const listener: KeyspaceListener = {
    onEvent: (key, event) => void events.push(`${key} ${event}`),
    onNode: (node, report) => void nodes.push([node, report])
  }
  return { events, nodes, listener }
}

const subscribing = suite('subscribing')

subscribing('readThenSubscribe: the flags, or unreadable and subscribed anyway, or failed', async () => {
  const reports: Array<NodeReport> = []
  const handlers: SubscriberHandlers = { onMessage: () => undefined, onNode: (r) => void reports.push(r) }
  let subscribed = 0
  const subscribe = async () => void subscribed++
  await readThenSubscribe(handlers, async () => ['notify-keyspace-events', 'hxK'], subscribe)
  await readThenSubscribe(handlers, () => Promise.reject(new Error("ERR unknown command 'CONFIG'")), subscribe)
  await readThenSubscribe(
    handlers,
    async () => ['x', 'hxK'],
    () => Promise.reject(new Error('NOPERM'))
  )
  assert.equal(reports, [{ flags: 'hxK' }, { unreadable: "ERR unknown command 'CONFIG'" }, { failed: 'NOPERM' }])
  assert.is(subscribed, 2)
})

subscribing('keyspaceOfNode: the channel of the database, messages as keys, reports with the node', () => {
  const r = recorder()
  let opened: { pattern: string; handlers: SubscriberHandlers } | undefined
  let closed = 0
  const open: OpenSubscriber = (pattern, handlers) => {
    opened = { pattern, handlers }
    return { isReady: () => true, close: () => void closed++ }
  }
  const subscription = keyspaceOfNode('127.0.0.1:6379', 3, open)('app:s:*', r.listener)
  assert.is(opened?.pattern, '__keyspace@3__:app:s:*')
  opened?.handlers.onMessage('__keyspace@3__:app:s:abc', 'expired')
  opened?.handlers.onMessage('__keyspace@0__:app:s:abc', 'expired')
  opened?.handlers.onNode({ flags: 'hxK' })
  assert.equal(r.events, ['app:s:abc expired'])
  assert.equal(r.nodes, [['127.0.0.1:6379', { flags: 'hxK' }]])
  subscription.close()
  assert.is(closed, 1)
})

subscribing(
  'keyspaceOfNodes: each node once; a node gone and disconnected for 30 s let go; a failed read changes nothing',
  async () => {
    const r = recorder()
    let listed = 'a 10.0.0.1:1@1 master - 0 0 1 connected\nb 10.0.0.2:2@2 slave a 0 0 1 connected'
    let fail = false
    const ready = new Map<string, boolean>()
    const opened: Array<string> = []
    const closed: Array<string> = []
    const clock = { t: 0 }
    const openAt =
      (host: string, port: number): OpenSubscriber =>
      (pattern) => {
        const node = `${host}:${port}`
        opened.push(`${node} ${pattern}`)
        ready.set(node, true)
        return { isReady: () => ready.get(node) === true, close: () => void closed.push(node) }
      }
    const subscription = keyspaceOfNodes(
      () => (fail ? Promise.reject(new Error('CLUSTERDOWN')) : Promise.resolve(listed)),
      openAt,
      () => clock.t,
      20
    )('s:*', r.listener)
    await settle()
    assert.equal(opened, ['10.0.0.1:1 __keyspace@0__:s:*', '10.0.0.2:2 __keyspace@0__:s:*'])
    // The replica promoted, the master gone from the list and disconnected: kept for 30 s, then let go.
    listed = 'b 10.0.0.2:2@2 master - 0 0 2 connected\nc 10.0.0.3:3@3 slave b 0 0 2 connected'
    ready.set('10.0.0.1:1', false)
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(opened.length, 3, 'the new node subscribed to at the next read')
    assert.equal(closed, [])
    clock.t += 30_001
    fail = true
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(closed, ['10.0.0.1:1'], 'let go, even on a read that failed')
    subscription.close()
    assert.equal(closed.sort(), ['10.0.0.1:1', '10.0.0.2:2', '10.0.0.3:3'])
  }
)

subscribing.run()
