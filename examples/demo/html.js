// The demo's HTML: escaping and the page every route answers with (one stylesheet, no framework).
'use strict'

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]))

const STYLE = `:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0969da;--good:#1a7f37;--bad:#cf222e}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);max-width:46rem;margin:2rem auto;padding:0 1rem}
body.wide{max-width:64rem}
h1{font-size:1.6rem;margin:0 0 .25rem}
.lede{color:var(--muted);margin:0 0 1.5rem}
pre{background:var(--soft);padding:.75rem;overflow:auto;border-radius:6px}
a{color:var(--accent)}
button{font:inherit;padding:.3rem .9rem;border:1px solid var(--line);border-radius:6px;background:var(--soft);color:var(--ink);cursor:pointer}
button:hover{background:#eef1f4}
button.danger{color:var(--bad)}
button.danger:hover{background:var(--bad);border-color:var(--bad);color:#fff}
time[title]{text-decoration:underline dotted var(--line);text-underline-offset:3px}`

/** A whole page: `title`, `body` (HTML), and `wide` for the admin's row of tiles. */
const page = (title, body, { wide = false } = {}) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head><body${wide ? ' class="wide"' : ''}>
${body}
</body></html>
`

module.exports = { escapeHtml, page }
