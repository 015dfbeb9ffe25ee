import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { KEY_LEN, MAX_EPOCH } from './aead.js';

/** The lab's key (generated at `up`, mode 0600, in the lab's state directory only) and each daemon's epoch. */

/** Write a fresh random key as hex; refuses to overwrite (O_EXCL). */
export function generateKeyFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(KEY_LEN).toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
}

export function readKeyFile(file: string): Buffer {
  const text = readFileSync(file, 'utf8').trim();
  if (!new RegExp(`^[0-9a-f]{${KEY_LEN * 2}}$`).test(text)) throw new Error(`${file} is not a ${KEY_LEN}-byte hex key`);
  return Buffer.from(text, 'hex');
}

/**
 * The next epoch for this daemon: one more than the last one recorded in `file`, recorded before
 * it is used, so that no two starts under one key share an epoch (and so a nonce).
 */
export function nextEpoch(file: string): number {
  let last = 0;
  try {
    last = Number(readFileSync(file, 'utf8').trim());
  } catch {
    /* first start */
  }
  if (!Number.isInteger(last) || last < 0) throw new Error(`${file} does not hold an epoch`);
  if (last >= MAX_EPOCH) throw new Error(`no epoch left under this key (${file}): rebuild the lab`);
  const next = last + 1;
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${next}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return next;
}
