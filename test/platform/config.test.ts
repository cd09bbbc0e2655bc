import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.ts';

describe('configuration', () => {
  it('has safe local defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.ECOC_API_PORT).toBe(3000);
    expect(config.ECOC_API_HOST).toBe('127.0.0.1');
    expect(config.ECOC_TEMPORAL_UI_PORT).toBe(8233);
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.ECOC_REVIEW_ESCALATE_AFTER).toBe(48 * 3_600_000);
    expect(config.ECOC_REVIEW_EXPIRE_AFTER).toBe(7 * 86_400_000);
  });

  it('parses durations down to seconds for tests', () => {
    expect(loadConfig({ ECOC_REVIEW_ESCALATE_AFTER: '2s', ECOC_REVIEW_EXPIRE_AFTER: '500ms' })).toMatchObject({
      ECOC_REVIEW_ESCALATE_AFTER: 2_000,
      ECOC_REVIEW_EXPIRE_AFTER: 500,
    });
  });

  it('names every invalid variable and the value it got', () => {
    let error: unknown;
    try {
      loadConfig({ ECOC_API_PORT: 'eighty', TEMPORAL_ADDRESS: 'localhost', DATABASE_URL: 'mysql://x', ECOC_REVIEW_EXPIRE_AFTER: '3 weeks' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/ECOC_API_PORT: .*\(got "eighty"\)/);
    expect(message).toMatch(/TEMPORAL_ADDRESS: expected host:port \(got "localhost"\)/);
    expect(message).toMatch(/DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\/ \(got "mysql:\/\/x"\)/);
    expect(message).toMatch(/ECOC_REVIEW_EXPIRE_AFTER: expected a duration/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', ECOC_API_PORT: '' }).ECOC_API_PORT).toBe(3000);
  });
});
