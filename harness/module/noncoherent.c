// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_noncoherent_api: the successors of 2012's
 * dma_alloc_noncoherent()/DMA_ATTR_NON_CONSISTENT, as dma-api.rst
 * documents them in 6.1: dma_alloc_noncoherent(), dma_alloc_pages() and
 * dma_alloc_noncontiguous() (+ dma_vmap_noncontiguous()). The memory is
 * not coherent: ownership moves with explicit syncs, "just like for
 * streaming DMA mappings that are reused". Each test is one round trip
 * through edu that does exactly what the documentation asks:
 *
 *   CPU fills the pattern, sync for device, edu reads it (RAM -> edu),
 *   CPU poisons the buffer, sync for device, edu writes it back at another
 *   offset (edu -> RAM), sync for CPU, CPU compares.
 *
 * With the documented syncs, the data must come back intact on every
 * arch, coherent or not. dma_alloc_noncontiguous() also promises a single
 * DMA segment (sgt->nents == 1) and takes ALLOC_SINGLE_PAGES as its only
 * attribute; both variants are tried.
 *
 * Without edu (the noncoherent variant's platform device, ctx->pdev NULL)
 * the same buffers are checked by the CPU alone (device_dma=0): the CPU
 * fills the whole buffer, syncs for the device, syncs for the CPU and
 * finds its data intact; for the vmap()ed kinds, the pages behind the
 * table hold what was written through the vmap after the sync for device.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/string.h>

#include "harness.h"

#define DH_NC_PAGES	4

enum dh_nc_api {
	DH_NC_NONCOHERENT,
	DH_NC_PAGES_API,
	DH_NC_NONCONTIG,
	DH_NC_NONCONTIG_SINGLE,
	DH_NC_COUNT,
};

static const char * const dh_nc_names[DH_NC_COUNT] = {
	[DH_NC_NONCOHERENT] = "noncoherent",
	[DH_NC_PAGES_API] = "pages",
	[DH_NC_NONCONTIG] = "noncontiguous",
	[DH_NC_NONCONTIG_SINGLE] = "noncontiguous_single_pages",
};

static const char * const dh_nc_calls[DH_NC_COUNT] = {
	[DH_NC_NONCOHERENT] = "dma_alloc_noncoherent",
	[DH_NC_PAGES_API] = "dma_alloc_pages",
	[DH_NC_NONCONTIG] = "dma_alloc_noncontiguous",
	[DH_NC_NONCONTIG_SINGLE] = "dma_alloc_noncontiguous",
};

unsigned int dh_noncoherent_plan(const struct dh_ctx *ctx)
{
	return DH_NC_COUNT + 1;
}

struct dh_nc_buf {
	enum dh_nc_api api;
	size_t size;
	void *cpu;
	dma_addr_t dma;
	struct page *page;
	struct sg_table *sgt;
};

static bool dh_nc_is_sgt(const struct dh_nc_buf *b)
{
	return b->api == DH_NC_NONCONTIG || b->api == DH_NC_NONCONTIG_SINGLE;
}

static void dh_nc_for_device(struct device *dev, struct dh_nc_buf *b)
{
	if (dh_nc_is_sgt(b)) {
		flush_kernel_vmap_range(b->cpu, b->size);
		dma_sync_sgtable_for_device(dev, b->sgt, DMA_BIDIRECTIONAL);
	} else {
		dma_sync_single_for_device(dev, b->dma, b->size,
					   DMA_BIDIRECTIONAL);
	}
}

static void dh_nc_for_cpu(struct device *dev, struct dh_nc_buf *b)
{
	if (dh_nc_is_sgt(b)) {
		dma_sync_sgtable_for_cpu(dev, b->sgt, DMA_BIDIRECTIONAL);
		invalidate_kernel_vmap_range(b->cpu, b->size);
	} else {
		dma_sync_single_for_cpu(dev, b->dma, b->size,
					DMA_BIDIRECTIONAL);
	}
}

/* Allocates and, for the sg_table kinds, maps; 0 or a reason string. */
static const char *dh_nc_alloc(struct device *dev, struct dh_nc_buf *b,
			       struct ktap_diag *d)
{
	switch (b->api) {
	case DH_NC_NONCOHERENT:
		b->cpu = dma_alloc_noncoherent(dev, b->size, &b->dma,
					       DMA_BIDIRECTIONAL, GFP_KERNEL);
		return b->cpu ? NULL : "alloc";
	case DH_NC_PAGES_API:
		b->page = dma_alloc_pages(dev, b->size, &b->dma,
					  DMA_BIDIRECTIONAL, GFP_KERNEL);
		if (!b->page)
			return "alloc";
		b->cpu = page_address(b->page);
		return b->cpu ? NULL : "no_page_address";
	default:
		b->sgt = dma_alloc_noncontiguous(dev, b->size,
						 DMA_BIDIRECTIONAL, GFP_KERNEL,
						 b->api == DH_NC_NONCONTIG_SINGLE ?
						 DMA_ATTR_ALLOC_SINGLE_PAGES : 0);
		if (!b->sgt)
			return "alloc";
		b->dma = sg_dma_address(b->sgt->sgl);
		ktap_diag_u64(d, "nents", b->sgt->nents);
		ktap_diag_u64(d, "orig_nents", b->sgt->orig_nents);
		ktap_diag_u64(d, "dma_length", sg_dma_len(b->sgt->sgl));
		b->cpu = dma_vmap_noncontiguous(dev, b->size, b->sgt);
		ktap_diag_bool(d, "vmap_ok", b->cpu);
		return b->cpu ? NULL : "vmap_failed";
	}
}

static void dh_nc_free(struct device *dev, struct dh_nc_buf *b)
{
	switch (b->api) {
	case DH_NC_NONCOHERENT:
		if (b->cpu)
			dma_free_noncoherent(dev, b->size, b->cpu, b->dma,
					     DMA_BIDIRECTIONAL);
		break;
	case DH_NC_PAGES_API:
		if (b->page)
			dma_free_pages(dev, b->size, b->page, b->dma,
				       DMA_BIDIRECTIONAL);
		break;
	default:
		if (b->cpu)
			dma_vunmap_noncontiguous(dev, b->cpu);
		if (b->sgt)
			dma_free_noncontiguous(dev, b->size, b->sgt,
					       DMA_BIDIRECTIONAL);
		break;
	}
}

/*
 * After dma_sync_*_for_device() the data is in memory: for the sg_table
 * kinds, the pages the table names, read through their own (linear or
 * kmap) mapping, hold what the CPU wrote through the vmap. Returns the
 * first differing offset, or -1.
 */
static long dh_nc_pages_check(struct dh_nc_buf *b, u32 seed)
{
	struct sg_page_iter it;
	size_t off = 0;
	long bad = -1;

	for_each_sgtable_page(b->sgt, &it, 0) {
		size_t len = min_t(size_t, PAGE_SIZE, b->size - off);
		size_t i;
		u8 *p;

		if (!len)
			break;
		p = kmap_local_page(sg_page_iter_page(&it));
		for (i = 0; i < len && bad < 0; i++)
			if (p[i] != dh_pattern(off + i, seed))
				bad = off + i;
		kunmap_local(p);
		if (bad >= 0)
			return bad;
		off += len;
	}
	return off == b->size ? -1 : (long)off;
}

/*
 * The round trip without a device: the CPU owns the buffer, hands it to
 * the device and takes it back; nothing else touches it, so every byte
 * must read back as written (dma-api.rst: the syncs move ownership, they
 * never change the data).
 */
static const char *dh_nc_cpu_only(struct device *dev, struct dh_nc_buf *b,
				  struct ktap_diag *d, u32 seed)
{
	const char *reason = NULL;
	long bad;

	ktap_diag_bool(d, "device_dma", false);
	dh_fill(b->cpu, b->size, seed);
	dh_nc_for_device(dev, b);
	if (dh_nc_is_sgt(b)) {
		bad = dh_nc_pages_check(b, seed);
		ktap_diag_bool(d, "pages_agree", bad < 0);
		if (bad >= 0) {
			ktap_diag_u64(d, "pages_mismatch_offset", bad);
			reason = "pages_mismatch";
		}
	}
	dh_nc_for_cpu(dev, b);
	bad = dh_verify(b->cpu, b->size, 0, b->size, seed);
	ktap_diag_bool(d, "sync_roundtrip", bad < 0);
	if (bad >= 0) {
		ktap_diag_u64(d, "mismatch_offset", bad);
		reason = "data_mismatch";
	}
	return reason;
}

/*
 * A transfer that did not finish: edu may still write into the buffer, so
 * the test ends here and leaks it rather than free it. True when it did.
 */
static bool dh_nc_timed_out(struct ktap_suite *s, const char *test,
			    struct ktap_diag *d, int ret)
{
	if (ret != -ETIMEDOUT)
		return false;
	ktap_diag_bool(d, "leaked", true);
	ktap_diag_u64(d, "errno", -ret);
	ktap_diag_str(d, "reason", edu_failure_reason(ret));
	ktap_diag_emit(d);
	ktap_result(s, test, false);
	return true;
}

static void dh_nc_one(struct dh_ctx *ctx, struct ktap_suite *s,
		      enum dh_nc_api api, u32 seed)
{
	struct device *dev = ctx->dev;
	struct dh_nc_buf b = { .api = api, .size = DH_NC_PAGES * PAGE_SIZE };
	size_t src_off = b.size - EDU_XFER_LEN;
	size_t dst_off = 2 * PAGE_SIZE - EDU_XFER_LEN / 2;
	u64 to_dev_ns = 0, to_ram_ns = 0;
	const char *reason = NULL;
	bool misaligned = false;
	const char *fail;
	struct ktap_diag d;
	char test[48];
	long bad;
	u8 *cpu;
	int ret;

	snprintf(test, sizeof(test), "%s_roundtrip", dh_nc_names[api]);
	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "api", dh_nc_calls[api]);
	/*
	 * Not "attrs": that key is about dma_alloc_attrs(), and the host
	 * classifies its attributes from it.
	 */
	ktap_diag_str(&d, "api_attrs", api == DH_NC_NONCONTIG_SINGLE ?
		      "ALLOC_SINGLE_PAGES" : "none");
	ktap_diag_u64(&d, "size", b.size);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	ktap_diag_str(&d, "direction", "DMA_BIDIRECTIONAL");

	fail = dh_nc_alloc(dev, &b, &d);
	ktap_diag_bool(&d, "ok", !fail || strcmp(fail, "alloc"));
	if (fail && !strcmp(fail, "alloc")) {
		ktap_diag_emit(&d);
		ktap_result(s, test, true);
		return;
	}
	ktap_diag_hex(&d, "dma", b.dma);
	if (b.sgt && b.sgt->nents != 1)
		reason = "nents_not_one";
	if ((u64)b.dma + b.size - 1 > dma_get_mask(dev)) {
		ktap_diag_bool(&d, "in_mask", false);
		reason = "outside_mask";
	}
	/* Whole pages are allocated: the handle is page aligned. */
	misaligned = !PAGE_ALIGNED(b.dma);
	ktap_diag_bool(&d, "dma_align_ok", !misaligned);
	if (misaligned)
		ktap_diag_reason(&d, "misaligned");
	if (fail) {
		reason = fail;
		goto out;
	}
	cpu = b.cpu;
	ktap_diag_str(&d, "mapping", dh_kind_name(dh_addr_kind(cpu)));
	if (reason)
		goto out;
	if (!ctx->pdev) {
		reason = dh_nc_cpu_only(dev, &b, &d, seed);
		goto out;
	}

	ktap_diag_u64(&d, "bytes", EDU_XFER_LEN);
	ktap_diag_u64(&d, "src_offset", src_off);
	ktap_diag_u64(&d, "dst_offset", dst_off);
	memset(cpu, DH_POISON, b.size);
	dh_fill(cpu + src_off, EDU_XFER_LEN, seed);
	dh_nc_for_device(dev, &b);
	ret = edu_dma_to_device(&ctx->edu, b.dma + src_off, 0, EDU_XFER_LEN,
				&to_dev_ns);
	if (!ret) {
		/* The CPU owns the buffer again only after a sync for CPU. */
		dh_nc_for_cpu(dev, &b);
		memset(cpu, DH_POISON, b.size);
		dh_nc_for_device(dev, &b);
		ret = edu_dma_to_ram(&ctx->edu, 0, b.dma + dst_off,
				     EDU_XFER_LEN, &to_ram_ns);
		dh_nc_for_cpu(dev, &b);
	}
	if (dh_nc_timed_out(s, test, &d, ret))
		return;
	if (ret) {
		ktap_diag_u64(&d, "errno", -ret);
		reason = edu_failure_reason(ret);
	} else {
		bad = dh_verify(cpu, b.size, dst_off, EDU_XFER_LEN, seed);
		ktap_diag_bool(&d, "roundtrip", bad < 0);
		if (bad >= 0) {
			ktap_diag_u64(&d, "mismatch_offset", bad);
			reason = "data_mismatch";
		}
		ktap_diag_str(&d, "completion",
			      edu_completion_name(ctx->edu.last));
		ktap_diag_u64(&d, "transfer_ns", to_dev_ns + to_ram_ns);
	}
out:
	dh_nc_free(dev, &b);
	if (reason)
		ktap_diag_str(&d, "reason", reason);
	ktap_diag_emit(&d);
	ktap_result(s, test, !reason && !misaligned);
}

/*
 * One-way buffers: a DMA_TO_DEVICE buffer the CPU fills and edu reads, a
 * DMA_FROM_DEVICE buffer edu writes and the CPU reads, each with the syncs
 * of its own direction only (dma-api.rst, dma_sync_single_for_*()).
 */
static void dh_nc_directions(struct dh_ctx *ctx, struct ktap_suite *s,
			     u32 seed)
{
	const char *test = "noncoherent_directions";
	struct device *dev = ctx->dev;
	size_t size = 2 * PAGE_SIZE;
	size_t dst_off = PAGE_SIZE - EDU_XFER_LEN / 2;
	u64 to_dev_ns = 0, to_ram_ns = 0;
	dma_addr_t dma_to = 0, dma_from = 0;
	const char *reason = NULL;
	u8 *to, *from;
	struct ktap_diag d;
	long bad;
	int ret;

	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "api", "dma_alloc_noncoherent");
	ktap_diag_u64(&d, "size", size);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	ktap_diag_str(&d, "direction", "DMA_TO_DEVICE+DMA_FROM_DEVICE");
	to = dma_alloc_noncoherent(dev, size, &dma_to, DMA_TO_DEVICE,
				   GFP_KERNEL);
	from = dma_alloc_noncoherent(dev, size, &dma_from, DMA_FROM_DEVICE,
				     GFP_KERNEL);
	ktap_diag_bool(&d, "ok", to && from);
	if (!to || !from)
		goto out;
	ktap_diag_hex(&d, "dma", dma_to);
	ktap_diag_hex(&d, "dma_from", dma_from);
	if ((u64)dma_to + size - 1 > dma_get_mask(dev) ||
	    (u64)dma_from + size - 1 > dma_get_mask(dev)) {
		ktap_diag_bool(&d, "in_mask", false);
		reason = "outside_mask";
		goto out;
	}
	if (!ctx->pdev) {
		/*
		 * The CPU fills the DMA_TO_DEVICE buffer, hands it over and
		 * takes it back: its data must be intact. What the CPU sees
		 * of a DMA_FROM_DEVICE buffer is only promised after the
		 * device wrote it, so that one is only allocated and freed.
		 */
		ktap_diag_bool(&d, "device_dma", false);
		dh_fill(to, size, seed);
		dma_sync_single_for_device(dev, dma_to, size, DMA_TO_DEVICE);
		dma_sync_single_for_cpu(dev, dma_to, size, DMA_TO_DEVICE);
		bad = dh_verify(to, size, 0, size, seed);
		ktap_diag_bool(&d, "sync_roundtrip", bad < 0);
		if (bad >= 0) {
			ktap_diag_u64(&d, "mismatch_offset", bad);
			reason = "data_mismatch";
		}
		goto out;
	}
	ktap_diag_u64(&d, "bytes", EDU_XFER_LEN);
	ktap_diag_u64(&d, "dst_offset", dst_off);

	dh_fill(to, EDU_XFER_LEN, seed);
	dma_sync_single_for_device(dev, dma_to, size, DMA_TO_DEVICE);
	ret = edu_dma_to_device(&ctx->edu, dma_to, 0, EDU_XFER_LEN,
				&to_dev_ns);
	if (!ret) {
		memset(from, DH_POISON, size);
		dma_sync_single_for_device(dev, dma_from, size,
					   DMA_FROM_DEVICE);
		ret = edu_dma_to_ram(&ctx->edu, 0, dma_from + dst_off,
				     EDU_XFER_LEN, &to_ram_ns);
		dma_sync_single_for_cpu(dev, dma_from, size, DMA_FROM_DEVICE);
	}
	if (dh_nc_timed_out(s, test, &d, ret))
		return;
	if (ret) {
		ktap_diag_u64(&d, "errno", -ret);
		reason = edu_failure_reason(ret);
	} else {
		/*
		 * Only the window: what the CPU wrote around it before a
		 * DMA_FROM_DEVICE sync for device may be discarded (arm
		 * invalidates), so the poison there is not a promise.
		 */
		bad = dh_verify(from + dst_off, EDU_XFER_LEN, 0, EDU_XFER_LEN,
				seed);
		ktap_diag_bool(&d, "roundtrip", bad < 0);
		if (bad >= 0) {
			ktap_diag_u64(&d, "mismatch_offset", dst_off + bad);
			reason = "data_mismatch";
		}
		ktap_diag_str(&d, "completion",
			      edu_completion_name(ctx->edu.last));
		ktap_diag_u64(&d, "transfer_ns", to_dev_ns + to_ram_ns);
	}
out:
	if (to)
		dma_free_noncoherent(dev, size, to, dma_to, DMA_TO_DEVICE);
	if (from)
		dma_free_noncoherent(dev, size, from, dma_from,
				     DMA_FROM_DEVICE);
	if (reason)
		ktap_diag_str(&d, "reason", reason);
	ktap_diag_emit(&d);
	ktap_result(s, test, !reason);
}

void dh_noncoherent_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	unsigned int i;

	for (i = 0; i < DH_NC_COUNT; i++)
		dh_nc_one(ctx, s, i, 0x100 + i);
	dh_nc_directions(ctx, s, 0x1f0);
}
