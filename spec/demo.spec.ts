// examples/demo.js, the `npm run demo` app, run as a user would and driven over HTTP with fetch, in its three
// modes: REDIS_URL, a throwaway redis-server from the PATH, and the in-memory client when there is neither —
// the last one through the real `npm run demo` (its build included) with redis-server hidden from the PATH.
// Then its pages: "Your devices" (named devices, this one first, relative times, the expiry of this response)
// and the admin page's rates, counted exactly after a known sequence of requests.
// Ctrl-C is a SIGINT to the demo's process group, as a terminal sends it. Needs dist/ (npm test builds it).
import { spawn, spawnSync } from 'child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'fs'
import { tmpdir } from 'os'
import { delimiter, dirname, join, resolve } from 'path'
import { createClient } from 'redis'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { childEnv } from './support/pack'
import { startRedis } from './support/redis-server'

const root = resolve(__dirname, '..', '..')
const demo = join(root, 'examples', 'demo.js')
/** Up to the URL line; `npm run demo` builds first (≈ 4 s alone, more on a busy machine). */
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 10_000

/** The npm running `npm test`, else the one installed next to this node. */
const npmCli = [
  process.env['npm_execpath'],
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')
].find((p): p is string => p !== undefined && /npm-cli\.js$/.test(p) && existsSync(p))

/** The environment of a demo run: the runner's, without npm's script variables, REDIS_URL, PORT…, then `extra`. */
const demoEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env = childEnv()
  for (const name of ['REDIS_URL', 'PORT', 'SESSION_SECRET', 'NODE_ENV']) delete env[name]
  return { ...env, PORT: '0', ...extra }
}

/** Whether `dir` holds a `redis-server`. */
const hasRedisServer = (dir: string): boolean => {
  try {
    return readdirSync(dir).includes('redis-server')
  } catch {
    return false
  }
}

/**
 * A PATH made of one temp folder holding only `node`, `npm` and `sh` (links to this node, this npm and
 * /bin/sh): no redis-server anywhere on it, although node's own folder may have one (/usr/bin here).
 */
const pathWithoutRedis = (): { readonly PATH: string; readonly remove: () => void } => {
  const bin = mkdtempSync(join(tmpdir(), 'crs-no-redis-'))
  symlinkSync(process.execPath, join(bin, 'node'))
  if (npmCli !== undefined) symlinkSync(npmCli, join(bin, 'npm'))
  symlinkSync('/bin/sh', join(bin, 'sh'))
  return { PATH: bin, remove: () => rmSync(bin, { recursive: true, force: true }) }
}

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

interface Demo {
  readonly pid: number
  /** The URL the demo printed, `http://127.0.0.1:<port>`. */
  readonly base: string
  readonly startMs: number
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<Exit>
  /** Ctrl-C: SIGINT to the demo's process group (npm, sh and node for `npm run demo`); resolves once it exited. */
  readonly interrupt: () => Promise<Exit>
}

const live = new Set<number>()
const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal)
  } catch {}
}
process.on('exit', () => live.forEach((pid) => killGroup(pid, 'SIGKILL')))

const show = (d: { stdout: () => string; stderr: () => string }): string =>
  `--- stdout\n${d.stdout()}\n--- stderr\n${d.stderr()}`

/**
 * Starts `command args` as the leader of a new process group (as a shell runs a foreground job) and resolves
 * once it printed its URL; rejects, after killing the group, if it exits first or takes too long.
 */
const startDemo = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Promise<Demo> =>
  new Promise((done, fail) => {
    const started = Date.now()
    const child = spawn(command, [...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const pid = child.pid ?? -1
    live.add(pid)
    let stdout = ''
    let stderr = ''
    const out = { stdout: () => stdout, stderr: () => stderr }
    const exited = new Promise<Exit>((resolveExit) =>
      child.once('close', (code, signal) => {
        live.delete(pid)
        resolveExit({ code, signal })
      })
    )
    const timer = setTimeout(() => {
      killGroup(pid, 'SIGKILL')
      fail(new Error(`the demo printed no URL within ${START_TIMEOUT_MS} ms\n${show(out)}`))
    }, START_TIMEOUT_MS)
    child.once('error', fail)
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      fail(new Error(`the demo exited (${code ?? signal}) before it printed its URL\n${show(out)}`))
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      const base = /demo: open (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1]
      if (base === undefined) return
      clearTimeout(timer)
      const interrupt = (): Promise<Exit> => {
        killGroup(pid, 'SIGINT')
        const kill = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_TIMEOUT_MS)
        return exited.finally(() => clearTimeout(kill))
      }
      done({ pid, base, startMs: Date.now() - started, ...out, exited, interrupt })
    })
  })

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The processes of group `pgid` still running (none once the demo stopped cleanly). */
const groupMembers = (pgid: number): Array<string> =>
  spawnSync('ps', ['-o', 'pid=,args=', '-g', String(pgid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')

// --- a browser: a cookie jar of one cookie, forms posted, redirects not followed

interface Page {
  readonly status: number
  readonly location: string | null
  readonly html: string
  /** The `Expires` of the session cookie this response set, in ms; undefined when it set none. */
  readonly cookieExpires: number | undefined
}

const browser = (base: string, userAgent?: string) => {
  let cookie = ''
  const request = async (method: 'GET' | 'POST', route: string, form?: Record<string, string>): Promise<Page> => {
    const res = await fetch(base + route, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie === '' ? {} : { cookie }),
        ...(userAgent === undefined ? {} : { 'user-agent': userAgent })
      },
      ...(form === undefined ? {} : { body: new URLSearchParams(form) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    })
    let cookieExpires: number | undefined
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0] ?? ''
      if (!pair.startsWith('demo.sid=')) continue
      cookie = pair === 'demo.sid=' ? '' : pair
      const expires = /;\s*Expires=([^;]+)/i.exec(c)?.[1]
      cookieExpires = expires === undefined ? undefined : Date.parse(expires)
    }
    return { status: res.status, location: res.headers.get('location'), html: await res.text(), cookieExpires }
  }
  return {
    request,
    get cookie() {
      return cookie
    },
    set cookie(c: string) {
      cookie = c
    }
  }
}

const unescapeHtml = (s: string): string =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'"
  )

/** The text of the element with `id` on the page. */
const byId = (html: string, id: string): string => {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`).exec(html)
  if (m === null) throw new Error(`no element with id="${id}" on the page:\n${html}`)
  return unescapeHtml(m[1] ?? '')
}

interface SessionView {
  readonly user: string | undefined
  readonly views: number
  readonly sid: string
  readonly expires: string
  readonly ttlSeconds: number
  readonly live: number
  readonly contents: Record<string, unknown> & { cookie?: { expires?: string } }
}

const view = (page: Page): SessionView => {
  assert.is(page.status, 200, page.html)
  return {
    user: page.html.includes('id="user"') ? byId(page.html, 'user') : undefined,
    views: Number(byId(page.html, 'views')),
    sid: byId(page.html, 'sid'),
    expires: byId(page.html, 'expires'),
    ttlSeconds: Number(/^(\d+) s$/.exec(byId(page.html, 'ttl'))?.[1] ?? NaN),
    live: Number(byId(page.html, 'live')),
    contents: JSON.parse(byId(page.html, 'contents')) as SessionView['contents']
  }
}

/** What a user does: look, log in with a name, look twice, log out, look again; asserts every page. */
const loginViewLogout = async (base: string): Promise<void> => {
  const b = browser(base)
  const first = await b.request('GET', '/')
  const anonymous = view(first)
  assert.match(first.html, /Not logged in/)
  assert.match(first.html, /<form method="post" action="\/login">[\s\S]*<input name="name"/, 'a login form')
  assert.equal([anonymous.user, anonymous.views, anonymous.live], [undefined, 1, 1])

  const refused = await b.request('POST', '/login', { name: '' })
  assert.is(refused.status, 400, 'an empty name is refused')

  const login = await b.request('POST', '/login', { name: 'alice' })
  assert.equal([login.status, login.location], [303, '/'], login.html)
  const home = view(await b.request('GET', '/'))
  assert.is(home.user, 'alice')
  assert.is.not(home.sid, anonymous.sid, 'login gives a new session id')
  assert.is(home.views, 1, 'the new session counts its own views')
  assert.is(home.live, 1, 'the anonymous session was destroyed by the login')
  assert.is(home.contents['user'], 'alice', 'the contents are the stored session')
  assert.is(home.contents['views'], 1)
  assert.is(home.contents.cookie?.expires, home.expires, 'the expiry shown is the stored cookie.expires')
  const left = Date.parse(home.expires) - Date.now()
  assert.ok(left > 3_500_000 && left <= 3_600_000, `expires in ${left} ms, want about an hour`)
  assert.ok(home.ttlSeconds >= 3590 && home.ttlSeconds <= 3600, `the key's TTL is ${home.ttlSeconds} s, want ≈ 3600`)

  const again = view(await b.request('GET', '/'))
  assert.equal([again.user, again.sid, again.views], ['alice', home.sid, 2], 'views count up')

  const aliceCookie = b.cookie
  const logout = await b.request('POST', '/logout')
  assert.equal([logout.status, logout.location], [303, '/'], logout.html)
  assert.is(b.cookie, '', 'logout clears the cookie')
  const after = await b.request('GET', '/')
  assert.match(after.html, /Not logged in/)
  assert.is.not(view(after).sid, home.sid)

  b.cookie = aliceCookie // the old cookie, replayed: the session is gone for good
  const replayed = view(await b.request('GET', '/'))
  assert.equal([replayed.user, replayed.views], [undefined, 1])
  assert.is.not(replayed.sid, home.sid)
}

const MEMORY_LINE =
  /^store: the in-memory client \(no REDIS_URL, no redis-server on the PATH\): sessions live in this process and end with it$/

// A before.each, not a before: uvu drops an error thrown by a before hook without a word.
test.before.each(() => {
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build (npm test does)')
})

test('npm run demo without redis-server on the PATH: builds, runs on the in-memory client, serves login → view → logout, stops on Ctrl-C', async () => {
  assert.ok(npmCli !== undefined, 'npm-cli.js not found')
  assert.ok(
    (process.env['PATH'] ?? '').split(delimiter).some(hasRedisServer),
    'redis-server is on the runner PATH (so hiding it is what this test checks)'
  )
  const hidden = pathWithoutRedis()
  try {
    const env = demoEnv({ PATH: hidden.PATH })
    const d = await startDemo(process.execPath, [npmCli as string, 'run', 'demo'], env)
    try {
      const lines = d.stdout().split('\n')
      const first = lines.findIndex((l) => l.startsWith('store: '))
      assert.match(lines[first] ?? '', MEMORY_LINE, show(d))
      assert.is(
        lines.slice(0, first).filter((l) => l.trim() !== '' && !l.startsWith('> ')).length,
        0,
        `the store line is the demo's first line (after npm's banner)\n${show(d)}`
      )
      console.log(`  (npm run demo, build included, printed its URL after ${d.startMs} ms)`)
      // The PATH the demo process really has (npm adds its own folders): none of its folders holds redis-server.
      const node = groupMembers(d.pid).find((p) => p.endsWith(' examples/demo.js'))
      assert.ok(node !== undefined, `no node examples/demo.js in the group: ${groupMembers(d.pid).join('; ')}`)
      const environ = readFileSync(`/proc/${Number.parseInt(node as string, 10)}/environ`, 'utf8').split('\0')
      const demoPath = environ.find((v) => v.startsWith('PATH='))?.slice('PATH='.length)
      assert.ok(demoPath !== undefined && demoPath.includes(hidden.PATH), `the demo's PATH: ${demoPath}`)
      assert.equal(
        (demoPath as string).split(delimiter).filter(hasRedisServer),
        [],
        "the demo's PATH has no redis-server"
      )
      await loginViewLogout(d.base)
    } finally {
      const exit = await d.interrupt()
      // The demo exits 0 (next tests), but the `sh -c` npm runs it in dies of the same SIGINT, and npm then
      // ends itself with that signal (shell status 130): what Ctrl-C does to any npm script, a server or not.
      assert.equal(exit, { code: null, signal: 'SIGINT' }, show(d))
    }
    assert.match(d.stdout(), /^demo stopped$/m, show(d))
    assert.equal(groupMembers(d.pid), [], 'every process of the demo exited')
    assert.is(d.stderr().trim(), '', show(d))
  } finally {
    hidden.remove()
  }
})

test('node examples/demo.js without redis-server: the in-memory client; Ctrl-C exits 0', async () => {
  const hidden = pathWithoutRedis()
  try {
    const d = await startDemo(process.execPath, [demo], demoEnv({ PATH: hidden.PATH }))
    assert.match(d.stdout().split('\n')[0] ?? '', MEMORY_LINE, show(d))
    await loginViewLogout(d.base)
    assert.equal(await d.interrupt(), { code: 0, signal: null }, show(d))
    assert.match(d.stdout(), /^demo stopped$/m, show(d))
    assert.is(d.stderr().trim(), '', show(d))
  } finally {
    hidden.remove()
  }
})

test('with redis-server on the PATH: starts its own, serves the round trip, and Ctrl-C exits 0 and stops it', async () => {
  const d = await startDemo(process.execPath, [demo], demoEnv({}))
  const first = d.stdout().split('\n')[0] ?? ''
  const m =
    /^store: a throwaway redis-server \((\/\S+\/redis-server), pid (\d+)\) on redis:\/\/127\.0\.0\.1:\d+, stopped when the demo stops$/.exec(
      first
    )
  assert.ok(m !== null, `first line: ${first}\n${show(d)}`)
  const redisPid = Number(m?.[2])
  assert.ok(isAlive(redisPid), 'its redis-server runs')
  try {
    await loginViewLogout(d.base)
  } finally {
    assert.equal(await d.interrupt(), { code: 0, signal: null }, show(d))
  }
  assert.not.ok(isAlive(redisPid), `redis-server ${redisPid} still runs after Ctrl-C`)
  assert.match(d.stdout(), /^demo stopped$/m, show(d))
  assert.is(d.stderr().trim(), '', show(d))
})

test('with REDIS_URL: uses that Redis (the sessions are there), starts none, and leaves it running', async () => {
  const redis = await startRedis()
  const admin = createClient({ url: redis.url, socket: { reconnectStrategy: false } })
  admin.on('error', () => undefined)
  try {
    const d = await startDemo(process.execPath, [demo], demoEnv({ REDIS_URL: redis.url }))
    assert.is(d.stdout().split('\n')[0], `store: Redis at ${redis.url} (REDIS_URL)`, show(d))
    try {
      await loginViewLogout(d.base)
      await admin.connect()
      const keys = await admin.keys('demo:*')
      assert.is(keys.length, 4, `two live sessions and two tombstones in that Redis: ${keys.join(', ')}`)
      // That Redis has keyspace notifications off: the store warns, the demo prints it, the admin page says so.
      const { expiries } = await rates(d.base)
      assert.is(expiries.on, false)
      assert.match(expiries.why ?? '', /^expiredEvents: .* notify-keyspace-events "", without K, h, x/)
      assert.match(await (await fetch(d.base + '/admin')).text(), /id="expiries-off">Expiries are not counted: /)
    } finally {
      assert.equal(await d.interrupt(), { code: 0, signal: null }, show(d))
    }
    assert.ok(isAlive(redis.pid), 'the demo must not stop a Redis it did not start')
    assert.match(
      d.stderr().trim(),
      /^store warning: expiredEvents: Redis on 127\.0\.0\.1:\d+ has notify-keyspace-events "", without K, h, x: [^\n]*$/,
      show(d)
    )
  } finally {
    if (admin.isOpen) admin.destroy()
    await redis.stop()
  }
})

// --- the devices page

interface DemoDevices {
  readonly describeUserAgent: (ua: string) => { browser?: string; os?: string; kind: string; label: string }
  readonly relativeTime: (at: number, now: number) => string
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const devicesModule = (): DemoDevices => require(join(root, 'examples', 'demo', 'devices.js')) as DemoDevices

const UA = {
  chromeMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
}

test('the devices page names a browser and system from the user agent and says times as a person does', () => {
  const { describeUserAgent, relativeTime } = devicesModule()
  const named = (ua: string): string => {
    const d = describeUserAgent(ua)
    return `${d.label} (${d.kind})`
  }
  const table: ReadonlyArray<readonly [string, string]> = [
    [UA.chromeMac, 'Chrome on macOS (computer)'],
    [UA.safariIphone, 'Safari on iOS (phone)'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87',
      'Edge on Windows (computer)'
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/112.0.0.0',
      'Opera on Windows (computer)'
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux (computer)'],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      'Safari on macOS (computer)'
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36',
      'Chrome on Android (phone)'
    ],
    [
      'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36',
      'Samsung Internet on Android (tablet)'
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1',
      'Chrome on iOS (tablet)'
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15',
      'Firefox on iOS (phone)'
    ],
    [
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      'Chrome on ChromeOS (computer)'
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36',
      'Chrome on Linux (computer)'
    ],
    ['curl/8.5.0', 'curl (computer)'],
    ['node', 'Node.js (computer)'],
    ['Mozilla/5.0 (X11; Linux x86_64) SomeBrowser', 'A browser on Linux (computer)'],
    ['', 'Unknown device (computer)']
  ]
  assert.equal(
    table.map(([ua]) => named(ua)),
    table.map(([, label]) => label)
  )

  const now = Date.parse('2026-03-03T12:00:00Z')
  const s = 1000
  const m = 60 * s
  const h = 60 * m
  assert.equal(
    [0, -30 * s, -90 * s, -2 * m, -44 * m, -h, -5 * h, -26 * h, -3 * 24 * h, 10 * s, 59 * m, h].map((d) =>
      relativeTime(now + d, now)
    ),
    [
      'just now',
      'just now',
      '2 minutes ago',
      '2 minutes ago',
      '44 minutes ago',
      '1 hour ago',
      '5 hours ago',
      'yesterday',
      '3 days ago',
      'in a few seconds',
      'in 59 minutes',
      'in 1 hour'
    ]
  )
})

interface DeviceRow {
  readonly id: string
  readonly current: boolean
  readonly name: string
  readonly rawUserAgent: string
  readonly badge: boolean
  readonly signOut: boolean
  /** class → { text, datetime (ms), title } of each <time> in the row. */
  readonly times: Record<string, { readonly text: string; readonly at: number; readonly title: string }>
}

/** The rows of /devices, in page order. */
const deviceRows = (html: string): Array<DeviceRow> =>
  [...html.matchAll(/<li class="device( current)?" data-id="([^"]+)">([\s\S]*?)<\/li>/g)].map((m) => {
    const body = m[3] ?? ''
    const name = /<p class="name" title="([^"]*)">([^<]*)/.exec(body)
    const times = [...body.matchAll(/<time class="(\w+)" datetime="([^"]+)" title="([^"]+)">([^<]*)<\/time>/g)]
    return {
      id: m[2] ?? '',
      current: m[1] !== undefined,
      name: unescapeHtml(name?.[2] ?? ''),
      rawUserAgent: unescapeHtml(name?.[1] ?? ''),
      badge: body.includes('<span class="badge">This device</span>'),
      signOut: body.includes(`action="/devices/${m[2] ?? ''}/destroy"`),
      times: Object.fromEntries(
        times.map((t) => [
          t[1] ?? '',
          { text: unescapeHtml(t[4] ?? ''), at: Date.parse(t[2] ?? ''), title: unescapeHtml(t[3] ?? '') }
        ])
      )
    }
  })

test('GET /devices: each device named, this one first and labelled, relative times with the exact time on hover, and the expiry this response leaves', async () => {
  const d = await startDemo(process.execPath, [demo], demoEnv({}))
  try {
    const mac = browser(d.base, UA.chromeMac)
    const phone = browser(d.base, UA.safariIphone)
    for (const b of [phone, mac]) {
      await b.request('GET', '/')
      assert.is((await b.request('POST', '/login', { name: 'alice' })).status, 303)
    }
    // A save that ran before express-session's touch would store, and list, the expiry of the login: 2.5 s
    // older than this response's cookie, which the assertion below tells apart from a second's rounding.
    await new Promise((r) => setTimeout(r, 2500))
    const page = await mac.request('GET', '/devices')
    assert.is(page.status, 200, page.html)
    const rows = deviceRows(page.html)
    assert.is(byId(page.html, 'device-count'), '2')
    assert.equal(
      rows.map((r) => [r.name, r.current, r.badge, r.signOut]),
      [
        ['Chrome on macOS', true, true, false],
        ['Safari on iOS', false, false, true]
      ],
      'this device first and labelled; a sign-out button on the other'
    )
    assert.equal(
      rows.map((r) => r.rawUserAgent),
      [UA.chromeMac, UA.safariIphone],
      'the raw user agent on hover'
    )
    for (const r of rows) {
      assert.equal(Object.keys(r.times), ['created', 'seen', 'expires'], JSON.stringify(r))
      for (const t of Object.values(r.times)) {
        assert.ok(!Number.isNaN(t.at), JSON.stringify(r))
        assert.is(t.title, new Date(t.at).toUTCString(), 'the exact time on hover')
      }
      assert.is(r.times['created']?.text, 'just now')
      assert.is(r.times['expires']?.text, 'in 1 hour')
    }
    const [mine, other] = rows
    assert.is(mine?.times['seen']?.text, 'just now')
    assert.is(other?.times['seen']?.text, 'just now')
    // The current row's expiry is the one this very response's cookie carries (Expires has whole seconds).
    const cookieExpires = page.cookieExpires
    assert.ok(cookieExpires !== undefined, 'the response renews the cookie')
    const behind = (mine?.times['expires']?.at ?? NaN) - (cookieExpires as number)
    assert.ok(behind >= 0 && behind < 1000, `the listed expiry is ${behind} ms from the cookie's, want [0, 1000)`)
    assert.ok(
      (other?.times['expires']?.at ?? Infinity) < (mine?.times['expires']?.at ?? 0),
      'the other one expires first'
    )
  } finally {
    assert.equal(await d.interrupt(), { code: 0, signal: null }, show(d))
  }
  assert.is(d.stderr().trim(), '', show(d))
})

// --- the admin page's rates

const KINDS = ['reads', 'hits', 'misses', 'writes', 'logouts', 'expiries'] as const
type Counts = Record<(typeof KINDS)[number], number>

interface Rates {
  readonly at: number
  readonly since: number
  readonly windowSeconds: number
  readonly perSecond: Counts
  readonly totals: Counts
  readonly series: Record<keyof Counts, Array<number>>
  readonly sessions: number
  readonly expiries: { readonly on: boolean; readonly why?: string }
}

const rates = async (base: string): Promise<Rates> => {
  const res = await fetch(base + '/admin/rates', { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  return (await res.json()) as Rates
}

/** The redis-server URL a demo's first line names. */
const redisUrlOf = (d: Demo): string => {
  const url = /^store: a throwaway redis-server .* on (redis:\/\/\S+),/.exec(d.stdout())?.[1]
  assert.ok(url !== undefined, show(d))
  return url as string
}

test('GET /admin/rates: reads, hits, misses, writes, logouts and expiries counted from the store, exactly; /admin shows them', async () => {
  const d = await startDemo(process.execPath, [demo], demoEnv({}))
  const redis = createClient({ url: redisUrlOf(d), socket: { reconnectStrategy: false } })
  redis.on('error', () => undefined)
  try {
    const zero = Object.fromEntries(KINDS.map((k) => [k, 0])) as Counts
    const first = await rates(d.base)
    assert.equal([first.totals, first.perSecond, first.sessions, first.expiries], [zero, zero, 0, { on: true }])
    await fetch(d.base + '/admin') // watching adds nothing: /admin and /admin/rates come before the session middleware
    const startedAt = Date.now()

    const expected: Counts = { ...zero }
    /** One request, then the totals it must have added, exactly (each op has ended before the response). */
    const step = async (what: string, request: () => Promise<unknown>, adds: Partial<Counts>): Promise<void> => {
      await request()
      for (const [k, n] of Object.entries(adds)) expected[k as keyof Counts] += n
      assert.equal((await rates(d.base)).totals, expected, what)
    }
    const visitAndLogIn = async (b: ReturnType<typeof browser>, name: string): Promise<void> => {
      // A new session: saved by the page (its first write), then read back to be shown.
      await step('GET /, no cookie', () => b.request('GET', '/'), { reads: 1, hits: 1, writes: 1 })
      // Its read; the anonymous session destroyed (regenerate); the new one saved by the route, then by
      // express-session again at the end (it does not see a save of a regenerated session).
      await step(`POST /login ${name}`, () => b.request('POST', '/login', { name }), {
        reads: 1,
        hits: 1,
        logouts: 1,
        writes: 2
      })
    }
    const ROUNDS = 3
    for (let i = 0; i < ROUNDS; i++) {
      const b = browser(d.base)
      await visitAndLogIn(b, 'alice')
      // Its read, the save of the view, the page's read of what is stored (express-session then touches: no write).
      await step('GET / logged in', () => b.request('GET', '/'), { reads: 2, hits: 2, writes: 1 })
      const cookie = b.cookie
      await step('POST /logout', () => b.request('POST', '/logout'), { reads: 1, hits: 1, logouts: 1 })
      b.cookie = cookie
      // The logged-out cookie: a read that finds the tombstone (a miss), then a new anonymous session.
      await step('GET / with the old cookie', () => b.request('GET', '/'), { reads: 2, hits: 1, misses: 1, writes: 1 })
    }
    // "Sign out of all other devices": one destroySessionsOf, as many logouts as it ended.
    const [bob1, bob2] = [browser(d.base), browser(d.base)]
    for (const b of [bob1, bob2]) await visitAndLogIn(b, 'bob')
    // Its read, bob2's session destroyed, and the session saved at the end (its last-seen time changed).
    await step('POST /devices/others/destroy', () => bob1.request('POST', '/devices/others/destroy'), {
      reads: 1,
      hits: 1,
      logouts: 1,
      writes: 1
    })

    // A session whose TTL runs out in Redis: one expiry (keyspace notifications, the store's `expired` event).
    const c = browser(d.base)
    const sid = view(await c.request('GET', '/')).sid
    for (const [k, n] of Object.entries({ reads: 1, hits: 1, writes: 1 })) expected[k as keyof Counts] += n
    await redis.connect()
    assert.is(await redis.pExpire(`demo:${sid}`, 1), 1)
    expected.expiries += 1
    const deadline = Date.now() + 5000
    let last = await rates(d.base)
    while (last.totals.expiries < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      last = await rates(d.base)
    }
    assert.equal(last.totals, expected, 'the expiry counted, once')
    assert.equal(expected, { reads: 27, hits: 24, misses: 3, writes: 23, logouts: 9, expiries: 1 })

    // The rates: each count of the last 10 s over 10 s; the lines: per second, the last 60 s, summing to the totals.
    const window = Math.floor(last.at / 1000) - Math.floor(startedAt / 1000) < last.windowSeconds
    for (const k of KINDS) {
      assert.is(last.series[k].length, 60)
      assert.is(
        last.series[k].reduce((a, b) => a + b, 0),
        last.totals[k],
        `${k}: the last minute holds every count`
      )
      if (window) assert.is(last.perSecond[k], last.totals[k] / last.windowSeconds, k)
      else assert.ok(last.perSecond[k] <= last.totals[k] / last.windowSeconds, k)
    }
    console.log(`  (${JSON.stringify(last.perSecond)} per second${window ? '' : ', some counts out of the window'})`)
    assert.is(last.sessions, 4, "live: the anonymous session each round ends with, and bob1's (c's expired)")

    // /admin draws the same numbers (and its script polls /admin/rates to redraw them).
    const html = await (await fetch(d.base + '/admin')).text()
    for (const k of KINDS) assert.is(byId(html, `total-${k}`), String(last.totals[k]), k)
    assert.match(html, /setInterval\(refresh, 1000\)/)
  } finally {
    if (redis.isOpen) redis.destroy()
    assert.equal(await d.interrupt(), { code: 0, signal: null }, show(d))
  }
  assert.is(d.stderr().trim(), '', show(d))
})

test.run()
