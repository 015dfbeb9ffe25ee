#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { oneLine } from '../errors.js';
import { FlannelAgent, parseAgentArgs } from './agent.js';

/**
 * cnlab's flannel agent's entry point (cnlab starts it in a host's namespace; not a user command):
 *   main.js --etcd URL --public-ip IP --subnet CIDR --network CIDR --backend vxlan|host-gw --dev DEV
 *           [--vni N --vtep-mac MAC] --mtu N [--ttl S] --dir DIR
 * Runs until SIGTERM/SIGINT. It leaves its lease in etcd when it stops, as flanneld does.
 */

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

try {
  const cfg = parseAgentArgs(process.argv.slice(2));
  mkdirSync(cfg.dir, { recursive: true, mode: 0o700 });
  const agent = new FlannelAgent(cfg, log);
  const stop = () => {
    log('stopping');
    agent.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  agent.run().catch((e: Error) => {
    log(`fatal: ${oneLine(e)}`);
    process.exit(1);
  });
} catch (e) {
  process.stderr.write(`cnlab flannel agent: ${oneLine(e)}\n`);
  process.exit(2);
}
