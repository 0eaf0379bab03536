/**
 * Waiters grouped by tenant and served round-robin between tenants (first come, first served
 * within a tenant), so a tenant with a hundred queued requests takes one turn in each round like
 * a tenant with one. Bounded: `push` refuses past `maxWaiters` in all or `maxPerTenant` for one
 * tenant. Removal is by identity, so an aborted or expired waiter leaves at once.
 */
export interface FairQueue<W> {
  /** Adds a waiter at the end of its tenant's line; false when a bound is reached (nothing added). */
  push(tenant: string, waiter: W): boolean;
  /** The waiter whose turn it is, without taking it. */
  peek(): W | undefined;
  /** Takes the waiter whose turn it is and moves the turn to the next tenant. */
  shift(): W | undefined;
  /** Removes a waiter wherever it stands; false when it was not queued. */
  remove(tenant: string, waiter: W): boolean;
  readonly size: number;
  sizeOf(tenant: string): number;
}

export interface FairQueueBounds {
  /** Waiters in all (default 10,000). */
  maxWaiters?: number | undefined;
  /** Waiters of one tenant (default 1,000). */
  maxPerTenant?: number | undefined;
}

/**
 * Creates a round-robin queue between tenants.
 *
 * @example
 * const queue = createFairQueue<string>();
 * queue.push('noisy', 'n1'); queue.push('noisy', 'n2'); queue.push('quiet', 'q1');
 * [queue.shift(), queue.shift(), queue.shift()]; // ['n1', 'q1', 'n2']
 */
export function createFairQueue<W>(bounds: FairQueueBounds = {}): FairQueue<W> {
  const maxWaiters = bounds.maxWaiters ?? 10_000;
  const maxPerTenant = bounds.maxPerTenant ?? 1_000;
  const lines = new Map<string, W[]>();
  /** Tenants with waiters, in turn order; `turn` indexes the tenant served next. */
  const ring: string[] = [];
  let turn = 0;
  let size = 0;

  function dropTenant(tenant: string): void {
    lines.delete(tenant);
    const index = ring.indexOf(tenant);
    if (index === -1) return;
    ring.splice(index, 1);
    if (index < turn) turn -= 1;
    if (turn >= ring.length) turn = 0;
  }

  return {
    push(tenant, waiter) {
      if (size >= maxWaiters) return false;
      let line = lines.get(tenant);
      if (line === undefined) {
        line = [];
        lines.set(tenant, line);
        // A tenant that joins takes its turn after everyone already waiting.
        ring.splice(turn, 0, tenant);
        turn = (turn + 1) % ring.length;
      }
      if (line.length >= maxPerTenant) return false;
      line.push(waiter);
      size += 1;
      return true;
    },
    peek() {
      const tenant = ring[turn];
      return tenant === undefined ? undefined : lines.get(tenant)?.[0];
    },
    shift() {
      const tenant = ring[turn];
      if (tenant === undefined) return undefined;
      const line = lines.get(tenant);
      const waiter = line?.shift();
      if (waiter === undefined) return undefined;
      size -= 1;
      if (line === undefined || line.length === 0) dropTenant(tenant);
      else turn = (turn + 1) % ring.length;
      return waiter;
    },
    remove(tenant, waiter) {
      const line = lines.get(tenant);
      const index = line?.indexOf(waiter) ?? -1;
      if (line === undefined || index === -1) return false;
      line.splice(index, 1);
      size -= 1;
      if (line.length === 0) dropTenant(tenant);
      return true;
    },
    get size() {
      return size;
    },
    sizeOf: (tenant) => lines.get(tenant)?.length ?? 0,
  };
}
