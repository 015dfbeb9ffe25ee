import { spawn, type ChildProcess } from 'node:child_process';

/**
 * One long-lived `ip -force -batch -` (or `bridge …`) in the agent's namespace, fed lines as the
 * leases change. iproute2 reads its batch input a line at a time and programs each as it arrives,
 * so a lease event costs a pipe write instead of a process start: at 50 hosts a new lease reached
 * 49 agents at once, and their 98 process starts (≈ 9 ms each) queued on two cores.
 * Lines are applied in the order written; each failed line is logged (the rest still run, -force).
 * The process ends when the agent does (its stdin closes), and is started again if it died.
 */
export class BatchProcess {
  private child: ChildProcess | null = null;

  constructor(
    private readonly tool: 'ip' | 'bridge',
    private readonly log: (line: string) => void,
  ) {}

  send(lines: string[]): void {
    if (!lines.length) return;
    const child = this.child ?? this.start();
    child.stdin!.write(`${lines.join('\n')}\n`);
  }

  private start(): ChildProcess {
    const child = spawn(this.tool, ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      let nl: number;
      while ((nl = err.indexOf('\n')) >= 0) {
        const line = err.slice(0, nl).trim();
        err = err.slice(nl + 1);
        if (line && !line.startsWith('Command failed')) this.log(`${this.tool}: ${line}`);
      }
    });
    child.stdin!.on('error', (e) => this.log(`${this.tool} batch: ${e.message}`));
    child.on('error', (e) => this.log(`${this.tool} batch: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (!this.closing) this.log(`${this.tool} batch ended (${signal ?? `exit ${code}`}); started again on the next change`);
    });
    this.child = child;
    return child;
  }

  private closing = false;
  close(): void {
    this.closing = true;
    this.child?.stdin?.end();
  }
}
