/**
 * HTTP plumbing shared by the e2e harness (spec/e2e) and the fault specs (spec/faults): serving a request
 * handler (an Express app) on 127.0.0.1 with a free port, and a small cookie-aware client built on node's `http`.
 */
import * as http from 'http'
import type { AddressInfo } from 'net'

export interface Listening {
  readonly port: number
  /** Drops every open connection (keep-alive ones too) and stops listening. */
  readonly close: () => Promise<void>
}

/** Serves `handler` on 127.0.0.1 (port 0) with a plain `http.createServer`, which works with Express 4 and 5. */
export const listen = (handler: http.RequestListener): Promise<Listening> => {
  const server = http.createServer(handler)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}

export interface HttpReply {
  readonly status: number
  /** The JSON body (`{}` when empty, `{ text }` when not JSON). */
  readonly body: Record<string, unknown>
  /** The raw `Set-Cookie` header of the session cookie, if the response set it. */
  readonly setCookie: string | undefined
  /** `name=value` of the session cookie, ready to send back, if the response set it. */
  readonly cookie: string | undefined
}

export interface HttpClient {
  /**
   * One request to 127.0.0.1:`port`, sending `cookie` if given; rejects on a connection error, or when no
   * answer arrived within `timeoutMs` (a hung request fails instead of hanging the run: uvu has no test timeout).
   */
  readonly send: (
    port: number,
    method: 'GET' | 'POST',
    path: string,
    cookie: string | undefined,
    timeoutMs: number
  ) => Promise<HttpReply>
  /** Closes the keep-alive sockets of this client's agent (call when a suite ends). */
  readonly closeAgent: () => void
}

/** A client with its own keep-alive agent that picks the session cookie `cookieName` out of each response. */
export const httpClient = (cookieName: string): HttpClient => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const send: HttpClient['send'] = (port, method, path, cookie, timeoutMs) =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = cookie === undefined ? {} : { cookie }
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const chunks: Array<Buffer> = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const setCookie = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith(cookieName + '='))
          let body: Record<string, unknown>
          try {
            body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
          } catch {
            body = { text }
          }
          resolve({ status: res.statusCode ?? 0, body, setCookie, cookie: setCookie?.split(';')[0] })
        })
      })
      req.on('error', reject)
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)))
      req.end()
    })
  return { send, closeAgent: () => agent.destroy() }
}

/** The session id inside a signed cookie `name=s%3A<sid>.<signature>` (with or without attributes after `;`). */
export const sidOfCookie = (cookie: string): string => {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1).split(';')[0] ?? '')
  if (!value.startsWith('s:')) throw new Error(`not a signed session cookie: ${cookie}`)
  return value.slice(2, value.lastIndexOf('.'))
}

export interface TextReply {
  readonly status: number
  readonly text: string
  /** `name=value` of the first cookie the response set, if any. */
  readonly cookie: string | undefined
}

/**
 * One request to 127.0.0.1:`port` on a fresh connection (no agent, no body), sending `cookie` if given; the
 * answer's body as text. Rejects on a connection error, or when no full answer arrived within `timeoutMs`.
 */
export const requestText = (
  port: number,
  method: 'GET' | 'POST',
  path: string,
  cookie: string | undefined,
  timeoutMs: number
): Promise<TextReply> =>
  new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = cookie === undefined ? {} : { cookie }
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          cookie: res.headers['set-cookie']?.[0]?.split(';')[0]
        })
      )
    })
    req.on('error', reject)
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)))
    req.end()
  })
