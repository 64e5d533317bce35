/**
 * @module The four relay endpoints on relay-server (open, up, down, close): each carries out the decisions of
 * relay-decisions.ts against the session store, long-polling within `pollTimeoutMs` (API Gateway cuts integrations
 * at 29-30 s; RELIABILITY L10).
 */
import type http from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../server/logger.ts';
import { H, RELAY_PATHS, type OpenRequest } from './protocol.ts';
import type { Dispatch, Progress, Refusal } from './relay-decisions.ts';
import { admitEarly, decideArrival, decideDownProgress, decideOpenProgress, decideUpProgress, refusal } from './relay-decisions.ts';
import type { ReplyWriter } from './relay-reply.ts';
import type { RelayCounters } from './relay-stats.ts';
import { newSessionMeta, upFingerprint } from './session.ts';
import type { SessionStore } from './session-store.ts';
import type { SlabPool } from './slab-pool.ts';
import { TargetSession } from './target-session.ts';

export interface EndpointContext {
  store: SessionStore;
  window: number;
  chunkSize: number;
  pollTimeoutMs: number;
  instance: string;
  agent: http.Agent;
  log: Logger;
  counters: RelayCounters;
  owned: Map<string, TargetSession>;
  /** One pool for both directions: up bodies are read into its slabs, down data copied into them. */
  slabs: SlabPool;
  writer: ReplyWriter;
  closing(): boolean;
  now(): number;
  /** RelayServerOptions.onBodyBytes, handed to each target session. */
  onBodyBytes: ((bytes: number) => void) | undefined;
  /** Early messages held now, waiting for their session's open (relay-decisions.ts admitEarly), and the bytes cap. */
  early: { messages: number; bytes: number };
  earlyMaxBytes: number;
  /** Counts, logs and writes a refusal (relay-message.ts noteRefusal is the one place for counting and logging). */
  refuse(res: ServerResponse, r: Refusal, nonce: string, session?: string, remote?: string): void;
}

export interface Message { body: Buffer; digest: string; nonce: string }

/** Carry out a dispatch decision; `signal` ends a long poll when the client or the server goes away. */
export async function runEndpoint(c: EndpointContext, res: ServerResponse, d: Dispatch, m: Message, signal: AbortSignal): Promise<void> {
  const r = d.request;
  switch (r.endpoint) {
    case RELAY_PATHS.open: return await onOpen(c, res, d.session, r.open, m);
    case RELAY_PATHS.up: {
      const deadline = c.now() + c.pollTimeoutMs;
      if (r.early && !(await arrived(c, res, d.session, m, deadline, signal))) { c.slabs.give(m.body); return; }
      return await onUp(c, res, d.session, r.index, r.fin, m, signal, deadline);
    }
    case RELAY_PATHS.down: {
      const deadline = c.now() + c.pollTimeoutMs;
      if (r.early && !(await arrived(c, res, d.session, m, deadline, signal))) return;
      return await onDown(c, res, d.session, r.index, r.ack, m.nonce, signal, deadline);
    }
    case RELAY_PATHS.close: return await onClose(c, res, d.session, m.nonce);
  }
}

/**
 * A message sent before its open was answered waits, held, for the session to exist (relay-decisions.ts decideArrival),
 * within `deadline`, which the rest of its handling shares: however long it waited, it is answered within one
 * --poll-timeout. True once the session exists; otherwise the message was refused (and nothing of it stored).
 */
async function arrived(c: EndpointContext, res: ServerResponse, id: string, m: Message, deadline: number, signal: AbortSignal): Promise<boolean> {
  if (!admitEarly(c.early, m.body.length, c.earlyMaxBytes)) {
    c.refuse(res, refusal('early', 503, 'too many messages waiting for their session to open; retry'), m.nonce, id);
    return false;
  }
  c.early.messages++;
  c.early.bytes += m.body.length;
  try {
    const out = await poll(c, id, signal, async (left) => decideArrival(await c.store.get(id), left, signal.aborted), deadline);
    if (typeof out !== 'object') return true;
    c.refuse(res, out, m.nonce, id);
    return false;
  } finally {
    c.early.messages--;
    c.early.bytes -= m.body.length;
  }
}

/** Loop a store read through its pure decision until it is done or refused (by `deadline`: one --poll-timeout). */
async function poll<T>(c: EndpointContext, id: string, signal: AbortSignal | undefined, step: (leftMs: number) => Promise<Progress<T>>, deadline = c.now() + c.pollTimeoutMs): Promise<T | Refusal> {
  for (;;) {
    const p = await step(deadline - c.now());
    if (p.kind !== 'wait') return p.kind === 'done' ? p.value : p;
    await c.store.wait(id, p.waitMs, signal);
  }
}

async function onOpen(c: EndpointContext, res: ServerResponse, id: string, open: OpenRequest, m: Message): Promise<void> {
  if (c.closing() && !(await c.store.get(id))) return c.refuse(res, refusal('closing', 503, 'relay-server is shutting down; open the session elsewhere'), m.nonce);
  const created = await c.store.create(newSessionMeta(id, open.kind, m.digest, c.instance));
  if (created.kind === 'created') {
    c.counters.sessionsOpened++;
    const t = new TargetSession({
      id, open, store: c.store, window: c.window, chunkSize: c.chunkSize, agent: c.agent, log: c.log, counters: c.counters,
      slabs: c.slabs, onBodyBytes: c.onBodyBytes, onEnd: (sid) => { c.owned.delete(sid); },
    });
    c.owned.set(id, t);
    c.log.info({ event: 'relay-open', session: id, kind: open.kind, target: open.kind === 'http' ? `${open.method} ${open.url}` : `${open.host}:${open.port}` }, 'relay session opened');
    t.start();
  } else if (created.meta.openDigest !== m.digest) {
    return c.refuse(res, refusal('conflict', 409, 'session id already used for another open'), m.nonce, id);
  }
  const out = await poll(c, id, undefined, async (left) => decideOpenProgress(await c.store.get(id), left));
  if (typeof out === 'object') return c.refuse(res, out, m.nonce, id);
  c.writer.reply(res, 200, m.nonce, { [H.session]: id });
}

async function onUp(c: EndpointContext, res: ServerResponse, id: string, index: number, fin: boolean, m: Message, signal: AbortSignal, deadline: number): Promise<void> {
  await c.store.touch(id);
  const fp = upFingerprint(m.digest, fin);
  const out = await poll(c, id, signal, async (left) => {
    // The store gives the slab back when it no longer holds the body (busy: we still have it, to try again).
    const r = await c.store.putUp(id, index, fp, m.body, c.window, c.slabs.releaseOf(m.body));
    return decideUpProgress(r, index, left, signal.aborted);
  }, deadline);
  if (typeof out === 'object') return c.refuse(res, out, m.nonce, id);
  if (out === 'duplicate') c.counters.duplicates++;
  else c.counters.chunksUp++;
  c.writer.reply(res, 200, m.nonce, { [H.session]: id, [H.index]: String(index), [H.fin]: fin ? '1' : '0' });
}

async function onDown(c: EndpointContext, res: ServerResponse, id: string, index: number, ack: number, nonce: string, signal: AbortSignal, deadline: number): Promise<void> {
  await c.store.touch(id);
  await c.store.ackDown(id, ack);
  // The poll itself is the demand: the owner produces this chunk only once a client asked for it (session.mayProduce).
  await c.store.update(id, { downWanted: index + 1 });
  const out = await poll(c, id, signal, async (left) => decideDownProgress(await c.store.get(id), index, left, signal.aborted), deadline);
  if (typeof out === 'object') return c.refuse(res, out, nonce, id);
  if (out === 'empty') {
    c.counters.emptyPolls++;
    return c.writer.reply(res, 204, nonce, { [H.session]: id, [H.index]: String(index) });
  }
  const chunk = await c.store.getDown(id, index);
  if (!chunk) return c.refuse(res, refusal('gone', 410, 'chunk no longer held'), nonce, id);
  c.counters.chunksDown++;
  c.writer.reply(res, 200, nonce, { [H.session]: id, [H.index]: String(index), [H.type]: chunk.type, [H.fin]: chunk.fin ? '1' : '0' }, chunk.data, chunk.digest);
}

async function onClose(c: EndpointContext, res: ServerResponse, id: string, nonce: string): Promise<void> {
  c.owned.get(id)?.destroy('closed by client');
  const existed = await c.store.get(id);
  await c.store.remove(id);
  if (existed) c.counters.sessionsClosed++;
  c.writer.reply(res, 204, nonce, { [H.session]: id });
}
