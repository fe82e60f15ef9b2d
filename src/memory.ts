/**
 * connect-redis-session/memory: the in-memory client, as its own entry point, for tests and demos without a
 * Redis server. The package root does not load it.
 *
 * @since 0.1.0
 */
export { createMemoryClient } from './client/memory'
export type {
  MemoryClient,
  MemoryClientOptions,
  MemoryClock,
  MemoryCommand,
  MemoryConnection,
  MemoryEntry,
  MemoryFaults,
  MemoryKeyspace
} from './client/memory'
