import type { KindPrinter } from '../table.js';
import { humanDuration } from '../table.js';
import {
  ageCol,
  ageOf,
  arr,
  col,
  containersCol,
  formatLabelSelector,
  imagesCol,
  int,
  layoutContainerCells,
  nameCol,
  nameOf,
  optInt,
  optStr,
  printBoolPtr,
  rec,
  recs,
  since,
  spec,
  status,
  str,
  timeMs,
  type Obj,
} from './common.js';

/** batch/v1 kinds: jobs and cron jobs. */

const JOB_SELECTOR_DOC =
  'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';

function hasJobCondition(st: Obj, type: string): boolean {
  // The first condition of the type decides.
  const c = recs(st.conditions).find((x) => x.type === type);
  return c !== undefined && c.status === 'True';
}

export const jobPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.'),
    col('Duration', 'string', 'Time required to complete the job.'),
    ageCol(),
    containersCol(),
    imagesCol(),
    col('Selector', 'string', JOB_SELECTOR_DOC, 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const succeeded = int(st.succeeded);
    const completions = optInt(sp.completions);
    let completionsStr: string;
    if (completions !== undefined) {
      completionsStr = `${succeeded}/${completions}`;
    } else {
      const parallelism = optInt(sp.parallelism) ?? 0;
      completionsStr = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
    }

    const start = timeMs(st.startTime);
    const completion = timeMs(st.completionTime);
    let duration = '';
    if (start !== undefined) duration = completion === undefined ? humanDuration(now.getTime() - start) : humanDuration(completion - start);

    let jobStatus: string;
    if (hasJobCondition(st, 'Complete')) jobStatus = 'Complete';
    else if (hasJobCondition(st, 'Failed')) jobStatus = 'Failed';
    else if (o.metadata.deletionTimestamp) jobStatus = 'Terminating';
    else if (hasJobCondition(st, 'Suspended')) jobStatus = 'Suspended';
    else if (hasJobCondition(st, 'FailureTarget')) jobStatus = 'FailureTarget';
    else jobStatus = 'Running';

    const [names, images] = layoutContainerCells(rec(rec(sp.template).spec).containers);
    return [nameOf(o), jobStatus, completionsStr, duration, ageOf(o, now), names, images, formatLabelSelector(sp.selector)];
  },
};

export const cronJobPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones'),
    col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
    col('Active', 'integer', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    ageCol(),
    containersCol(),
    imagesCol(),
    col('Selector', 'string', JOB_SELECTOR_DOC, 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const lastSchedule = st.lastScheduleTime !== undefined && st.lastScheduleTime !== null ? since(st.lastScheduleTime, now) : '<none>';
    const timeZone = optStr(sp.timeZone) ?? '<none>';
    // suspend defaults to false when a CronJob is written.
    const suspend = printBoolPtr(typeof sp.suspend === 'boolean' ? sp.suspend : false);
    const jobSpec = rec(rec(sp.jobTemplate).spec);
    const [names, images] = layoutContainerCells(rec(rec(jobSpec.template).spec).containers);
    return [nameOf(o), str(sp.schedule), timeZone, suspend, arr(st.active).length, lastSchedule, ageOf(o, now), names, images, formatLabelSelector(jobSpec.selector)];
  },
};
