import { describe, expect, it } from 'vitest';
import { exitStatus, parseRemoteCommandOptions, successStatus } from '../../../../agent/server/remotecommand.js';

describe('remotecommand options and statuses', () => {
  it("reads the kubelet's input/output/error/tty parameters (and kubectl's spellings), a tty merging stderr", () => {
    expect(parseRemoteCommandOptions(new URLSearchParams('command=sh&command=-c&command=echo hi&input=1&output=1&error=1'))).toEqual({ command: ['sh', '-c', 'echo hi'], stdin: true, stdout: true, stderr: true, tty: false });
    expect(parseRemoteCommandOptions(new URLSearchParams('command=sh&stdin=true&stdout=true&stderr=true&tty=true'))).toEqual({ command: ['sh'], stdin: true, stdout: true, stderr: false, tty: true });
    expect(parseRemoteCommandOptions(new URLSearchParams('command=ls'))).toEqual({ error: 'you must specify at least 1 of stdin, stdout, stderr' });
  });

  it('ends with Success, or a NonZeroExitCode Status with the code as an ExitCode cause', () => {
    expect(successStatus()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
    expect(exitStatus(['sh', '-c', 'exit 3'], 3)).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  });
});
