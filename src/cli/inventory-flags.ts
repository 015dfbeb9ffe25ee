import type { Command } from 'commander';
import type { OnHosts } from '../apply/up.js';
import { InputError } from '../errors.js';
import { loadInventory } from '../remote/inventory.js';

/** `-i hosts.yaml` on up and run: the lab spans the user's own hosts (README "On your own hosts"). */
export function addInventoryFlags(cmd: Command): Command {
  return cmd
    .option('-i, --inventory <file>', "build on your own hosts over SSH (hosts.yaml; see README 'On your own hosts')")
    .option('--i-know-it-is-the-ssh-nic', 'with -i: accept a nic that carries the SSH connection');
}

/** Loads the inventory (validated, nothing contacted) and sets the topology's host count from it. */
export function inventoryFromFlags(o: Record<string, unknown>): OnHosts | undefined {
  if (o.inventory === undefined) {
    if (o.iKnowItIsTheSshNic) throw new InputError('--i-know-it-is-the-ssh-nic goes with -i/--inventory');
    return undefined;
  }
  if (o.hosts !== undefined) throw new InputError('--hosts and -i: with an inventory, its hosts are the lab hosts');
  if (o.linkRate !== undefined) throw new InputError('--link-rate emulates a NIC on one box; with -i the NICs are real');
  const inventory = loadInventory(String(o.inventory));
  if (inventory.hosts.length < 2) throw new InputError(`${inventory.source}: a lab needs at least 2 hosts, the inventory lists 1`);
  o.hosts = String(inventory.hosts.length);
  return { inventory, allowSshNic: o.iKnowItIsTheSshNic === true };
}
