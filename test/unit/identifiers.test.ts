import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteIdent, quoteQualified } from '../../lib/sql/identifiers';

describe('quoteIdent', () => {
  it('quotes for each dialect', () => {
    assert.equal(quoteIdent('lab_orders'), '"lab_orders"');
    assert.equal(quoteIdent('lab_orders', 'mysql'), '`lab_orders`');
    assert.equal(quoteQualified('public', 'Lab'), '"public"."Lab"');
  });

  it('refuses anything that could escape the quotes', () => {
    for (const bad of ['a"b', 'a`b', 'x; drop table t', '', '1abc', 'a'.repeat(64)]) {
      assert.throws(() => quoteIdent(bad), /not a valid SQL identifier/, bad);
    }
  });
});
