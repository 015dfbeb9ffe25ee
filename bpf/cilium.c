// SPDX-License-Identifier: GPL-2.0
/*
 * cnlab's Cilium-style datapath: two tc programs in direct-action mode, sharing pinned maps.
 * Modelled on Cilium's bpf_lxc.c (from-container) and bpf_host.c (from-netdev) in spirit; written
 * for cnlab, much smaller: IPv4 only, no policy, no NAT, no conntrack.
 *
 *   from-container  tc ingress of each workload's host-side veth (lxc*): what the container sends.
 *                   Local endpoint  -> rewrite MACs, TTL-1, bpf_redirect_peer into its namespace.
 *                   Remote, native  -> bpf_fib_lookup, then bpf_redirect (neighbour known) or
 *                                      bpf_redirect_neigh (let the kernel resolve it).
 *                   Remote, tunnel  -> bpf_skb_set_tunnel_key + bpf_redirect to the collect-metadata
 *                                      VXLAN device, the peer's VTEP from the tunnel map.
 *   from-netdev     tc ingress of the underlay port (and of the VXLAN device in tunnel mode):
 *                   local endpoint -> bpf_redirect_peer; anything else -> the stack.
 *
 * config.mode = MODE_LEGACY makes both return TC_ACT_OK: Cilium's "legacy host routing", where
 * the host's IP stack forwards. Every verdict is counted in a per-CPU array, one per program.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET
#define AF_INET 2
#endif

#define MODE_REDIRECT 0
#define MODE_LEGACY 1
#define MODE_TUNNEL 2

/* Verdict slots of the stats maps (src/schemes/parts/bpf-counters.ts names them). */
enum verdict {
	V_PEER = 0,   /* bpf_redirect_peer into a local container */
	V_FIB = 1,    /* bpf_fib_lookup + bpf_redirect */
	V_NEIGH = 2,  /* bpf_fib_lookup + bpf_redirect_neigh */
	V_TUNNEL = 3, /* bpf_skb_set_tunnel_key + bpf_redirect to the VXLAN device */
	V_PASS = 4,   /* TC_ACT_OK: the host stack takes it */
	V_DROP = 5,   /* TC_ACT_SHOT */
	V_MAX = 8,
};

struct endpoint {
	__u32 ifindex;     /* host-side veth, in the host namespace */
	__u8 mac[6];       /* the container's eth0 */
	__u8 node_mac[6];  /* the host-side veth */
};

struct tunnel_key4 {
	__u32 prefixlen;
	__u32 addr; /* network order */
};

struct tunnel {
	__u32 vtep;     /* peer host's underlay address, network order */
	__u8 mac[6];    /* the peer's VXLAN device */
	__u16 pad;
};

struct config {
	__u32 mode;
	__u32 vxlan_ifindex;
	__u32 vni;
	__u8 vxlan_mac[6];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct tunnel_key4);
	__type(value, struct tunnel);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tunnels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, V_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats_container SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, V_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats_netdev SEC(".maps");

#define IP_OFF ETH_HLEN
#define TTL_OFF (IP_OFF + offsetof(struct iphdr, ttl))
#define CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))

static __always_inline int count(void *stats, __u32 v, int ret)
{
	__u64 *n = bpf_map_lookup_elem(stats, &v);
	if (n)
		*n += 1;
	return ret;
}

static __always_inline __u32 mode_of(struct config **cfg)
{
	__u32 zero = 0;
	*cfg = bpf_map_lookup_elem(&config, &zero);
	return *cfg ? (*cfg)->mode : MODE_REDIRECT;
}

/* The IPv4 header after the Ethernet header, or NULL. */
static __always_inline struct iphdr *ipv4_of(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		return NULL;
	return ip;
}

/* A router's hop: TTL-1 with the header checksum fixed; false when the TTL runs out. */
static __always_inline int ttl_dec(struct __sk_buff *skb, struct iphdr *ip)
{
	__u8 ttl = ip->ttl;
	__u16 old, new;

	if (ttl <= 1)
		return 0;
	old = bpf_htons((__u16)ttl << 8);
	new = bpf_htons((__u16)(ttl - 1) << 8);
	bpf_l3_csum_replace(skb, CSUM_OFF, old, new, 2);
	ttl--;
	bpf_skb_store_bytes(skb, TTL_OFF, &ttl, 1, 0);
	return 1;
}

static __always_inline int set_macs(struct __sk_buff *skb, const __u8 *dst, const __u8 *src)
{
	if (bpf_skb_store_bytes(skb, 0, dst, ETH_ALEN, 0) < 0)
		return 0;
	return bpf_skb_store_bytes(skb, ETH_ALEN, src, ETH_ALEN, 0) == 0;
}

/* Deliver to a local container: its MACs, one hop, straight into its namespace's ingress. */
static __always_inline int to_endpoint(struct __sk_buff *skb, struct iphdr *ip, struct endpoint *ep, void *stats)
{
	if (!ttl_dec(skb, ip))
		return count(stats, V_PASS, TC_ACT_OK); /* let the stack send the ICMP time exceeded */
	if (!set_macs(skb, ep->mac, ep->node_mac))
		return count(stats, V_DROP, TC_ACT_SHOT);
	return count(stats, V_PEER, bpf_redirect_peer(ep->ifindex, 0));
}

static __always_inline int to_tunnel(struct __sk_buff *skb, struct iphdr *ip, struct config *cfg, void *stats)
{
	struct tunnel_key4 k = { .prefixlen = 32, .addr = ip->daddr };
	struct bpf_tunnel_key key = {};
	struct tunnel *t = bpf_map_lookup_elem(&tunnels, &k);

	if (!t)
		return count(stats, V_PASS, TC_ACT_OK);
	if (!ttl_dec(skb, ip))
		return count(stats, V_PASS, TC_ACT_OK);
	key.remote_ipv4 = bpf_ntohl(t->vtep);
	key.tunnel_id = cfg->vni;
	key.tunnel_ttl = 64;
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_ZERO_CSUM_TX) < 0)
		return count(stats, V_DROP, TC_ACT_SHOT);
	/* The peer's VXLAN device must see its own MAC, or its stack calls the frame OTHERHOST. */
	if (!set_macs(skb, t->mac, cfg->vxlan_mac))
		return count(stats, V_DROP, TC_ACT_SHOT);
	return count(stats, V_TUNNEL, bpf_redirect(cfg->vxlan_ifindex, 0));
}

static __always_inline int to_fib(struct __sk_buff *skb, struct iphdr *ip, void *stats)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib.family = AF_INET;
	fib.l4_protocol = ip->protocol;
	/* tot_len 0: the kernel checks the MTU with is_skb_forwardable(), which knows GSO packets
	 * (a 64 KB TCP super-packet's tot_len would fail the plain length check). */
	fib.tot_len = 0;
	fib.tos = ip->tos;
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = skb->ingress_ifindex;

	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (!ttl_dec(skb, ip))
			return count(stats, V_PASS, TC_ACT_OK);
		if (!set_macs(skb, fib.dmac, fib.smac))
			return count(stats, V_DROP, TC_ACT_SHOT);
		return count(stats, V_FIB, bpf_redirect(fib.ifindex, 0));
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };

		if (!ttl_dec(skb, ip))
			return count(stats, V_PASS, TC_ACT_OK);
		return count(stats, V_NEIGH, bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0));
	}
	/* Local to the host, unroutable, or needs fragmenting: the stack decides. */
	return count(stats, V_PASS, TC_ACT_OK);
}

SEC("from-container")
int from_container(struct __sk_buff *skb)
{
	struct config *cfg;
	__u32 mode = mode_of(&cfg);
	struct iphdr *ip = ipv4_of(skb);
	struct endpoint *ep;

	if (!ip || mode == MODE_LEGACY)
		return count(&stats_container, V_PASS, TC_ACT_OK);
	ep = bpf_map_lookup_elem(&endpoints, &ip->daddr);
	if (ep)
		return to_endpoint(skb, ip, ep, &stats_container);
	if (mode == MODE_TUNNEL && cfg)
		return to_tunnel(skb, ip, cfg, &stats_container);
	return to_fib(skb, ip, &stats_container);
}

SEC("from-netdev")
int from_netdev(struct __sk_buff *skb)
{
	struct config *cfg;
	__u32 mode = mode_of(&cfg);
	struct iphdr *ip = ipv4_of(skb);
	struct endpoint *ep;

	if (!ip || mode == MODE_LEGACY)
		return count(&stats_netdev, V_PASS, TC_ACT_OK);
	ep = bpf_map_lookup_elem(&endpoints, &ip->daddr);
	if (!ep)
		return count(&stats_netdev, V_PASS, TC_ACT_OK);
	return to_endpoint(skb, ip, ep, &stats_netdev);
}

char _license[] SEC("license") = "GPL";
