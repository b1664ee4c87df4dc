// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_alloc: dma_alloc_attrs() with no attribute, every attribute
 * alone and a few meaningful pairs, at sizes around the page boundaries and
 * up to several MiB, checked against what Documentation/core-api/
 * dma-api-howto.rst and dma-attributes.rst promise for any arch (see
 * inspect.c). Each buffer is dirtied, freed and allocated again at the same
 * size once, so that memory handed back without zeroing is caught.
 *
 * A refused allocation is not a broken promise (attributes are allowed to
 * be unsupported, memory may run out): it is reported as ok=0 on a passing
 * test and the host classifies it. Without NO_WARN a refused allocation may
 * print a failure report; with NO_WARN it must not.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "harness.h"

#define DH_NSIZES	11
#define DH_DIRT		0xa5

static void dh_sizes(size_t sizes[DH_NSIZES])
{
	sizes[0] = 1;
	sizes[1] = PAGE_SIZE - 1;
	sizes[2] = PAGE_SIZE;
	sizes[3] = PAGE_SIZE + 1;
	sizes[4] = 3 * PAGE_SIZE;
	sizes[5] = 4 * PAGE_SIZE;
	sizes[6] = SZ_64K;
	sizes[7] = SZ_64K + 1;	/* past the 64 KiB rule, order + 1 */
	sizes[8] = SZ_1M;
	sizes[9] = SZ_2M;
	sizes[10] = SZ_4M;
}

/*
 * Beyond the buddy allocator's largest block only CMA (arm, arm64) or an
 * IOMMU (page by page) can deliver: tried with the attributes that decide
 * where memory comes from.
 */
#define DH_BIG_SIZE	SZ_16M

static const unsigned long dh_big_attrs[] = {
	0,
	DMA_ATTR_NO_KERNEL_MAPPING,
	DMA_ATTR_FORCE_CONTIGUOUS,
	DMA_ATTR_ALLOC_SINGLE_PAGES,
	DMA_ATTR_NO_WARN,
};

/*
 * remap_cpu_alignment: buffers of 2 and 3 pages (orders 1 and 2), held at
 * once. vmalloc packs areas (each with its guard page) at page granularity,
 * so if the CPU addresses of remapped buffers are aligned only by chance,
 * some of this sample are not: the verdict does not depend on where the
 * free vmap space happens to start in this boot.
 */
#define DH_REMAP_SAMPLE	16

/*
 * NO_WARN where drivers need it: a large contiguous request that may fail.
 * It runs first, before force_contiguous_16777216: a WARN_ON_ONCE() on the
 * way (the page allocator's order check) fires here if NO_WARN does not
 * keep it quiet, and is still fresh for the plain request if it does.
 */
static const struct dh_attr dh_quiet_big = {
	DMA_ATTR_FORCE_CONTIGUOUS | DMA_ATTR_NO_WARN,
	"FORCE_CONTIGUOUS+NO_WARN", "force_contiguous_and_no_warn"
};

unsigned int dh_alloc_plan(const struct dh_ctx *ctx)
{
	return 1 + (dh_nattrs + dh_nattr_pairs) * DH_NSIZES +
	       ARRAY_SIZE(dh_big_attrs) + 1;
}

/*
 * The buffer was dirtied and freed: allocate the same size again. Recycled
 * memory must come back zeroed like fresh memory.
 */
static void dh_realloc(struct device *dev, struct ktap_diag *d,
		       const struct dh_attr *a, size_t size, dma_addr_t dma)
{
	dma_addr_t dma2 = 0;
	const u8 *nz;
	void *cpu2;

	cpu2 = dma_alloc_attrs(dev, size, &dma2, GFP_KERNEL, a->attrs);
	ktap_diag_bool(d, "realloc_ok", cpu2);
	if (!cpu2)
		return;
	ktap_diag_bool(d, "realloc_same", dma2 == dma);
	nz = memchr_inv(cpu2, 0, size);
	ktap_diag_bool(d, "realloc_zeroed", !nz);
	if (nz) {
		ktap_diag_u64(d, "realloc_nonzero_offset", nz - (u8 *)cpu2);
		ktap_diag_reason(d, "not_zeroed_realloc");
	}
	memset(cpu2, DH_DIRT, size);
	dma_free_attrs(dev, size, cpu2, dma2, a->attrs);
}

static void dh_alloc_one(struct dh_ctx *ctx, struct ktap_suite *s,
			 const struct dh_attr *a, size_t size)
{
	struct device *dev = ctx->dev;
	struct ktap_diag d;
	dma_addr_t dma = 0;
	enum dh_kind kind;
	u64 t0, alloc_ns, free_ns;
	char test[64];
	void *cpu;

	snprintf(test, sizeof(test), "%s_%zu", a->slug, size);
	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", a->name);
	ktap_diag_u64(&d, "size", size);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	ktap_diag_u64(&d, "order", get_order(size));

	t0 = ktime_get_ns();
	cpu = dma_alloc_attrs(dev, size, &dma, GFP_KERNEL, a->attrs);
	alloc_ns = ktime_get_ns() - t0;

	ktap_diag_bool(&d, "ok", cpu);
	ktap_diag_u64(&d, "alloc_ns", alloc_ns);
	if (!cpu) {
		/* A failure report is what NO_WARN exists to suppress. */
		if (!(a->attrs & DMA_ATTR_NO_WARN))
			ktap_diag_expect_warn(&d);
		ktap_diag_emit(&d);
		ktap_result(s, test, true);
		return;
	}

	kind = dh_inspect(dev, &d, cpu, dma, size, a->attrs);

	/*
	 * Leave garbage behind so that an allocation reusing these pages
	 * without zeroing them is caught, by the realloc below or later.
	 */
	if (dh_kind_mapped(kind))
		memset(cpu, DH_DIRT, size);
	t0 = ktime_get_ns();
	dma_free_attrs(dev, size, cpu, dma, a->attrs);
	free_ns = ktime_get_ns() - t0;
	ktap_diag_u64(&d, "free_ns", free_ns);
	if (dh_kind_mapped(kind))
		dh_realloc(dev, &d, a, size, dma);
	ktap_diag_emit(&d);
	ktap_result(s, test, !d.reason[0]);
}

/*
 * Size of the i-th sample buffer: two and three pages in turn. Computed,
 * not stored, to keep the frame below arm's 1024-byte limit.
 */
static size_t dh_remap_size(unsigned int i)
{
	return (2 + i % 2) * PAGE_SIZE;
}

static void dh_remap_alignment_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	static const char test[] = "remap_cpu_alignment";
	unsigned int i, allocated = 0, remapped = 0, misaligned = 0;
	void *cpu[DH_REMAP_SAMPLE] = { };
	dma_addr_t dma[DH_REMAP_SAMPLE];
	struct ktap_diag d;

	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", "none");
	ktap_diag_u64(&d, "sample", DH_REMAP_SAMPLE);
	for (i = 0; i < DH_REMAP_SAMPLE; i++) {
		cpu[i] = dma_alloc_attrs(ctx->dev, dh_remap_size(i), &dma[i],
					 GFP_KERNEL, 0);
		if (!cpu[i])
			continue;
		allocated++;
		if (dh_addr_kind(cpu[i]) != DH_KIND_VMALLOC)
			continue;
		remapped++;
		if (!IS_ALIGNED((unsigned long)cpu[i],
				PAGE_SIZE << get_order(dh_remap_size(i))))
			misaligned++;
	}
	for (i = 0; i < DH_REMAP_SAMPLE; i++)
		if (cpu[i])
			dma_free_attrs(ctx->dev, dh_remap_size(i), cpu[i],
				       dma[i], 0);
	ktap_diag_u64(&d, "allocated", allocated);
	ktap_diag_u64(&d, "remapped", remapped);
	ktap_diag_u64(&d, "cpu_misaligned", misaligned);
	if (misaligned)
		ktap_diag_reason(&d, "misaligned_cpu");
	ktap_diag_emit(&d);
	if (!remapped)
		ktap_skip(s, test, "no remapped CPU address on this path");
	else
		ktap_result(s, test, !misaligned);
}

void dh_alloc_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	struct dh_attr big = { };
	size_t sizes[DH_NSIZES];
	unsigned int i, j, k;

	dh_sizes(sizes);
	dh_alloc_one(ctx, s, &dh_quiet_big, DH_BIG_SIZE);
	for (i = 0; i < dh_nattrs; i++)
		for (j = 0; j < DH_NSIZES; j++)
			dh_alloc_one(ctx, s, &dh_attrs[i], sizes[j]);
	for (i = 0; i < dh_nattr_pairs; i++)
		for (j = 0; j < DH_NSIZES; j++)
			dh_alloc_one(ctx, s, &dh_attr_pairs[i], sizes[j]);
	for (i = 0; i < ARRAY_SIZE(dh_big_attrs); i++) {
		for (k = 0; k < dh_nattrs; k++)
			if (dh_attrs[k].attrs == dh_big_attrs[i])
				big = dh_attrs[k];
		dh_alloc_one(ctx, s, &big, DH_BIG_SIZE);
	}
	dh_remap_alignment_run(ctx, s);
}
