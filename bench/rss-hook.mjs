// node --import ./bench/rss-hook.mjs <script>: prints the process's peak RSS as a @@RESULT line on exit
// (used to measure the real CLI, bin/trackhub-gen.mjs, without touching it).
import { writeSync } from 'node:fs';

const t0 = performance.now();
process.on('exit', (code) => {
  const ru = process.resourceUsage();
  writeSync(2, `\n@@RESULT ${JSON.stringify({ exitCode: code, inProcessMs: performance.now() - t0, maxRssMb: +(ru.maxRSS / 1024).toFixed(1) })}\n`);
});
