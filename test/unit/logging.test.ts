import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { serializeError } from '../../lib/logging';

describe('serializeError', () => {
  it('keeps the message, failure type and cause chain that JSON.stringify drops', () => {
    const err = ApplicationFailure.create({ message: 'table x: schema: wrong', type: 'InvalidTableDefinition', cause: new Error('root cause') });
    const out = serializeError(err) as { name: string; message: string; type: string; cause: { message: string } };
    assert.equal(out.name, 'ApplicationFailure');
    assert.equal(out.message, 'table x: schema: wrong');
    assert.equal(out.type, 'InvalidTableDefinition');
    assert.equal(out.cause.message, 'root cause');
    assert.equal(serializeError('plain'), 'plain');
  });
});
