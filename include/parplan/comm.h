/*
 * comm.h - alpha-beta times of collectives on a hardware profile.
 *
 * A group is n ranks spaced @stride apart in the global rank order (Megatron: t innermost, then
 * d, then p), so a tensor-parallel group has stride 1, a data-parallel group stride t and a
 * pipeline neighbour is t*d away.  Ranks fill scale-up domains in aligned blocks of D devices
 * (pp_hw_domain_block: the node in a DGX, 64 of an NVL72 rack's 72).  A group whose members all
 * sit in one block uses the intra (NVLink / Infinity Fabric) link; otherwise it is hierarchical,
 * split at the domain boundary: reduce-scatter inside the domain over its k members, the
 * collective across the n/k domains on 1/k of the data over the network, all-gather inside the
 * domain.  A group whose members do not fill its domains evenly is priced as a flat ring over
 * the network, the slowest link it crosses.  Bandwidths are the link's bw_gbs * efficiency per direction per
 * device; alpha is the link's latency per step.  Sizes are bytes of the whole buffer S.
 */
#ifndef PARPLAN_COMM_H
#define PARPLAN_COMM_H

#include "parplan/hw.h"
#include "parplan/graph.h"

typedef enum pp_coll {
	PP_COLL_ALLREDUCE = 0,
	PP_COLL_ALLGATHER,
	PP_COLL_REDUCESCATTER,
	PP_COLL_ALLTOALL,
	PP_COLL_P2P
} pp_coll;

/* Textbook ring formulas (Thakur et al. 2005; Patarasuk & Yuan 2009), bw in bytes/s, alpha in s. */
/** Ring all-reduce: 2(n-1)/n * S/B + 2(n-1)*alpha. */
double pp_ring_allreduce_s(int n, double bytes, double bw, double alpha);
/** Ring all-gather or reduce-scatter: (n-1)/n * S/B + (n-1)*alpha. */
double pp_ring_allgather_s(int n, double bytes, double bw, double alpha);
/** Pairwise all-to-all: (n-1)/n * S/n / B ... each rank sends (n-1)/n of its S/n shard. */
double pp_alltoall_s(int n, double bytes, double bw, double alpha);
/** Point-to-point: S/B + alpha. */
double pp_p2p_s(double bytes, double bw, double alpha);

/** Members of a group of @n ranks at @stride that share one node (domain block) of @node_devices. */
int pp_group_per_node(int n, int stride, int node_devices);

/**
 * Devices of one aligned block of a scale-up domain: node_devices doubled while it fits
 * hw->domain_devices (8 on a DGX, 64 on an NVL72 rack of 72).  Groups inside a block use the
 * intra link; the search lets t grow to it without --allow-cross-node-tp.
 */
int pp_hw_domain_block(const pp_hw *hw);

/** Time of collective @c over a group of @n ranks at @stride moving a @bytes buffer. */
double pp_coll_s(const pp_hw *hw, pp_coll c, int n, int stride, double bytes);

#endif
