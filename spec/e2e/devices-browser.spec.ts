// The demo's "Your devices" page in a real browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core), two browser contexts (two devices) logged in as the same user. Device A sees both on
// /devices and signs B out; B's next request is logged out; /admin counts the sessions; a screenshot of the
// page is saved. Chromium missing is a failure, not a skip: .ci/run installs it. Needs dist/ (npm test builds it).
import { spawn } from 'child_process'
import { existsSync, mkdirSync, statSync } from 'fs'
import { join, resolve } from 'path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { childEnv } from '../support/pack'

const root = resolve(__dirname, '..', '..', '..')
const demo = join(root, 'examples', 'demo.js')
const CHROMIUM = '/usr/bin/chromium'
const START_TIMEOUT_MS = 30_000

interface Demo {
  readonly base: string
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

test('two devices of one user: A lists both on /devices, signs B out, B is logged out on its next request', async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium; .ci/run does)`
  )
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: run npm run build (npm test does)')
  // Kept after the run (in the git-ignored build folder), so a CI log can point at it.
  const shots = join(root, '.spec-build', 'screenshots')
  mkdirSync(shots, { recursive: true })
  const d = await startDemo()
  let browser: Browser | undefined
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu']
    })
    const contexts: ReadonlyArray<BrowserContext> = await Promise.all([
      browser.newContext({ userAgent: 'DeviceA/1.0 (laptop)' }),
      browser.newContext({ userAgent: 'DeviceB/1.0 (phone)' })
    ])
    const [a, b] = await Promise.all(contexts.map((c) => c.newPage()))
    if (a === undefined || b === undefined) throw new Error('no pages')
    await login(a, d.base, 'alice')
    await login(b, d.base, 'alice')

    await a.goto(d.base + '/devices')
    assert.is(await a.textContent('#device-count'), '2')
    const rows = await a.$$eval('tr.device', (trs) =>
      trs.map((tr) => ({
        ua: tr.querySelector('.ua')?.textContent ?? '',
        created: tr.querySelector('.created')?.textContent ?? '',
        seen: tr.querySelector('.seen')?.textContent ?? '',
        current: tr.classList.contains('current')
      }))
    )
    assert.is(rows.length, 2)
    const mine = rows.find((r) => r.current)
    const other = rows.find((r) => !r.current)
    assert.ok(mine !== undefined && mine.ua.startsWith('DeviceA/1.0 (laptop)'), JSON.stringify(rows))
    assert.ok(other !== undefined && other.ua === 'DeviceB/1.0 (phone)', JSON.stringify(rows))
    for (const r of rows) {
      assert.ok(!Number.isNaN(Date.parse(r.created)), `created time: ${r.created}`)
      assert.ok(!Number.isNaN(Date.parse(r.seen)), `last-seen time: ${r.seen}`)
      assert.ok(Date.parse(r.seen) >= Date.parse(r.created), JSON.stringify(r))
    }

    await a.goto(d.base + '/admin')
    assert.is(await a.textContent('#session-count'), '2')

    const png = join(shots, 'devices.png')
    await a.goto(d.base + '/devices')
    await a.screenshot({ path: png, fullPage: true })
    assert.ok(existsSync(png) && statSync(png).size > 0, `screenshot ${png} is missing or empty`)
    console.log(`  (screenshot of /devices: ${png}, ${statSync(png).size} bytes)`)

    // A signs B out: the only "Sign out this device" button is on B's row.
    assert.is(await a.locator('tr.device:not(.current) button').count(), 1)
    await Promise.all([a.waitForURL(d.base + '/devices'), a.click('tr.device:not(.current) button')])
    assert.is(await a.textContent('#device-count'), '1')
    assert.is(await a.locator('tr.device.current').count(), 1, 'A is still signed in')

    // B's next request: logged out.
    await b.goto(d.base + '/')
    assert.match((await b.textContent('h1')) ?? '', /Not logged in/)
    const bDevices = await b.goto(d.base + '/devices')
    assert.is(new URL(bDevices?.url() ?? '').pathname, '/', '/devices sends a logged-out device home')

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
    if (browser !== undefined) await browser.close()
    await d.stop()
  }
})

test.run()
