/* comm.c - alpha-beta collective times, flat and hierarchical (see comm.h). */
#include "parplan/comm.h"

#include "hw_int.h"

double pp_ring_allreduce_s(int n, double bytes, double bw, double alpha)
{
	if (n <= 1)
		return 0;
	return 2.0 * (n - 1) / n * bytes / bw + 2.0 * (n - 1) * alpha;
}

double pp_ring_allgather_s(int n, double bytes, double bw, double alpha)
{
	if (n <= 1)
		return 0;
	return (double)(n - 1) / n * bytes / bw + (n - 1) * alpha;
}

double pp_alltoall_s(int n, double bytes, double bw, double alpha)
{
	if (n <= 1)
		return 0;
	return (double)(n - 1) / n * (bytes / n) / bw + (n - 1) * alpha;
}

double pp_p2p_s(double bytes, double bw, double alpha)
{
	return bytes / bw + alpha;
}

int pp_group_per_node(int n, int stride, int node_devices)
{
	int k;
	if (stride >= node_devices)
		return 1;
	k = node_devices / stride;
	return k < n ? k : n;
}

int pp_hw_domain_block(const pp_hw *hw)
{
	/* whole nodes, doubled while they fit the domain: 8 in a DGX (the node), 64 of an NVL72
	 * rack's 72 (16 of its 18 compute trays).  Assumption, docs/formats.md: jobs are placed in
	 * domain-aligned blocks (Slurm topology/block, --segment) of a power-of-two count of nodes,
	 * so power-of-two groups never straddle two domains; the rack's other 2 trays are spares */
	int node = hw->node_devices > 0 ? hw->node_devices : 1, b = node;
	while (hw->domain_devices >= 2 * b)
		b *= 2;
	return b;
}

static double flat(pp_coll c, int n, double bytes, double bw, double alpha)
{
	switch (c) {
	case PP_COLL_ALLREDUCE: return pp_ring_allreduce_s(n, bytes, bw, alpha);
	case PP_COLL_ALLGATHER:
	case PP_COLL_REDUCESCATTER: return pp_ring_allgather_s(n, bytes, bw, alpha);
	case PP_COLL_ALLTOALL: return pp_alltoall_s(n, bytes, bw, alpha);
	case PP_COLL_P2P: return pp_p2p_s(bytes, bw, alpha);
	}
	return 0;
}

void pp_links_of(const pp_hw *hw, pp_links *l)
{
	l->bi = hw->intra.bw_gbs * hw->intra.efficiency * 1e9;
	l->ai = hw->intra.latency_us * 1e-6;
	l->bn = hw->network.bw_gbs * hw->network.efficiency * 1e9;
	l->an = hw->network.latency_us * 1e-6;
	l->block = pp_hw_domain_block(hw);
}

double pp_coll_s(const pp_hw *hw, pp_coll c, int n, int stride, double bytes)
{
	pp_links l;
	pp_links_of(hw, &l);
	return pp_coll_links_s(&l, c, n, stride, bytes);
}

double pp_coll_links_s(const pp_links *l, pp_coll c, int n, int stride, double bytes)
{
	double bi = l->bi, ai = l->ai, bn = l->bn, an = l->an;
	int k;

	if (c == PP_COLL_P2P) {
		/* a neighbour @stride ranks away is in another domain once stride reaches it */
		return stride < l->block ? pp_p2p_s(bytes, bi, ai) : pp_p2p_s(bytes, bn, an);
	}
	if (n <= 1 || bytes <= 0)
		return 0;
	/* the intra link joins the scale-up domain (the node, or a whole NVL72 rack) */
	k = pp_group_per_node(n, stride, l->block);
	if (k >= n)
		return flat(c, n, bytes, bi, ai);
	if (k <= 1 || n % k)
		return flat(c, n, bytes, bn, an); /* uneven over domains: the network ring bounds it */
	/* hierarchical, split at the domain boundary: in-domain reduce-scatter / all-gather around the cross-node collective on
	 * 1/k of the data (NCCL's tree/ring split; Megatron and Alpa cost models) */
	switch (c) {
	case PP_COLL_ALLREDUCE:
		return 2 * pp_ring_allgather_s(k, bytes, bi, ai) + pp_ring_allreduce_s(n / k, bytes / k, bn, an);
	case PP_COLL_ALLGATHER:
	case PP_COLL_REDUCESCATTER:
		return pp_ring_allgather_s(k, bytes, bi, ai) + pp_ring_allgather_s(n / k, bytes / k, bn, an);
	case PP_COLL_ALLTOALL:
		return pp_alltoall_s(n, bytes, bn, an);
	default:
		return 0;
	}
}
