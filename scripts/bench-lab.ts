// A lab in a process of its own, for npm run bench: the benchmark drives it over HTTP from
// outside, so the memory this process reports is the lab's alone. Over IPC it answers
// 'measure' (collect garbage twice, then report memory and how many entries its stores hold)
// and 'expire' (move its clock past every lifetime, which sweeps every store).

import { manualClock, startVersion } from './lib/lab.ts';

const clock = manualClock();
const lab = await startVersion(process.argv[2]!, { now: clock.now });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) throw new Error('Start me with fork() and --expose-gc.');

process.on('message', (message) => {
  if (message === 'expire') clock.advance(9 * 60 * 60_000); // past an 8-hour login
  gc();
  gc();
  const held = [...clock.stores].reduce((sum, store) => sum + store.held, 0);
  process.send!({ ...process.memoryUsage(), held });
});
process.on('disconnect', () => void lab.close().then(() => process.exit(0)));
process.send({ urls: lab.urls });
