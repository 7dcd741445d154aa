import { describe, expect, it } from 'vitest';
import { hostAliasEntries } from '../../../../agent/runtime/docker.js';
import { c, makePod } from '../kuberuntime/fixtures.js';

describe('hostAliasEntries (spec.hostAliases as Docker ExtraHosts)', () => {
  it('gives one entry per IP, its hostnames tab-separated, so Docker writes the line upstream writes', () => {
    const pod = makePod({
      containers: [c('app')],
      hostAliases: [
        { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
        { ip: '10.1.2.3', hostnames: ['foo.remote'] },
        { ip: 'fd00::1', hostnames: ['v6.remote'] },
      ],
    });
    expect(hostAliasEntries(pod)).toEqual(['foo.local\tbar.local:127.0.0.1', 'foo.remote:10.1.2.3', 'v6.remote:fd00::1']);
  });

  it('is empty without hostAliases', () => {
    expect(hostAliasEntries(makePod({ containers: [c('app')] }))).toEqual([]);
  });
});
