import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config.ts';

describe('config', () => {
  it('has local defaults for every setting', () => {
    const config = parseConfig({});
    expect(config.opensearch.url).toBe('http://127.0.0.1:9200');
    expect(config.opensearch.index).toBe('dane-index');
    expect(config.amqp.url).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(config.amqp.exchange).toBe('DANE-exchange');
    expect(config.amqp.responseQueue).toBe('DANE-response-queue');
    expect(config.amqp.managementUrl).toBe('http://127.0.0.1:15672');
  });

  it('reads values from the environment', () => {
    const config = parseConfig({
      OPENSEARCH_URL: 'https://search.example:443',
      DANE_INDEX: 'dane-index-k8s-asr',
      READY_TIMEOUT_MS: '1500',
      RABBITMQ_MANAGEMENT_URL: '',
    });
    expect(config.opensearch.url).toBe('https://search.example:443');
    expect(config.opensearch.index).toBe('dane-index-k8s-asr');
    expect(config.readyTimeoutMs).toBe(1500);
    expect(config.amqp.managementUrl).toBeUndefined();
  });

  it('reads task leases per key, falling back to the default lease', () => {
    const config = parseConfig({ TASK_LEASE_MS: '60000', TASK_LEASES: 'ASR=43200000,download=600000' });
    expect(config.tasks.leaseMs('ASR')).toBe(43_200_000);
    expect(config.tasks.leaseMs('DOWNLOAD')).toBe(600_000);
    expect(config.tasks.leaseMs('SHOTDETECTION')).toBe(60_000);
    expect(parseConfig({}).tasks.leaseMs('ASR')).toBe(6 * 3_600_000);
  });

  it.each([
    ['TASK_LEASES', 'ASR:10'],
    ['OPENSEARCH_URL', 'not a url'],
    ['AMQP_URL', 'http://127.0.0.1:5672'],
    ['READY_TIMEOUT_MS', 'soon'],
    ['DANE_INDEX', 'Upper-Case'],
    ['LOG_LEVEL', 'loud'],
    ['DANE_EXCHANGE', 'has spaces'],
  ])('rejects a malformed %s, naming it', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(name);
  });
});
