import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

/**
 * Profiles a whole process when loaded with NODE_OPTIONS=--import=<dist/bench/cpu-profile.js> (NODE_OPTIONS does not
 * accept --cpu-prof) and SKIFF_CPU_PROFILE_DIR set: on exit, writes <dir>/<command>-<pid>.cpuprofile, which Chrome
 * DevTools and speedscope open. The cluster bench runs `skiff up` so, and the daemons it starts inherit it.
 */
const dir = process.env.SKIFF_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // The inspector answers on this thread, so the profile is written before the process goes.
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `${process.argv[2] ?? 'node'}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
