/**
 * connect-redis-session/valkey-glide: the Valkey GLIDE adapters, as their own entry point. The package root does
 * not load them; this entry loads `@valkey/valkey-glide` (an optional peer dependency): pass it your
 * `GlideClient` or `GlideClusterClient`.
 *
 * @since 0.1.0
 */
export { fromValkeyGlide, fromValkeyGlideCluster } from './client/valkey-glide'
export type { ValkeyGlideClient, ValkeyGlideClusterClient } from './client/valkey-glide'
