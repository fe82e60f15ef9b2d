/**
 * Valkey GLIDE in the specs: its address form, and its logger turned off. GLIDE's core logs every error reply
 * (`WRONGTYPE` on a tombstone among them) on stderr at `warn` by default; a passing run prints no such line.
 */
import { GlideClient, GlideClusterClient, Logger } from '@valkey/valkey-glide'

Logger.setLoggerConfig('off')

/** `{ host, port }` of a `redis://host:port` URL, as GLIDE's `addresses` take it. */
const glideAddress = (url: string): { host: string; port: number } => {
  const { hostname, port } = new URL(url)
  return { host: hostname, port: Number(port) }
}

/** A standalone GLIDE client of the server at `url`, connected. */
export const glideClient = (url: string, requestTimeout?: number): Promise<GlideClient> =>
  GlideClient.createClient({
    addresses: [glideAddress(url)],
    ...(requestTimeout === undefined ? {} : { requestTimeout })
  })

/** A GLIDE cluster client seeded with one node's port, connected, with GLIDE's defaults. */
export const glideClusterClient = (port: number): Promise<GlideClusterClient> =>
  GlideClusterClient.createClient({ addresses: [{ host: '127.0.0.1', port }] })
