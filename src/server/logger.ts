/** @module The structured logger (pino, JSON lines on stdout). Owns no policy about what is logged. */
import { pino, type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(role: string, level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: { role },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that drops everything: the default when ferry is embedded as a library. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
