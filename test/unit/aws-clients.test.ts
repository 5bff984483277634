import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochSecondsFromLocalEndpoint } from '../../lib/aws/clients';

describe('epochSecondsFromLocalEndpoint', () => {
  it('turns ISO timestamp fields into epoch seconds, leaving nulls, other strings and numbers alone', () => {
    const body = '{"Task": {"ReplicationTaskCreationDate": "2026-11-23T13:48:01.272645", "StopDate": null, "Status": "2026-11-23T13:48:01", "InstanceCreateTime": "2026-11-23T00:00:00+07:00", "ElapsedTimeMillis": 100}}';
    const parsed = JSON.parse(epochSecondsFromLocalEndpoint(body)) as { Task: Record<string, unknown> };
    assert.equal(parsed.Task.ReplicationTaskCreationDate, Date.parse('2026-11-23T13:48:01.272Z') / 1000);
    assert.equal(parsed.Task.StopDate, null);
    assert.equal(parsed.Task.Status, '2026-11-23T13:48:01');
    assert.equal(parsed.Task.InstanceCreateTime, Date.parse('2026-11-22T17:00:00Z') / 1000);
    assert.equal(parsed.Task.ElapsedTimeMillis, 100);
  });
});
