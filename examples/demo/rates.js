// The demo's admin page: live rates of the store's work (reads, hits, misses, writes, logouts, expiries per
// second), counted from the store's tracing channel and its 'expired' events, and drawn as a row of tiles
// that update every second.
'use strict'
const diagnostics = require('node:diagnostics_channel')
// The store's TracingChannel, 'connect-redis-session:operation': one traced call per store operation.
const { OPERATION_CHANNEL } = require('../../dist')
const { escapeHtml } = require('./html')

/** The tiles, in order: what each counts. */
const RATES = [
  { kind: 'reads', label: 'Reads', counts: 'sessions loaded' },
  { kind: 'hits', label: 'Hits', counts: 'a session found' },
  { kind: 'misses', label: 'Misses', counts: 'no live session' },
  { kind: 'writes', label: 'Writes', counts: 'sessions saved' },
  { kind: 'logouts', label: 'Logouts', counts: 'sessions destroyed' },
  { kind: 'expiries', label: 'Expiries', counts: 'TTLs run out' }
]

// --- counting

/** What one finished operation adds: its channel context (`operation`, `outcome`, `keys`) → [kind, n] pairs. */
const countsOf = ({ operation, outcome, keys }) => {
  switch (operation) {
    case 'get':
      return [
        ['reads', 1],
        ...(outcome === 'hit' ? [['hits', 1]] : outcome === 'miss' || outcome === 'tombstoned' ? [['misses', 1]] : [])
      ]
    case 'set':
      return outcome === 'written' ? [['writes', 1]] : []
    case 'destroy':
      return outcome === 'destroyed' ? [['logouts', 1]] : []
    case 'destroySessionsOf':
      return typeof keys === 'number' && keys > 0 ? [['logouts', keys]] : []
    default:
      return []
  }
}

const zeros = () => Object.fromEntries(RATES.map(({ kind }) => [kind, 0]))

/**
 * Per-second counts of each kind over the last `historySeconds` (the sparklines), their mean over the last
 * `windowSeconds` (the rates, the current second included), and totals since it was made.
 */
const makeRates = ({ now = Date.now, windowSeconds = 10, historySeconds = 60 } = {}) => {
  const since = now()
  const totals = zeros()
  const buckets = new Map() // second (epoch) → counts of that second
  const add = (kind, n = 1) => {
    const second = Math.floor(now() / 1000)
    if (!buckets.has(second)) buckets.set(second, zeros())
    buckets.get(second)[kind] += n
    totals[kind] += n
    for (const s of buckets.keys()) if (s <= second - historySeconds) buckets.delete(s)
  }
  const snapshot = () => {
    const at = now()
    const last = Math.floor(at / 1000)
    const seconds = Array.from({ length: historySeconds }, (_, i) => last - historySeconds + 1 + i)
    const series = Object.fromEntries(
      RATES.map(({ kind }) => [kind, seconds.map((s) => (buckets.has(s) ? buckets.get(s)[kind] : 0))])
    )
    const perSecond = Object.fromEntries(
      RATES.map(({ kind }) => [kind, series[kind].slice(-windowSeconds).reduce((a, b) => a + b, 0) / windowSeconds])
    )
    return { at, since, windowSeconds, perSecond, totals: { ...totals }, series }
  }
  return { add, snapshot }
}

/**
 * Counts every finished store operation into `rates`: a subscriber to the channel's `asyncEnd`, by when the
 * store has set the call's `outcome`. Returns the unsubscribe.
 */
const countOperations = (rates) => {
  const channel = diagnostics.tracingChannel(OPERATION_CHANNEL)
  const handlers = { asyncEnd: (context) => countsOf(context).forEach(([kind, n]) => rates.add(kind, n)) }
  channel.subscribe(handlers)
  return () => channel.unsubscribe(handlers)
}

// --- the page (these three functions also run in the browser: the page's script is their source text)

/** A rate as a tile shows it: one decimal below 100 per second. */
const formatRate = (n) => (n >= 100 ? String(Math.round(n)) : n.toFixed(1))

/** A count with thousands separators. */
const formatCount = (n) => n.toLocaleString('en')

/** A sparkline of `series` in a 120 × 32 box: its line's points and the area under it. */
const sparkline = (series) => {
  const top = Math.max(1, ...series)
  const step = 120 / Math.max(1, series.length - 1)
  const line = series.map((v, i) => `${(i * step).toFixed(1)},${(31 - (v / top) * 29).toFixed(1)}`).join(' ')
  return { line, area: `0,32 ${line} 120,32` }
}

const STYLE = `<style>
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem;margin:0 0 1.5rem}
.tile{border:1px solid var(--line);border-radius:8px;padding:.8rem .9rem .6rem}
.tile h2{margin:0;font-size:.8rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:var(--muted)}
.tile .what{margin:0 0 .3rem;font-size:.8rem;color:var(--muted);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tile .rate{font-size:2rem;font-weight:650;line-height:1.2;font-variant-numeric:tabular-nums}
.tile .unit{font-size:.9rem;font-weight:500;color:var(--muted);margin-left:.2rem}
.tile .total{margin:.3rem 0 0;font-size:.8rem;color:var(--muted);font-variant-numeric:tabular-nums}
.tile svg{display:block;width:100%;height:2rem;margin-top:.2rem;overflow:visible}
.tile polyline{fill:none;stroke:var(--accent);stroke-width:1.5;vector-effect:non-scaling-stroke}
.tile polygon{fill:var(--accent);opacity:.12}
.tile.off{opacity:.55}
.status{display:flex;gap:1.25rem;flex-wrap:wrap;color:var(--muted);font-size:.9rem;margin:0 0 1rem}
.live::before{content:"";display:inline-block;width:.55rem;height:.55rem;border-radius:50%;background:var(--good);margin-right:.4rem;vertical-align:.05rem}
.live.stale::before{background:var(--bad)}
.status strong{color:var(--ink)}
code{font-size:.85em}
</style>`

const tile = ({ kind, label, counts }, snap, on) => {
  const { line, area } = sparkline(snap.series[kind])
  return `<section class="tile${on ? '' : ' off'}" data-kind="${kind}">
<h2>${label}</h2>
<p class="what">${escapeHtml(on ? counts : 'not counted')}</p>
<div><span class="rate" id="rate-${kind}">${formatRate(snap.perSecond[kind])}</span><span class="unit">/s</span></div>
<svg viewBox="0 0 120 32" preserveAspectRatio="none" aria-hidden="true"><polygon id="area-${kind}" points="${area}"/><polyline id="line-${kind}" points="${line}"/></svg>
<p class="total"><span id="total-${kind}">${formatCount(snap.totals[kind])}</span> since start</p>
</section>`
}

// The page's script: fetches /admin/rates every second and redraws the tiles, without a reload.
const script = (kinds) => `<script>
'use strict'
const formatRate = ${formatRate}
const formatCount = ${formatCount}
const sparkline = ${sparkline}
const kinds = ${JSON.stringify(kinds)}
const status = document.getElementById('live')
const refresh = async () => {
  try {
    const res = await fetch('/admin/rates', { cache: 'no-store' })
    if (!res.ok) throw new Error(res.statusText)
    const snap = await res.json()
    for (const kind of kinds) {
      const { line, area } = sparkline(snap.series[kind])
      document.getElementById('rate-' + kind).textContent = formatRate(snap.perSecond[kind])
      document.getElementById('total-' + kind).textContent = formatCount(snap.totals[kind])
      document.getElementById('line-' + kind).setAttribute('points', line)
      document.getElementById('area-' + kind).setAttribute('points', area)
    }
    document.getElementById('session-count').textContent = formatCount(snap.sessions)
    status.classList.remove('stale')
    document.getElementById('updated').textContent = new Date(snap.at).toLocaleTimeString('en')
  } catch {
    status.classList.add('stale')
  }
}
setInterval(refresh, 1000)
</script>`

/**
 * The body of /admin from what /admin/rates answers: `rates.snapshot()`, the live session count `sessions`, and
 * whether the store reports expiries (`expiries`: { on, why }).
 */
const adminPage = ({ sessions, expiries, ...snap }) => `${STYLE}
<h1>Store activity</h1>
<p class="lede">Operations per second over the last ${snap.windowSeconds} s, counted from the store's tracing channel
<code>${OPERATION_CHANNEL}</code>; the lines are the last ${snap.series.reads.length} s.</p>
<p class="status"><span id="live" class="live">Live · updated <span id="updated">${escapeHtml(
  new Date(snap.at).toLocaleTimeString('en')
)}</span></span><span>Live sessions: <strong id="session-count">${formatCount(
  sessions
)}</strong></span><span>Counting since <time datetime="${new Date(snap.since).toISOString()}" title="${escapeHtml(
  new Date(snap.since).toUTCString()
)}">${escapeHtml(new Date(snap.since).toLocaleTimeString('en'))}</time></span></p>
<div class="tiles">
${RATES.map((r) => tile(r, snap, r.kind !== 'expiries' || expiries.on)).join('\n')}
</div>
${
  expiries.on ? '' : `<p class="lede" id="expiries-off">Expiries are not counted: ${escapeHtml(expiries.why)}</p>\n`
}<p><a href="/">Back</a></p>
${script(RATES.map(({ kind }) => kind))}`

module.exports = { adminPage, countOperations, makeRates }
