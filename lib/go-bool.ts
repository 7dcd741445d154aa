/**
 * A boolean flag's value as Go's strconv.ParseBool reads it (the spellings every upstream flag accepts: 1, t, T,
 * true, TRUE, True and their false counterparts); undefined for anything else.
 */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return undefined;
}
