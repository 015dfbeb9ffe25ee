import type { StandIn } from '../../plan/types.js';

/**
 * What cnlab builds in place of a product's own component, declared by the schemes (and by a
 * build when the choice depends on the machine) and carried in every result record. Reports mark
 * every figure of a stand-in with one sign and rank stand-ins apart from real datapaths.
 */

/** cnlab's own encapsulation daemon (src/encap/) in place of flanneld's or Weave's router. */
export const ENCAP_DAEMON: StandIn = {
  what: "cnlab's own userspace encapsulation daemon",
  why: "the product's daemon is not installed here; cnlab's daemon moves packets through the same TUN/TAP device and UDP port, with its own system-call pattern",
};

/** Open vSwitch's userspace datapath (datapath_type=netdev) in place of its kernel module. */
export const OVS_USERSPACE: StandIn = {
  what: "Open vSwitch's userspace datapath (datapath_type=netdev)",
  why: 'no openvswitch kernel module here; the userspace datapath is far slower than the kernel one',
};

/** weave-fastdp without OVS: a Linux bridge and a kernel vxlan device. */
export const BRIDGE_VXLAN: StandIn = {
  what: 'a Linux bridge and a kernel vxlan device',
  why: "no Open vSwitch kernel datapath here for Weave's fast datapath; the packets take the same VXLAN encapsulation",
};

/** Static routes written by the plan in place of a routing daemon (Calico's BIRD). */
export const STATIC_ROUTES: StandIn = {
  what: 'static routes written by the plan',
  why: "the product's BGP daemon is not run; the datapath is the same, the control plane is not",
};
