/**
 * Label and field selectors: the query-string syntax (`app=web,tier!=db,env in (a,b),!canary`) and the structured
 * LabelSelector of specs (matchLabels + matchExpressions), compiled to one matcher shape.
 */

export type Operator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export class SelectorError extends Error {}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, source: string): string {
  if (!KEY.test(key) || key.length > 317) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${source}"`);
  return key;
}

function checkValue(value: string, source: string): string {
  if (value.length > 63 || !VALUE.test(value)) throw new SelectorError(`unable to parse requirement: invalid label value: "${value}" in "${source}"`);
  return value;
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses a label selector as `?labelSelector=` and `kubectl -l` write it. An empty string selects everything. */
export function parseLabelSelector(text: string): Requirement[] {
  const source = text;
  if (text.length > 10_000) throw new SelectorError('label selector is too long');
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const reqs: Requirement[] = [];
  for (const raw of splitTerms(trimmed)) {
    const term = raw.trim();
    if (term === '') throw new SelectorError(`found '', expected: identifier in "${source}"`);
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s=!(),]+)$/.exec(term))) {
      reqs.push({ key: checkKey(m[1] as string, source), operator: 'DoesNotExist', values: [] });
    } else if ((m = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term))) {
      const values = (m[3] as string).split(',').map((v) => checkValue(v.trim(), source));
      if (values.length === 1 && values[0] === '' && (m[3] as string).trim() === '') throw new SelectorError(`for 'in', 'notin' operators, values set can't be empty in "${source}"`);
      reqs.push({ key: checkKey(m[1] as string, source), operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(term))) {
      reqs.push({ key: checkKey(m[1] as string, source), operator: m[2] === '!=' ? 'NotEquals' : 'Equals', values: [checkValue(m[3] as string, source)] });
    } else if ((m = /^([^\s=!(),]+)$/.exec(term))) {
      reqs.push({ key: checkKey(m[1] as string, source), operator: 'Exists', values: [] });
    } else {
      throw new SelectorError(`unable to parse requirement: "${term}" in "${source}"`);
    }
  }
  return reqs;
}

export function matchesLabels(reqs: readonly Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.operator) {
      case 'Equals':
        return has && v === r.values[0];
      case 'NotEquals':
        return !has || v !== r.values[0];
      case 'In':
        return has && r.values.includes(v as string);
      case 'NotIn':
        return !has || !r.values.includes(v as string);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
    return false;
  });
}

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/**
 * The structured selector of a Deployment, Service (matchLabels only), PDB ... as requirements. An empty selector
 * matches everything; `null`/undefined matches nothing, as upstream's LabelSelectorAsSelector.
 */
export function selectorFromSpec(spec: LabelSelectorSpec | undefined | null): Requirement[] | 'nothing' {
  if (!spec) return 'nothing';
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(spec.matchLabels ?? {})) reqs.push({ key, operator: 'Equals', values: [value] });
  for (const e of spec.matchExpressions ?? []) {
    const op = e.operator as Operator;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(op)) throw new SelectorError(`"${e.operator}" is not a valid label selector operator`);
    reqs.push({ key: e.key, operator: op, values: e.values ?? [] });
  }
  return reqs;
}

export function formatSelector(reqs: readonly Requirement[]): string {
  return reqs
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0]}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0]}`;
        case 'In':
          return `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${[...r.values].sort().join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
      return '';
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  operator: 'Equals' | 'NotEquals';
  value: string;
}

/** Parses `?fieldSelector=` (`metadata.name=web,status.phase!=Running`); only =, == and != exist for fields. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((term) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    return { field: m[1] as string, operator: m[2] === '!=' ? 'NotEquals' : 'Equals', value: m[3] as string };
  });
}

export function matchesFields(reqs: readonly FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => (r.operator === 'Equals' ? fields[r.field] === r.value : fields[r.field] !== r.value));
}
