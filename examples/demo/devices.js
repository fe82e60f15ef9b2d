// The demo's "Your devices" page, as a product's sessions page reads: each device named from its user agent
// ("Chrome on macOS", not the raw string), times relative to now ("2 minutes ago", the exact time on hover),
// this device first, a sign-out button on every other one.
'use strict'
const { escapeHtml } = require('./html')

// --- the user agent: a browser, an operating system and a kind of device

// First match wins, so a browser whose user agent also names another comes before it: Edge and Opera and
// Samsung Internet say "Chrome/…", Chrome says "Safari/…", and a headless Chromium says "HeadlessChrome/…".
const BROWSERS = [
  ['Edge', /\bEdg(?:e|A|iOS)?\//],
  ['Opera', /\b(?:OPR|OPT|OPiOS)\/|\bOpera\b/],
  ['Samsung Internet', /\bSamsungBrowser\//],
  ['Firefox', /\b(?:Firefox|FxiOS)\//],
  ['Chrome', /\b(?:HeadlessChrome|Chrome|CriOS|Chromium)\//],
  ['Safari', /\bVersion\/[\d.]+.*\bSafari\/|\b(?:iPhone|iPad).*\bAppleWebKit\//],
  ['curl', /^curl\//],
  ['Node.js', /^node$|\bundici\b|^node-fetch\b/]
]
// Android before Linux (Android's say "Linux; Android"), iOS before macOS (an iPhone's says "like Mac OS X").
const SYSTEMS = [
  ['iOS', /\b(?:iPhone|iPad|iPod)\b/],
  ['Android', /\bAndroid\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['Windows', /\bWindows\b/],
  ['macOS', /\bMac OS X\b|\bMacintosh\b/],
  ['Linux', /\bLinux\b|\bX11\b/]
]

const firstMatch = (table, ua) => table.find(([, re]) => re.test(ua))?.[0]

/**
 * What a user agent names: `{ browser, os, kind, label }`, each name undefined when the string does not say
 * it; `kind` is 'phone', 'tablet' or 'computer'; `label` is what the page shows ("Chrome on macOS",
 * "Firefox", "A browser on Linux", "Unknown device").
 */
const describeUserAgent = (userAgent) => {
  const ua = String(userAgent || '')
  const browser = firstMatch(BROWSERS, ua)
  const os = firstMatch(SYSTEMS, ua)
  const kind = /\biPad\b|\bTablet\b/.test(ua)
    ? 'tablet'
    : /\b(?:iPhone|iPod)\b|\bMobile\b/.test(ua)
    ? 'phone'
    : /\bAndroid\b/.test(ua)
    ? 'tablet'
    : 'computer'
  const label = browser && os ? `${browser} on ${os}` : browser || (os ? `A browser on ${os}` : 'Unknown device')
  return { browser, os, kind, label }
}

// --- times: "2 minutes ago", "in 59 minutes", the exact time on hover

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })
// [unit, its seconds, the count from which the next unit says it]: "59 minutes", then "1 hour".
const UNITS = [
  ['minute', 60, 60],
  ['hour', 3600, 24],
  ['day', 86400, Infinity]
]

/** `at` (ms) as a person says it from `now` (ms): "just now", "2 minutes ago", "in 1 hour", "yesterday". */
const relativeTime = (at, now) => {
  const s = (at - now) / 1000
  const abs = Math.abs(s)
  if (abs < 45) return s <= 0 ? 'just now' : 'in a few seconds'
  const [unit, size] = UNITS.find(([, size, next]) => Math.round(abs / size) < next)
  return relative.format(Math.sign(s) * Math.round(abs / size), unit)
}

/** A `<time>`: the relative text, the machine-readable instant, and the exact time (UTC) on hover. */
const timeTag = (cls, at, now) => {
  const d = new Date(at)
  return `<time class="${cls}" datetime="${d.toISOString()}" title="${escapeHtml(d.toUTCString())}">${escapeHtml(
    relativeTime(at, now)
  )}</time>`
}

// --- the page

const ICONS = {
  computer: '<rect x="4" y="5" width="16" height="11" rx="1.5"/><path d="M2 19h20"/>',
  phone: '<rect x="7" y="2.5" width="10" height="19" rx="2"/><path d="M11 18.5h2"/>',
  tablet: '<rect x="4.5" y="2.5" width="15" height="19" rx="2"/><path d="M11 18.5h2"/>'
}

const STYLE = `<style>
.devices{list-style:none;padding:0;margin:0 0 1.5rem;border:1px solid var(--line);border-radius:8px}
.device{display:flex;align-items:center;gap:1rem;padding:1rem 1.1rem}
.device+.device{border-top:1px solid var(--line)}
.device svg{flex:none;width:2rem;height:2rem;color:var(--muted)}
.device.current svg{color:var(--good)}
.about{flex:1;min-width:0}
.name{margin:0;font-weight:600}
.badge{margin-left:.5rem;padding:.05rem .5rem;border-radius:1rem;font-size:.75rem;font-weight:600;color:var(--good);border:1px solid currentColor}
.times{margin:.15rem 0 0;color:var(--muted);font-size:.9rem}
.device form{margin:0}
</style>`

/** A time of a stored session (`__createdAt` is the store's ms stamp, the others ISO strings), in ms or undefined. */
const msOf = (v) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Date.parse(v) : undefined)

const deviceRow = ({ id, session: s, expiresAt }, current, now) => {
  const { kind, label } = describeUserAgent(s.userAgent)
  const created = msOf(s.__createdAt) ?? msOf(s.createdAt)
  const seen = msOf(s.lastSeenAt)
  const times = [
    created === undefined ? '' : `Signed in ${timeTag('created', created, now)}`,
    seen === undefined ? '' : `Last active ${timeTag('seen', seen, now)}`,
    `Expires ${timeTag('expires', expiresAt, now)}`
  ].filter((t) => t !== '')
  return `<li class="device${current ? ' current' : ''}" data-id="${escapeHtml(id)}">
<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6" aria-hidden="true">${ICONS[kind]}</svg>
<div class="about"><p class="name" title="${escapeHtml(s.userAgent || 'no user agent')}">${escapeHtml(label)}${
    current ? '<span class="badge">This device</span>' : ''
  }</p>
<p class="times">${times.join(' · ')}</p></div>
${
  current
    ? ''
    : `<form method="post" action="/devices/${encodeURIComponent(
        id
      )}/destroy"><button class="danger" aria-label="Sign out ${escapeHtml(label)}">Sign out</button></form>`
}
</li>`
}

/**
 * The body of "Your devices" for `user`, whose sessions are `devices` (`store.access.sessionsOf`), the one of
 * this request `currentId`: this device first, then the others, most recently active first.
 */
const devicesPage = ({ user, devices, currentId, now }) => {
  const seen = (d) => msOf(d.session.lastSeenAt) ?? 0
  const ordered = [...devices].sort((a, b) => (b.id === currentId) - (a.id === currentId) || seen(b) - seen(a))
  const others = devices.length - (devices.some((d) => d.id === currentId) ? 1 : 0)
  return `${STYLE}
<h1>Your devices</h1>
<p class="lede"><strong id="user">${escapeHtml(user)}</strong> is signed in on <span id="device-count">${
    devices.length
  }</span> device${devices.length === 1 ? '' : 's'}. Sign out any you do not recognise.</p>
<ul id="devices" class="devices">
${ordered.map((d) => deviceRow(d, d.id === currentId, now)).join('\n')}
</ul>
${
  others > 0
    ? '<form method="post" action="/devices/others/destroy"><button id="others" class="danger">Sign out of all other devices</button></form>\n'
    : ''
}<p><a href="/">Back</a></p>`
}

module.exports = { describeUserAgent, devicesPage, relativeTime }
