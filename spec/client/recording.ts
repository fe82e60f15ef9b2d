/**
 * Command methods for client stand-ins that log each call (its name and arguments in `calls`, its `this` in
 * `self`) and answer a fixed reply: `answer(name, reply)` makes one, `commands` are node-redis's key commands.
 */
export const recording = () => {
  const calls: Array<ReadonlyArray<unknown>> = []
  const self: Array<unknown> = []
  const answer = (name: string, reply: unknown) =>
    function (this: unknown, ...args: ReadonlyArray<unknown>) {
      calls.push([name, ...args])
      self.push(this)
      return Promise.resolve(reply)
    }
  const commands = {
    get: answer('get', 'value'),
    set: answer('set', 'OK'),
    getEx: answer('getEx', 'value'),
    getDel: answer('getDel', 'value'),
    mGet: answer('mGet', ['a', null]),
    evalSha: answer('evalSha', 1),
    eval: answer('eval', 2)
  }
  return { calls, self, answer, commands }
}
