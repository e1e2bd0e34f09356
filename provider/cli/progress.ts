/**
 * Progress of a long operation on stderr, only when stderr is a terminal
 * (piped or captured output stays clean): one line rewritten in place at
 * most every 100 ms, shown only once the operation has run 300 ms, and
 * erased at the end.
 */
import { stderrIsTTY } from "./tty";

export interface Progress {
  update(done: number, total: number, what: string): void;
  end(): void;
}

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const on = (stream === process.stderr ? stderrIsTTY() : !!stream.isTTY) && !process.env.PULUMI_IPAM_NO_PROGRESS;
  const started = Date.now();
  let last = 0, shown = false;
  return {
    update(done, total, what) {
      if (!on) return;
      const now = Date.now();
      if (now - started < 300 || now - last < 100) return;
      last = now;
      shown = true;
      stream.write(`\r\u001b[2K${label}: ${done}/${total} ${what}`);
    },
    end() {
      if (shown) stream.write("\r\u001b[2K");
      shown = false;
    },
  };
}
