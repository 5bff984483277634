// The one SQL identifier quoter. Identifiers come from control-plane rows and CLI flags, so they are
// validated against a conservative pattern first and then quoted for the dialect.
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
