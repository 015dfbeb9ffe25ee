import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerLabCommands } from '../src/cli/lab-commands.js';
import { LAB_NAME } from '../src/lab/topology.js';
import { cniLabName } from '../src/schemes/cni-file.js';
import { assertUniqueNames, encryptedSchemes, SCHEMES } from '../src/schemes/registry.js';
import { cli, labNamespaces } from './helpers/lab.js';

/**
 * Every command works without --lab: the default lab name is derived from the scheme's name so
 * that it always fits the 1-16 character rule (scheme names such as flannel-udp-encrypted do not).
 * `plan` is pure, so every scheme and --encrypt variant is planned in-process; one spawned CLI run
 * per command checks the real entry point.
 */

/** `cnlab plan ARGS` in-process: the script it prints. */
async function planScript(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerLabCommands(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['plan', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

const bases = encryptedSchemes().map((s) => s.name.replace(/-encrypted$/, ''));

describe('default lab names', () => {
  it('every scheme gets a valid lab name, and no two schemes the same', () => {
    const labs = SCHEMES.map((s) => cniLabName(s.name));
    for (const [i, lab] of labs.entries()) expect([SCHEMES[i].name, LAB_NAME.test(lab)]).toEqual([SCHEMES[i].name, true]);
    expect(new Set(labs).size).toBe(labs.length);
    expect(cniLabName('flannel-udp-encrypted')).toBe('flannel-udp-3004');
  });

  const cases = [
    ...SCHEMES.map((s) => ({ args: [s.name], scheme: s.name })),
    ...bases.map((b) => ({ args: [b, '--encrypt'], scheme: `${b}-encrypted` })),
  ];
  it.each(cases.map((c) => ({ ...c, title: c.args.join(' ') })))('cnlab plan $title works without --lab', async ({ args, scheme }) => {
    const script = await planScript(args);
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(`cnl-${cniLabName(scheme)}-h1`);
  });
});

describe('the registry', () => {
  it('refuses two schemes with one name', () => {
    expect(() => assertUniqueNames([{ name: 'a' }, { name: 'b' }, { name: 'a' }])).toThrow(/two schemes are named "a"/);
    expect(() => assertUniqueNames(SCHEMES)).not.toThrow();
  });
});

describe('the CLI without --lab', () => {
  it('plan weave-sleeve --encrypt (a README example) prints the script', async () => {
    const r = await cli(['plan', 'weave-sleeve', '--encrypt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('cnl-weave-sleev-70a6-h1');
  });

  // The lab name is checked first (it comes first in the topology schema): a bad --hosts is the
  // error only once the derived lab name is valid. Nothing is built either way.
  it.each(['up', 'run'])('%s flannel-udp-encrypted reaches its own validation', async (cmd) => {
    const r = await cli([cmd, 'flannel-udp-encrypted', '--hosts', '0']);
    expect(r.stderr).toMatch(/^cnlab: [^\n]*hosts[^\n]*\n$/);
    expect(r.code).toBe(2);
    expect(labNamespaces('flannel-udp-3004')).toEqual([]);
  });
});
