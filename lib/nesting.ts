/**
 * The deepest bracket nesting in a JSON or flow-style YAML text, counted in one pass without parsing. Parsers take
 * seconds on pathological nesting (hundreds of thousands of levels); no Kubernetes object comes near a hundred, so
 * callers refuse such input before parsing it. Brackets inside quoted strings are not counted.
 */
export function maxBracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') {
      depth++;
      if (depth > max) max = depth;
    } else if ((c === '}' || c === ']') && depth > 0) depth--;
  }
  return max;
}

/** The nesting limit for manifests and request bodies. */
export const MAX_NESTING = 100;
