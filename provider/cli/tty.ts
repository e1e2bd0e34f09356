/**
 * Whether stdout / stderr are terminals, also inside the worker thread a
 * read command runs in (command.ts), whose own streams are pipes to the
 * main thread: the main thread says what its streams are.
 */
import { isMainThread, workerData } from "node:worker_threads";

interface Ttys { stdout: boolean; stderr: boolean }

const inherited = (): Ttys | undefined => (isMainThread ? undefined : (workerData as { ttys?: Ttys } | undefined)?.ttys);

export const stdoutIsTTY = (): boolean => inherited()?.stdout ?? !!process.stdout.isTTY;
export const stderrIsTTY = (): boolean => inherited()?.stderr ?? !!process.stderr.isTTY;
export const currentTtys = (): Ttys => ({ stdout: stdoutIsTTY(), stderr: stderrIsTTY() });
