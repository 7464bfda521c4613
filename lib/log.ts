import { getConfig } from './config.ts';

/**
 * One JSON line per event, so CloudWatch Logs Insights (and `jq` locally) can filter by field. Context such as
 * the request id is carried by child loggers, never by globals, because one container serves one request at a
 * time but the sweep and the reply handler log for many tasks in one invocation.
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

function make(base: Fields): Logger {
  const emit = (level: Level, message: string, fields?: Fields) => {
    let threshold: Level;
    try {
      threshold = getConfig().logLevel;
    } catch {
      threshold = 'info';
    }
    if (rank[level] < rank[threshold]) return;
    const record: Fields = { level, time: new Date().toISOString(), message, ...base };
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
