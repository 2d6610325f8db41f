/**
 * Waiting on Redis for at most a while. A Redis that hangs (stopped, not
 * closed) never answers a SUBSCRIBE; what waits on one (a join's answer, a
 * welcome) goes on after `ms` as if it had been answered, as it does when
 * ioredis fails the command.
 */
export function within(wait: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([wait, timeout]).finally(() => clearTimeout(timer));
}
