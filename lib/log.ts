import { AsyncLocalStorage } from 'node:async_hooks';
import { getConfig } from './config.ts';

/**
 * One JSON line per event, so CloudWatch Logs Insights (and `jq` locally) can filter by field. The context of
 * the invocation being handled (request id, function name) is kept in an AsyncLocalStorage by the function
 * wrappers and added to every line written meanwhile, from `lib/` too, without passing loggers around; child
 * loggers add fields of their own (a task id, a path).
 */

type Level = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

const context = new AsyncLocalStorage<Fields>();

/** Runs `fn` with `fields` on every log line it writes, however deep in `lib/`. */
export function withLogContext<T>(fields: Fields, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

function make(base: Fields): Logger {
  const emit = (level: Level, message: string, fields?: Fields) => {
    let threshold: Level;
    try {
      threshold = getConfig().logLevel;
    } catch {
      threshold = 'info';
    }
    if (rank[level] < rank[threshold]) return;
    const record: Fields = { level, time: new Date().toISOString(), message, ...context.getStore(), ...base };
    for (const [key, value] of Object.entries(fields ?? {})) record[key] = errorFields(value);
    const line = JSON.stringify(record);
    if (level === 'error' || level === 'warn') process.stderr.write(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => make({ ...base, ...fields }),
  };
}

export const logger: Logger = make({ service: 'dane' });
