// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_masks: what dma_set_coherent_mask() accepts, and whether
 * dma_alloc_attrs() then keeps every buffer wholly within the coherent
 * mask (dma-api.rst: "the coherent DMA mask ... all memory allocated by
 * dma_alloc_coherent() will be addressable"), also when the streaming mask
 * is wider than the coherent one. A refused mask is data; the allocations
 * that would have used it are skipped, since the old mask still applies.
 * Per mask also the streaming side: a page-sized kmalloc() buffer mapped
 * with dma_map_single() under that streaming mask must come back inside it
 * (bounced if need be) or be refused. Each mask says how much RAM lay above
 * it (ram_above_mask): where none did, "in mask" holds whatever the mask
 * logic does. Where RAM lay above an accepted mask, pressure<bits> holds
 * 1 MiB buffers until the RAM below the mask is used up (or a cap), so the
 * allocator has to reach for what lies above: every buffer must still be
 * inside. The device's masks are restored at the end.
 */
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "compat.h"
#include "harness.h"

static const unsigned int dh_mask_bits[] = { 64, 32, 31, 30, 28, 24 };

#define DH_MASK_NSIZES	3
/* Pressure: 1 MiB buffers, at most half the guest's RAM and 1024 of them. */
#define DH_PRESSURE_SIZE	SZ_1M
#define DH_PRESSURE_MAX		1024
/*
 * The buffers that take the RAM below the mask are DMA_ATTR_NO_KERNEL_MAPPING
 * ones: dma-direct hands those out without the memset() it does for every
 * other buffer, which under TCG costs about 4 s per GiB. When the RAM is
 * taken, the last 16 MiB of them go back and plain buffers (attrs none) take
 * it again, and whatever lies beyond: the plain path is the one at the edge.
 */
#define DH_PRESSURE_EDGE	SZ_16M
#define DH_STREAM_BITS	64
#define DH_COHERENT_BITS	28

static const size_t dh_mask_sizes[DH_MASK_NSIZES] = { SZ_4K, SZ_64K, SZ_1M };

unsigned int dh_masks_plan(const struct dh_ctx *ctx)
{
	/*
	 * Per mask: the set, one allocation per size, one cookie; a streaming
	 * map per mask of the loop.
	 */
	return (ARRAY_SIZE(dh_mask_bits) + 1) * (DH_MASK_NSIZES + 2) + 1 +
	       2 * ARRAY_SIZE(dh_mask_bits);
}

static void dh_mask_alloc(struct dh_ctx *ctx, struct ktap_suite *s,
			  const char *prefix, unsigned int bits, bool mask_ok,
			  size_t size, unsigned long attrs)
{
	struct device *dev = ctx->dev;
	struct ktap_diag d;
	dma_addr_t dma = 0;
	char test[64];
	void *cpu;

	snprintf(test, sizeof(test), "%s_%s%zu", prefix,
		 attrs ? "no_kernel_mapping_" : "", size);
	ktap_diag_start(&d, s, test);
	ktap_diag_u64(&d, "mask_bits", bits);
	ktap_diag_str(&d, "attrs", attrs ? "NO_KERNEL_MAPPING" : "none");
	ktap_diag_u64(&d, "size", size);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	ktap_diag_u64(&d, "order", get_order(size));
	if (!mask_ok) {
		/* The refused mask is not in force: nothing to check. */
		ktap_diag_emit(&d);
		ktap_skip(s, test, "mask_refused");
		return;
	}
	ktap_diag_hex(&d, "dma_mask", dma_get_mask(dev));
	ktap_diag_hex(&d, "coherent_mask", dev->coherent_dma_mask);
	cpu = dma_alloc_attrs(dev, size, &dma, GFP_KERNEL, attrs);
	ktap_diag_bool(&d, "ok", cpu);
	if (cpu) {
		dh_inspect(dev, &d, cpu, dma, size, attrs);
		dma_free_attrs(dev, size, cpu, dma, attrs);
	} else {
		ktap_diag_expect_warn(&d);
	}
	ktap_diag_emit(&d);
	ktap_result(s, test, !d.reason[0]);
}

static void dh_mask_allocs(struct dh_ctx *ctx, struct ktap_suite *s,
			   const char *prefix, unsigned int bits, bool mask_ok)
{
	unsigned int i;

	for (i = 0; i < DH_MASK_NSIZES; i++)
		dh_mask_alloc(ctx, s, prefix, bits, mask_ok,
			      dh_mask_sizes[i], 0);
	dh_mask_alloc(ctx, s, prefix, bits, mask_ok, SZ_64K,
		      DMA_ATTR_NO_KERNEL_MAPPING);
}

static void dh_mask_set(struct ktap_diag *d, const char *key, int rc)
{
	ktap_diag_bool(d, key, !rc);
	if (rc) {
		char errkey[32];

		snprintf(errkey, sizeof(errkey), "%s_errno", key);
		ktap_diag_u64(d, errkey, -rc);
	}
}

/* A coherent page edu writes back into, allocated under the device's own masks. */
struct dh_readback {
	u8 *cpu;
	dma_addr_t dma;
};

/*
 * With edu: the device reads the mapped buffer and writes what it read into
 * @rb, so a bounced mapping is checked to carry the data, not just to sit
 * inside the mask.
 */
static void dh_stream_through_edu(struct dh_ctx *ctx, struct ktap_diag *d,
				  dma_addr_t dma, struct dh_readback *rb,
				  u32 seed)
{
	u64 ns = 0;
	long bad;
	int ret;

	/* Beyond what edu reaches: nothing the device could show. */
	if (dma + EDU_XFER_LEN - 1 > ctx->edu.dma_mask ||
	    rb->dma + EDU_XFER_LEN - 1 > ctx->edu.dma_mask)
		return;
	memset(rb->cpu, DH_POISON, PAGE_SIZE);
	ret = edu_dma_to_device(&ctx->edu, dma, 0, EDU_XFER_LEN, &ns);
	if (!ret)
		ret = edu_dma_to_ram(&ctx->edu, 0, rb->dma, EDU_XFER_LEN, &ns);
	if (ret == -ETIMEDOUT)
		rb->cpu = NULL;	/* edu may still write it: leak it */
	if (ret) {
		ktap_diag_str(d, "reason", edu_failure_reason(ret));
		return;
	}
	bad = dh_verify(rb->cpu, PAGE_SIZE, 0, EDU_XFER_LEN, seed);
	ktap_diag_bool(d, "device_read_ok", bad < 0);
	if (bad >= 0)
		ktap_diag_str(d, "reason", "data_mismatch");
}

/*
 * dma_map_single() of a fresh page under a @bits streaming mask: the handle
 * must lie within the mask or the mapping be refused (dma-api.rst,
 * dma_set_mask()), and edu must read the page's data through it. The
 * streaming mask is put back to @orig afterwards.
 */
static void dh_stream_map(struct dh_ctx *ctx, struct ktap_suite *s,
			  unsigned int bits, u64 orig, struct dh_readback *rb)
{
	struct device *dev = ctx->dev;
	u64 mask = DMA_BIT_MASK(bits);
	struct ktap_diag d;
	phys_addr_t phys;
	char test[32];
	dma_addr_t dma;
	void *buf;
	int rc;

	snprintf(test, sizeof(test), "stream_map%u", bits);
	ktap_diag_start(&d, s, test);
	ktap_diag_u64(&d, "mask_bits", bits);
	ktap_diag_u64(&d, "size", PAGE_SIZE);
	ktap_diag_str(&d, "direction", "DMA_TO_DEVICE");
	rc = dma_set_mask(dev, mask);
	dh_mask_set(&d, "streaming_set", rc);
	buf = rc ? NULL : kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (buf) {
		dh_fill(buf, EDU_XFER_LEN, bits);
		phys = virt_to_phys(buf);
		ktap_diag_hex(&d, "phys", phys);
		ktap_diag_bool(&d, "buffer_above_mask",
			       phys + PAGE_SIZE - 1 > mask);
		dma = dma_map_single(dev, buf, PAGE_SIZE, DMA_TO_DEVICE);
		ktap_diag_bool(&d, "ok", !dma_mapping_error(dev, dma));
		/* A refused mapping is allowed, and swiotlb warns about it. */
		if (dma_mapping_error(dev, dma)) {
			ktap_diag_expect_warn(&d);
		} else {
			ktap_diag_hex(&d, "dma", dma);
			ktap_diag_bool(&d, "bounced",
				       dh_dma_phys(dev, dma, &phys) &&
				       dh_is_swiotlb_buffer(dev, phys));
			ktap_diag_bool(&d, "in_mask",
				       dma + PAGE_SIZE - 1 <= mask);
			if (dma + PAGE_SIZE - 1 > mask)
				ktap_diag_reason(&d, "outside_streaming_mask");
			else if (ctx->pdev && rb->cpu)
				dh_stream_through_edu(ctx, &d, dma, rb, bits);
			dma_unmap_single(dev, dma, PAGE_SIZE, DMA_TO_DEVICE);
		}
		kfree(buf);
	}
	dma_set_mask(dev, orig);
	ktap_diag_emit(&d);
	ktap_result(s, test, !d.reason[0]);
}

struct dh_pressure_buf {
	void *cpu;
	dma_addr_t dma;
	unsigned long attrs;
};

/* Buffers held at once under one coherent mask, and those found outside it. */
struct dh_pressure {
	struct device *dev;
	u64 mask;
	struct dh_pressure_buf *bufs;
	unsigned int held, limit, outside;
	dma_addr_t first_outside;
};

/* Takes buffers with @attrs until the limit is held; true if one failed. */
static bool dh_pressure_take(struct dh_pressure *p, unsigned long attrs)
{
	while (p->held < p->limit) {
		struct dh_pressure_buf *b = &p->bufs[p->held];

		b->attrs = attrs;
		b->cpu = dma_alloc_attrs(p->dev, DH_PRESSURE_SIZE, &b->dma,
					 GFP_KERNEL | __GFP_NOWARN, attrs);
		if (!b->cpu)
			return true;
		if (b->dma + DH_PRESSURE_SIZE - 1 > p->mask && !p->outside++)
			p->first_outside = b->dma;
		p->held++;
	}
	return false;
}

/* Frees the @count buffers taken last. */
static void dh_pressure_release(struct dh_pressure *p, unsigned int count)
{
	for (; count && p->held; count--) {
		struct dh_pressure_buf *b = &p->bufs[--p->held];

		dma_free_attrs(p->dev, DH_PRESSURE_SIZE, b->cpu, b->dma,
			       b->attrs);
	}
}

/*
 * Buffers held at once under the @bits coherent mask until an allocation
 * fails, the RAM below the mask plus 16 MiB is allocated, or the cap: the
 * mask checked under pressure, where the low pages are gone and only the
 * mask logic keeps the allocator inside. Both kinds of buffer go through
 * the same page allocation and mask check in dma-direct; every handle is
 * checked, also those of the fill buffers handed back.
 */
static void dh_mask_pressure(struct dh_ctx *ctx, struct ktap_suite *s,
			     unsigned int bits, bool mask_ok)
{
	struct dh_pressure p = { .dev = ctx->dev, .mask = DMA_BIT_MASK(bits) };
	unsigned int filled;
	u64 above, budget;
	struct ktap_diag d;
	bool exhausted;
	char test[32];

	snprintf(test, sizeof(test), "pressure%u", bits);
	ktap_diag_start(&d, s, test);
	ktap_diag_u64(&d, "mask_bits", bits);
	ktap_diag_str(&d, "attrs", "none");
	ktap_diag_u64(&d, "size", DH_PRESSURE_SIZE);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	above = dh_ram_above(p.mask, NULL);
	ktap_diag_u64(&d, "ram_above_mask", above);
	/*
	 * Behind ops (an IOMMU) the handle is an IOVA: where RAM lies says
	 * nothing about the mask, and holding half the RAM there would only
	 * leave caches behind for the later suites to measure.
	 */
	if (!mask_ok || !above || get_dma_ops(p.dev)) {
		ktap_diag_emit(&d);
		ktap_skip(s, test, !mask_ok ? "mask_refused" :
			  !above ? "no_ram_above_mask" : "not_dma_direct");
		return;
	}
	/* System RAM below the mask: all of it (above address 0) less that above. */
	budget = dh_ram_above(0, NULL) - above;
	p.limit = min_t(u64, DH_PRESSURE_MAX,
			((u64)totalram_pages() << PAGE_SHIFT) / 2 /
			DH_PRESSURE_SIZE);
	p.limit = min_t(u64, p.limit,
			DIV_ROUND_UP(budget + SZ_16M, DH_PRESSURE_SIZE));
	ktap_diag_u64(&d, "ram_below_mask", budget);
	p.bufs = kcalloc(p.limit, sizeof(*p.bufs), GFP_KERNEL);
	if (!p.bufs) {
		ktap_diag_str(&d, "reason", "setup_failed");
		goto out;
	}
	dh_pressure_take(&p, DMA_ATTR_NO_KERNEL_MAPPING);
	dh_pressure_release(&p, DH_PRESSURE_EDGE / DH_PRESSURE_SIZE);
	filled = p.held;
	exhausted = dh_pressure_take(&p, 0);
	ktap_diag_str(&d, "fill_attrs", "no_kernel_mapping");
	ktap_diag_u64(&d, "filled", filled);
	ktap_diag_u64(&d, "held", p.held);
	ktap_diag_u64(&d, "held_bytes", (u64)p.held * DH_PRESSURE_SIZE);
	ktap_diag_bool(&d, "exhausted", exhausted);
	ktap_diag_u64(&d, "outside", p.outside);
	if (p.outside) {
		ktap_diag_hex(&d, "first_outside_dma", p.first_outside);
		ktap_diag_reason(&d, "outside_mask");
	}
	dh_pressure_release(&p, p.held);
	kfree(p.bufs);
out:
	ktap_diag_emit(&d);
	ktap_result(s, test, !d.reason[0]);
}

void dh_masks_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	struct device *dev = ctx->dev;
	u64 orig_dma = dma_get_mask(dev);
	u64 orig_coherent = dev->coherent_dma_mask;
	char test[64], prefix[48];
	struct dh_readback rb = { };
	struct ktap_diag d;
	int rc, rc2;
	unsigned int i;

	if (ctx->pdev)
		rb.cpu = dma_alloc_coherent(dev, PAGE_SIZE, &rb.dma, GFP_KERNEL);

	for (i = 0; i < ARRAY_SIZE(dh_mask_bits); i++) {
		unsigned int bits = dh_mask_bits[i];

		snprintf(test, sizeof(test), "coherent_mask_%u", bits);
		ktap_diag_start(&d, s, test);
		ktap_diag_u64(&d, "mask_bits", bits);
		rc = dma_set_coherent_mask(dev, DMA_BIT_MASK(bits));
		dh_mask_set(&d, "mask_set", rc);
		ktap_diag_hex(&d, "dma_mask", dma_get_mask(dev));
		ktap_diag_hex(&d, "coherent_mask", dev->coherent_dma_mask);
		ktap_diag_hex(&d, "required_mask",
			      dma_get_required_mask(dev));
		ktap_diag_u64(&d, "ram_above_mask",
			      dh_ram_above(DMA_BIT_MASK(bits), NULL));
		ktap_diag_emit(&d);
		ktap_result(s, test, true);

		snprintf(prefix, sizeof(prefix), "mask%u", bits);
		dh_mask_allocs(ctx, s, prefix, bits, !rc);
		dh_mask_pressure(ctx, s, bits, !rc);
		dh_stream_map(ctx, s, bits, orig_dma, &rb);
	}

	/* A streaming mask wider than the coherent one. */
	snprintf(test, sizeof(test), "streaming_mask_%u_coherent_%u",
		 DH_STREAM_BITS, DH_COHERENT_BITS);
	ktap_diag_start(&d, s, test);
	ktap_diag_u64(&d, "streaming_bits", DH_STREAM_BITS);
	ktap_diag_u64(&d, "mask_bits", DH_COHERENT_BITS);
	rc2 = dma_set_mask(dev, DMA_BIT_MASK(DH_STREAM_BITS));
	dh_mask_set(&d, "streaming_set", rc2);
	rc = dma_set_coherent_mask(dev, DMA_BIT_MASK(DH_COHERENT_BITS));
	dh_mask_set(&d, "mask_set", rc);
	ktap_diag_hex(&d, "dma_mask", dma_get_mask(dev));
	ktap_diag_hex(&d, "coherent_mask", dev->coherent_dma_mask);
	ktap_diag_emit(&d);
	ktap_result(s, test, true);
	snprintf(prefix, sizeof(prefix), "streaming%u_coherent%u",
		 DH_STREAM_BITS, DH_COHERENT_BITS);
	dh_mask_allocs(ctx, s, prefix, DH_COHERENT_BITS, !rc && !rc2);

	/* Put back what the other suites were given. */
	ktap_diag_start(&d, s, "restore_masks");
	rc = dma_set_mask(dev, orig_dma);
	rc2 = dma_set_coherent_mask(dev, orig_coherent);
	dh_mask_set(&d, "streaming_set", rc);
	dh_mask_set(&d, "mask_set", rc2);
	ktap_diag_hex(&d, "dma_mask", dma_get_mask(dev));
	ktap_diag_hex(&d, "coherent_mask", dev->coherent_dma_mask);
	ktap_diag_bool(&d, "restored", dma_get_mask(dev) == orig_dma &&
		       dev->coherent_dma_mask == orig_coherent);
	if (dma_get_mask(dev) != orig_dma ||
	    dev->coherent_dma_mask != orig_coherent)
		ktap_diag_reason(&d, "mask_not_restored");
	ktap_diag_emit(&d);
	ktap_result(s, "restore_masks", !d.reason[0]);
	if (rb.cpu)
		dma_free_coherent(dev, PAGE_SIZE, rb.cpu, rb.dma);
}
