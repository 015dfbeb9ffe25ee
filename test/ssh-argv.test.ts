import { describe, expect, it } from 'vitest';
import { LOCAL, runOk } from '../src/util/executor.js';
import { controlPath, remoteArgv, sshArgv, sshControlArgv, sshFailure, type SshHost } from '../src/remote/ssh.js';

/** The SSH transport's argument arrays (no ssh is run here; the fixture test runs them for real). */

const A: SshHost = { name: 'a', ssh: 'root@host-a', port: 22, sudo: false };
const B: SshHost = { name: 'b', ssh: 'ops@host-b', port: 2222, sudo: true, key: '/keys/lab' };
const CFG = { controlDir: '/run/cnlab/lab1' };

describe('sshArgv', () => {
  it('builds one array: options, --, destination, one quoted command', () => {
    expect(sshArgv(A, CFG, ['ip', '-batch', '-'])).toEqual([
      '-T',
      '-x',
      '-a',
      '-p',
      '22',
      '-o',
      'BatchMode=yes',
      '-o',
      'ControlMaster=auto',
      '-o',
      'ControlPath=/run/cnlab/lab1/ssh-%C',
      '-o',
      'ControlPersist=60',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'ServerAliveInterval=5',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'LogLevel=ERROR',
      '--',
      'root@host-a',
      'ip -batch -',
    ]);
  });

  it('adds port, key (only that key), sudo -n and an ssh_config', () => {
    const argv = sshArgv(B, { ...CFG, configFile: '/inv/ssh.conf', persistSec: 5 }, ['nft', '-f', '-']);
    expect(argv.slice(0, 2)).toEqual(['-F', '/inv/ssh.conf']);
    expect(argv.join(' ')).toContain('-p 2222 -i /keys/lab -o IdentitiesOnly=yes');
    expect(argv).toContain('ControlPersist=5');
    expect(argv.slice(-3)).toEqual(['--', 'ops@host-b', 'sudo -n -- nft -f -']);
  });

  it('passes the remote command as ONE argument, hostile parts quoted', () => {
    const argv = sshArgv(A, CFG, ['ip', 'link', 'add', "x'; reboot; '", 'type', '$(id)']);
    expect(argv.at(-1)).toBe(`ip link add 'x'\\''; reboot; '\\''' type '$(id)'`);
    expect(argv.indexOf('--')).toBe(argv.length - 3);
  });

  it('never lets a command become an ssh option', () => {
    const argv = sshArgv(A, CFG, ['-oProxyCommand=touch /tmp/x']);
    expect(argv.at(-1)).toBe("'-oProxyCommand=touch /tmp/x'");
    expect(argv.at(-3)).toBe('--');
  });

  it('refuses a NUL instead of sending a truncated command', () => {
    expect(() => sshArgv(A, CFG, ['echo', 'a\0b'])).toThrow(/NUL/);
  });

  it('sudo goes in front of the argv, not the string', () => {
    expect(remoteArgv({ sudo: true }, ['ip', 'a'])).toEqual(['sudo', '-n', '--', 'ip', 'a']);
    expect(remoteArgv({ sudo: false }, ['ip', 'a'])).toEqual(['ip', 'a']);
  });
});

describe('control master', () => {
  it('-O exit / check address the same socket', () => {
    const exit = sshControlArgv(A, CFG, 'exit');
    expect(exit.slice(-4)).toEqual(['-O', 'exit', '--', 'root@host-a']);
    expect(exit).toContain('ControlPath=/run/cnlab/lab1/ssh-%C');
  });

  it('refuses a socket directory too long for sun_path', () => {
    expect(() => controlPath(`/${'x'.repeat(70)}`)).toThrow(/too long/);
    expect(controlPath('/run/cnlab/lab1')).toBe('/run/cnlab/lab1/ssh-%C');
  });
});

describe('sshFailure', () => {
  it('names the host for a lost or refused connection (exit 255)', () => {
    const res = { code: 255, signal: null, stdout: '', stderr: 'ssh: connect to host host-a port 22: Connection refused\r\n' };
    expect(sshFailure(A, res)).toBe('host a (root@host-a): ssh: connect to host host-a port 22: Connection refused');
  });

  it('leaves a remote command failure to the caller', () => {
    expect(sshFailure(A, { code: 1, signal: null, stdout: '', stderr: 'RTNETLINK answers: File exists' })).toBeNull();
  });
});

describe('LOCAL executor', () => {
  it('is execArgs on this machine', async () => {
    const r = await LOCAL.run(['printf', '%s|', 'a b', '$(id)'], {});
    expect(r).toMatchObject({ code: 0, stdout: 'a b|$(id)|' });
  });

  it('runOk names the command on failure', async () => {
    await expect(runOk(LOCAL, ['sh', '-c', 'echo nope >&2; exit 3'])).rejects.toThrow(/sh -c .*: nope/);
  });
});
