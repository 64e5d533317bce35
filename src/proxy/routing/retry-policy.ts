/**
 * @module Whether a failed try may be retried on another target, pure. Only before any response byte arrived (the
 * client send rejects only then), only for idempotent methods (RFC 9110 §9.2.2) or ones the operator marked, only when
 * the request body is either absent or was kept whole (≤ retry-body-limit), within `tries`, and within the retry
 * budget: retries are at most a share of the recent requests (Envoy's retry budgets), so they cannot multiply an outage.
 */

export interface RetryConfig {
  /** Tries in all, the first included (1 = never retry). */
  tries: number;
  /** Per-try limit on waiting for the response head; null = --upstream-timeout only. */
  tryTimeoutMs: number | null;
  /** Bodies up to this size are kept so they can be sent again; larger ones are streamed and never retried. */
  bodyLimit: number;
  /** Methods retried beside the idempotent ones (upper case). */
  methods: readonly string[];
  /** Retries at most this share of the requests of the last `budgetWindowMs`… */
  budgetShare: number;
  /** …but always at least this many per window (a quiet pool still retries). */
  budgetMinRetries: number;
  budgetWindowMs: number;
}

export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isRetryableMethod(cfg: RetryConfig, method: string): boolean {
  return IDEMPOTENT_METHODS.has(method) || cfg.methods.includes(method);
}

/** FerryError codes of failures before any response byte where the request may not have been processed. */
const RETRYABLE_ERRORS: ReadonlySet<string> = new Set([
  'FERRY_ERR_UPSTREAM_UNREACHABLE', 'FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT', 'FERRY_ERR_UPSTREAM_CLOSED', 'FERRY_ERR_UPSTREAM_TIMEOUT', 'FERRY_ERR_UPSTREAM',
]);

export interface TryFailure {
  /** The FerryError code the try failed with. */
  code: string;
  /** Tries made so far (1 after the first). */
  tried: number;
  method: string;
  /** 'none' (no body), 'kept' (buffered whole, can be sent again) or 'streamed' (bytes may be gone). */
  body: 'none' | 'kept' | 'streamed';
}

export type RetryVerdict = 'retry' | 'no-tries-left' | 'not-idempotent' | 'body-sent' | 'not-retryable-error';

export function retryVerdict(cfg: RetryConfig, f: TryFailure): RetryVerdict {
  if (!RETRYABLE_ERRORS.has(f.code)) return 'not-retryable-error';
  if (f.tried >= cfg.tries) return 'no-tries-left';
  if (!isRetryableMethod(cfg, f.method)) return 'not-idempotent';
  if (f.body === 'streamed') return 'body-sent';
  return 'retry';
}

/** The outcome recorded for passive health and the access log, from a try's error code. */
export function outcomeOf(code: string): 'connect' | 'reset' | 'timeout' {
  if (code === 'FERRY_ERR_UPSTREAM_UNREACHABLE' || code === 'FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT') return 'connect';
  if (code === 'FERRY_ERR_UPSTREAM_TIMEOUT') return 'timeout';
  return 'reset';
}

/**
 * Requests and retries of the last window, counted in two half-window buckets (the older one weighted by how much of
 * it still lies in the window): constant memory, no timers.
 */
export class RetryBudget {
  #bucketStart = 0;
  #requests = [0, 0];
  #retries = [0, 0];
  readonly #cfg: Pick<RetryConfig, 'budgetShare' | 'budgetMinRetries' | 'budgetWindowMs'>;

  constructor(cfg: Pick<RetryConfig, 'budgetShare' | 'budgetMinRetries' | 'budgetWindowMs'>) {
    this.#cfg = cfg;
  }

  #roll(now: number): number {
    const half = this.#cfg.budgetWindowMs / 2;
    const elapsed = now - this.#bucketStart;
    if (elapsed >= 2 * half) { this.#requests = [0, 0]; this.#retries = [0, 0]; this.#bucketStart = now; return 0; }
    if (elapsed >= half) {
      this.#requests = [this.#requests[1]!, 0];
      this.#retries = [this.#retries[1]!, 0];
      this.#bucketStart += half;
    }
    return 1 - (now - this.#bucketStart) / half; // weight of the older bucket
  }

  noteRequest(now: number): void {
    this.#roll(now);
    this.#requests[1]!++;
  }

  /** Take one retry from the budget if there is room; false = the budget is spent, do not retry. */
  tryTake(now: number): boolean {
    const w = this.#roll(now);
    const requests = this.#requests[0]! * w + this.#requests[1]!;
    const retries = this.#retries[0]! * w + this.#retries[1]!;
    if (retries + 1 > Math.max(this.#cfg.budgetMinRetries, requests * this.#cfg.budgetShare)) return false;
    this.#retries[1]!++;
    return true;
  }
}
