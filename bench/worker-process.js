// The two sides of a bench worker process (the tenants parts of `classes` and `budgets`): the parent forks
// it and sends `init`, `run` and `shutdown`; the worker answers `ready`, `result` or `failed`.
import { fork } from 'node:child_process';

/** Forks `workerUrl`; `request(message, replyType)` sends a message and resolves with the worker's reply of that type. */
export function startWorker(workerUrl, label) {
  const child = fork(workerUrl, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const request = (message, replyType) =>
    new Promise((resolve, reject) => {
      const onMessage = (reply) => {
        if (reply.type !== replyType && reply.type !== 'failed') return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (reply.type === 'failed') reject(new Error(`${label} worker ${child.pid}: ${reply.message}`));
        else resolve(reply);
      };
      const onExit = (code) => reject(new Error(`${label} worker ${child.pid} exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message);
    });
  return {
    request,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.send({ type: 'shutdown' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** In the worker: answers the parent's `init` (`ready`) and `run` (`result`) messages; `shutdown` closes the worker's Redis client (`redis()`, if open) and exits. */
export function serveWorker({ init, run, redis }) {
  process.on('message', (message) => {
    const reply = (type, body) => process.send?.({ type, ...body });
    const fail = (error) => reply('failed', { message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    switch (message.type) {
      case 'init':
        init(message.init).then(() => reply('ready', { pid: process.pid }), fail);
        break;
      case 'run':
        run(message.run).then((result) => reply('result', { result }), fail);
        break;
      case 'shutdown':
        if (redis()?.isOpen) redis().destroy();
        process.exit(0);
    }
  });
}
