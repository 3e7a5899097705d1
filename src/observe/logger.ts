import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The proxy's structured logger: JSON lines on stdout. Every call site passes only addresses,
 * names and ids: never tokens, secrets or request payloads.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'kafka-auth-proxy' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? process.stdout,
  );
}
