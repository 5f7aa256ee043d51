// What the bench's tools need to know of a service process they start: Node's flags, and the CPU
// time it has used.
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');

/** Node's flags for the service, as `npm run start:prod` passes them (its memory bounds), unless `override` (a flag string) is given. */
function serviceNodeFlags(override) {
  const flags =
    override ??
    /node (.*) dist\/main\.js/
      .exec(require('../package.json').scripts['start:prod'])[1]
      .replace(/\$\{(\w+):-([^}]*)\}/g, (_, name, dflt) => process.env[name] || dflt);
  return flags.split(' ').filter(Boolean);
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system) the process has used so far, in ms, from /proc/<pid>/stat; throws once it has exited. */
function processCpuMs(pid) {
  // fields after the command name, which is in parentheses and may hold spaces
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND; // utime, stime (fields 14 and 15 of stat)
}

module.exports = { serviceNodeFlags, processCpuMs };
