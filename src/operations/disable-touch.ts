/**
 * The `disableTouch` feature: express-session's `touch` (`sessionTouch`) does nothing; a session's expiry is then
 * renewed only when it is saved. The type it is about is `Feature`, a decorator of the operations record.
 *
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import type { Feature } from './model'

const untouched = TE.right(false)

/**
 * The feature: `sessionTouch` sends nothing and answers `false`; `touch`, for direct use, still renews. It needs
 * nothing, so it is a `Feature` itself rather than built from dependencies.
 *
 * @category features
 * @since 0.1.0
 */
export const disableTouch: Feature = (ops) => ({ ...ops, sessionTouch: () => untouched })
