import { sql, type RawBuilder } from 'kysely';

/**
 * A constant list of the domain's (its statuses) as a parenthesised SQL list of literals, for raw
 * SQL: `a.status in ${sqlList(PLACED_STATUSES)}`. The statement follows the domain's constant, so a
 * status added there cannot be missed here. Literals rather than a parameter, so the statement's text,
 * and the planner's matching of it against the partial indexes, stay what they were when the list was
 * written out. Migrations keep their literal lists: they are history, and must build what they built
 * when they were written, whatever the constants become.
 */
export function sqlList(values: readonly string[]): RawBuilder<unknown> {
  return sql`(${sql.join(values.map((value) => sql.lit(value)))})`;
}
