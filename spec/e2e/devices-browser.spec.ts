// The demo in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core). Two browser
// contexts (two devices: Chrome on macOS, Safari on an iPhone) log in as the same user; device A sees both on
// "Your devices", named, this device first, and signs B out; B's next request is logged out. A third context
// keeps /admin open the whole time: its tiles show the store's rates without a reload. Screenshots of both
// pages are saved. Chromium missing is a failure, not a skip: .ci/run installs it. Needs dist/ (npm test builds it).
import { spawn } from 'child_process'
import { existsSync, mkdirSync, statSync } from 'fs'
import { join, resolve } from 'path'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { createClient } from 'redis'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { childEnv } from '../support/pack'

const root = resolve(__dirname, '..', '..', '..')
const demo = join(root, 'examples', 'demo.js')
const CHROMIUM = '/usr/bin/chromium'
const START_TIMEOUT_MS = 30_000

interface Demo {
  readonly base: string
  /** The throwaway redis-server the demo started (its first line names it). */
  readonly redisUrl: string
  readonly stop: () => Promise<void>
}

/** `node examples/demo.js` on a free port (a throwaway redis-server from the PATH); resolves on its URL line. */
const startDemo = (): Promise<Demo> =>
  new Promise((done, fail) => {
    const env = childEnv()
    for (const name of ['REDIS_URL', 'SESSION_SECRET', 'NODE_ENV']) delete env[name]
    const child = spawn(process.execPath, [demo], { cwd: root, env: { ...env, PORT: '0' }, stdio: 'pipe' })
    let out = ''
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`the demo printed no URL within ${START_TIMEOUT_MS} ms:\n${out}`))
    }, START_TIMEOUT_MS)
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const base = /demo: open (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1]
      if (base === undefined) return
      clearTimeout(timer)
      done({
        base,
        redisUrl: /^store: a throwaway redis-server .* on (redis:\/\/\S+),/m.exec(out)?.[1] ?? '',
        stop: async () => {
          child.kill('SIGTERM')
          await exited
        }
      })
    })
    void exited.then(() => {
      clearTimeout(timer)
      fail(new Error(`the demo exited before it printed its URL:\n${out}`))
    })
  })

const login = async (page: Page, base: string, name: string): Promise<void> => {
  await page.goto(base + '/')
  await page.fill('input[name="name"]', name)
  await Promise.all([page.waitForURL(base + '/'), page.click('form[action="/login"] button')])
  assert.is(await page.textContent('#user'), name)
}

const UA = {
  mac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
}
const KINDS = ['reads', 'hits', 'misses', 'writes', 'logouts', 'expiries'] as const
type Kind = (typeof KINDS)[number]

type Shown = { rates: Record<Kind, number>; totals: Record<Kind, number>; sessions: number }

/** What the admin page shows now: each tile's rate and total (as numbers), and the live session count. */
const tiles = async (page: Page): Promise<Shown> => {
  const [tileText, sessions] = await Promise.all([
    page.$$eval('.tile', (els) =>
      els.map((el) => ({
        kind: el.getAttribute('data-kind') ?? '',
        rate: el.querySelector('.rate')?.textContent ?? '',
        total: el.querySelector('.total span')?.textContent ?? ''
      }))
    ),
    page.textContent('#session-count')
  ])
  const num = (text: string | null): number => Number((text ?? '').replace(/,/g, ''))
  assert.equal(
    tileText.map((t) => t.kind),
    [...KINDS],
    'one tile per rate, in order'
  )
  const by = (field: 'rate' | 'total') =>
    Object.fromEntries(tileText.map((t) => [t.kind, num(t[field])])) as Record<Kind, number>
  return { rates: by('rate'), totals: by('total'), sessions: num(sessions) }
}

/** Waits until the admin page, without a reload, shows a non-zero rate on each of `kinds`. */
const untilNonZero = (page: Page, kinds: ReadonlyArray<Kind>): Promise<unknown> =>
  page.waitForFunction(
    `${JSON.stringify(kinds)}.every((k) => Number(document.getElementById('rate-' + k).textContent) > 0)`,
    undefined,
    { timeout: 10_000 }
  )

/** What the admin page shows once it agrees with what /admin/rates answers (it polls every second). */
const agreed = async (page: Page, base: string): Promise<Shown> => {
  const deadline = Date.now() + 5000
  for (;;) {
    const server = (await (await page.request.get(base + '/admin/rates')).json()) as { totals: Record<Kind, number> }
    const shown = await tiles(page)
    if (JSON.stringify(shown.totals) === JSON.stringify(server.totals)) return shown
    if (Date.now() > deadline) {
      assert.equal(shown.totals, server.totals, 'the tiles show the totals the server counts')
      return shown
    }
    await page.waitForTimeout(250)
  }
}

test('two devices of one user on "Your devices", A signs B out; /admin shows the live rates of it all', async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium; .ci/run does)`
  )
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build (npm test does)')
  // Kept after the run (in the git-ignored build folder), so a CI log can point at them.
  const shots = join(root, '.spec-build', 'screenshots')
  mkdirSync(shots, { recursive: true })
  const d = await startDemo()
  assert.match(d.redisUrl, /^redis:\/\/127\.0\.0\.1:\d+$/, 'the demo names its redis-server')
  const redis = createClient({ url: d.redisUrl, socket: { reconnectStrategy: false } })
  redis.on('error', () => undefined)
  let browser: Browser | undefined
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu']
    })
    const [adm, a, b, c] = await Promise.all(
      [{ viewport: { width: 1100, height: 640 } }, { userAgent: UA.mac }, { userAgent: UA.iphone }, {}].map(
        async (options) => (await browser?.newContext(options))?.newPage()
      )
    )
    if (adm === undefined || a === undefined || b === undefined || c === undefined) throw new Error('no pages')

    // The admin page, opened before any traffic: every tile at zero, and it stays open (no reload) to the end.
    await adm.goto(d.base + '/admin')
    const before = await tiles(adm)
    assert.equal(
      [before.rates, before.totals, before.sessions],
      [Object.fromEntries(KINDS.map((k) => [k, 0])), Object.fromEntries(KINDS.map((k) => [k, 0])), 0]
    )

    await login(a, d.base, 'alice')
    await login(b, d.base, 'alice')

    await a.goto(d.base + '/devices')
    assert.is(await a.textContent('#device-count'), '2')
    const rows = await a.$$eval('li.device', (lis) =>
      lis.map((li) => ({
        name: li.querySelector('.name')?.firstChild?.textContent ?? '',
        badge: li.querySelector('.badge')?.textContent ?? '',
        current: li.classList.contains('current'),
        signOut: li.querySelector('button')?.textContent ?? '',
        times: [...li.querySelectorAll('time')].map((t) => ({
          cls: t.className,
          text: t.textContent ?? '',
          at: t.getAttribute('datetime') ?? '',
          title: t.getAttribute('title') ?? ''
        }))
      }))
    )
    assert.equal(
      rows.map((r) => [r.name, r.badge, r.current, r.signOut]),
      [
        ['Chrome on macOS', 'This device', true, ''],
        ['Safari on iOS', '', false, 'Sign out']
      ],
      'named from the user agent, this device first'
    )
    for (const r of rows) {
      assert.equal(
        r.times.map((t) => [t.cls, t.text]),
        [
          ['created', 'just now'],
          ['seen', 'just now'],
          ['expires', 'in 1 hour']
        ],
        JSON.stringify(r)
      )
      for (const t of r.times) assert.is(t.title, new Date(t.at).toUTCString(), 'the exact time on hover')
    }

    const devicesPng = join(shots, 'devices.png')
    await a.screenshot({ path: devicesPng, fullPage: true })
    assert.ok(existsSync(devicesPng) && statSync(devicesPng).size > 0, `screenshot ${devicesPng} is missing or empty`)
    console.log(`  (screenshot of /devices: ${devicesPng}, ${statSync(devicesPng).size} bytes)`)

    // A signs B out: the only "Sign out" button is on B's row.
    assert.is(await a.locator('li.device:not(.current) button').count(), 1)
    await Promise.all([a.waitForURL(d.base + '/devices'), a.click('li.device:not(.current) button')])
    assert.is(await a.textContent('#device-count'), '1')
    assert.is(await a.locator('li.device.current').count(), 1, 'A is still signed in')

    // B's next request: logged out (a read of a destroyed session: a miss).
    await b.goto(d.base + '/')
    assert.match((await b.textContent('h1')) ?? '', /Not logged in/)
    const bDevices = await b.goto(d.base + '/devices')
    assert.is(new URL(bDevices?.url() ?? '').pathname, '/', '/devices sends a logged-out device home')

    // A session whose TTL runs out in Redis: an expiry.
    await c.goto(d.base + '/')
    const cSid = (await c.textContent('#sid')) ?? ''
    await redis.connect()
    assert.is(await redis.pExpire(`demo:${cSid}`, 1), 1, `no key demo:${cSid}`)

    // The admin page, never reloaded, now shows every rate above zero, and what it shows is what the server counts.
    await untilNonZero(adm, KINDS)
    // Live sessions: A's, and the anonymous one B's last requests saved (C's expired).
    await adm.waitForFunction(`document.getElementById('session-count').textContent === '2'`)
    const shown = await agreed(adm, d.base)
    for (const k of KINDS) {
      assert.ok(shown.rates[k] > 0 && shown.rates[k] * 10 <= shown.totals[k] + 1e-9, `${k}: ${JSON.stringify(shown)}`)
    }
    assert.ok(shown.totals.reads >= shown.totals.hits + shown.totals.misses, JSON.stringify(shown))
    assert.ok(
      shown.totals.logouts >= 1 && shown.totals.misses >= 1 && shown.totals.expiries === 1,
      JSON.stringify(shown)
    )
    const adminPng = join(shots, 'admin.png')
    await adm.screenshot({ path: adminPng, fullPage: true })
    assert.ok(existsSync(adminPng) && statSync(adminPng).size > 0, `screenshot ${adminPng} is missing or empty`)
    console.log(`  (screenshot of /admin: ${adminPng}, ${statSync(adminPng).size} bytes)`)

    // A is unaffected, and B can not sign A out with A's id from another login of another user.
    await a.goto(d.base + '/')
    assert.is(await a.textContent('#user'), 'alice')
    await login(b, d.base, 'mallory')
    const aSid = (await a.textContent('#sid')) ?? ''
    const refused = await b.request.post(`${d.base}/devices/${encodeURIComponent(aSid)}/destroy`)
    assert.is(refused.status(), 404, 'a session of another user is not signed out')
    await a.goto(d.base + '/')
    assert.is(await a.textContent('#user'), 'alice')
  } finally {
    if (redis.isOpen) redis.destroy()
    if (browser !== undefined) await browser.close()
    await d.stop()
  }
})

test.run()
