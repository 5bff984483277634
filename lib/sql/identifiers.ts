// The one SQL identifier module. Two kinds of names reach SQL:
//   - our own (control-plane rows we named, warehouse models, lake names, CLI flags): validated
//     against a conservative pattern first and then quoted for the dialect (quoteIdent);
//   - a source's own schema, table and column names, which may hold anything the source allows
//     (`"Dispensed By"`, a backtick in a MySQL name; issue 12): quoted with the dialect's escaping
//     and never validated against our pattern (quoteSourceIdent).
export type SqlDialect = 'postgres' | 'mysql';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export function isValidIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

export function quoteIdent(name: string, dialect: SqlDialect = 'postgres'): string {
  if (!isValidIdentifier(name)) {
    throw new Error(`not a valid SQL identifier: ${JSON.stringify(name)} (letters, digits, _ and $; at most 63 characters)`);
  }
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/** schema.table, each part quoted. */
export function quoteQualified(schema: string, table: string, dialect: SqlDialect = 'postgres'): string {
  return `${quoteIdent(schema, dialect)}.${quoteIdent(table, dialect)}`;
}

/** An identifier as a string literal, to compare with catalog columns (pg_class.relname); validated as quoteIdent does. */
export function identifierLiteral(name: string): string {
  quoteIdent(name);
  return `'${name}'`;
}

/**
 * A name as the source spells it: PostgreSQL double quotes with `"` doubled, MySQL/MariaDB backticks
 * with `` ` `` doubled. Neither engine allows an empty name or a NUL in one, so those are refused
 * rather than quoted into something the source would reject less clearly.
 */
export function quoteSourceIdent(name: string, dialect: SqlDialect): string {
  if (name.length === 0 || name.includes('\u0000')) {
    throw new Error(`not a source identifier: ${JSON.stringify(name)} (empty, or holds a NUL)`);
  }
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

/** A source's schema.table, each part quoted as the source spells it. */
export function quoteSourceQualified(schema: string, table: string, dialect: SqlDialect): string {
  return `${quoteSourceIdent(schema, dialect)}.${quoteSourceIdent(table, dialect)}`;
}
