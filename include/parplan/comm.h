/*
 * comm.h - alpha-beta times of collectives on a hardware profile.
 *
 * A group is n ranks spaced @stride apart in the global rank order (Megatron: t innermost, then
 * d, then p), so a tensor-parallel group has stride 1, a data-parallel group stride t and a
 * pipeline neighbour is t*d away.  With N devices per node, a group whose members all sit in one
 * node uses the intra-node link; otherwise it is hierarchical: reduce-scatter inside the node
 * over its k members, the collective across the n/k nodes on 1/k of the data over the network,
 * all-gather inside the node.  A group whose members do not fill its nodes evenly is priced as
 * a flat ring over the network, the slowest link it crosses.  Bandwidths are the link's bw_gbs * efficiency per direction per
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

/** Members of a group of @n ranks at @stride that share one node of @node_devices. */
int pp_group_per_node(int n, int stride, int node_devices);

/** Time of collective @c over a group of @n ranks at @stride moving a @bytes buffer. */
double pp_coll_s(const pp_hw *hw, pp_coll c, int n, int stride, double bytes);

#endif
