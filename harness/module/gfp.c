// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_gfp: what dma_alloc_attrs() does with the GFP flags a driver
 * passes. dma-api.rst says the flag argument is only there to say whether
 * the call may sleep; zone modifiers are the implementation's business
 * (6.1's dma_alloc_attrs() strips __GFP_DMA, __GFP_DMA32 and
 * __GFP_HIGHMEM, and nothing strips __GFP_COMP before dma-direct). Every
 * result must still keep the usual promises (inspect.c).
 *
 * GFP_ATOMIC is tried where it matters: under a spinlock, the buffer freed
 * later outside it (freeing with interrupts off is not allowed).
 *
 * An impossible request (far beyond memory and the address space's page
 * arrays) must fail, with or without NO_WARN; with NO_WARN nothing may be
 * reported. Warnings and warn_alloc()'s "page allocation failure" reports
 * are counted from the console (watch.c); the host can also find those
 * lines in the console between the test's neighbours.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>

#include "harness.h"
#include "watch.h"

struct dh_gfp_case {
	const char *slug;	/* test name prefix */
	const char *name;	/* "gfp" key */
	gfp_t gfp;
	unsigned long attrs;
	const char *attrs_name;
	size_t size;
	bool atomic;		/* allocate under a spinlock */
};

static const struct dh_gfp_case dh_gfp_cases[] = {
	{ "gfp_dma", "GFP_KERNEL|__GFP_DMA", GFP_KERNEL | __GFP_DMA,
	  0, "none", SZ_4K },
	{ "gfp_dma", "GFP_KERNEL|__GFP_DMA", GFP_KERNEL | __GFP_DMA,
	  0, "none", SZ_1M },
	{ "gfp_dma32", "GFP_KERNEL|__GFP_DMA32", GFP_KERNEL | __GFP_DMA32,
	  0, "none", SZ_4K },
	{ "gfp_dma32", "GFP_KERNEL|__GFP_DMA32", GFP_KERNEL | __GFP_DMA32,
	  0, "none", SZ_1M },
	{ "gfp_highmem", "GFP_KERNEL|__GFP_HIGHMEM",
	  GFP_KERNEL | __GFP_HIGHMEM, 0, "none", SZ_4K },
	{ "gfp_highmem", "GFP_KERNEL|__GFP_HIGHMEM",
	  GFP_KERNEL | __GFP_HIGHMEM, 0, "none", SZ_1M },
	{ "gfp_comp", "GFP_KERNEL|__GFP_COMP", GFP_KERNEL | __GFP_COMP,
	  0, "none", SZ_4K },
	{ "gfp_comp", "GFP_KERNEL|__GFP_COMP", GFP_KERNEL | __GFP_COMP,
	  0, "none", SZ_64K },
	{ "gfp_comp_no_kernel_mapping", "GFP_KERNEL|__GFP_COMP",
	  GFP_KERNEL | __GFP_COMP, DMA_ATTR_NO_KERNEL_MAPPING,
	  "NO_KERNEL_MAPPING", SZ_64K },
	{ "gfp_atomic", "GFP_ATOMIC", GFP_ATOMIC, 0, "none", SZ_4K, true },
	{ "gfp_atomic", "GFP_ATOMIC", GFP_ATOMIC, 0, "none", SZ_64K, true },
	{ "gfp_atomic_write_combine", "GFP_ATOMIC", GFP_ATOMIC,
	  DMA_ATTR_WRITE_COMBINE, "WRITE_COMBINE", SZ_4K, true },
	{ "gfp_atomic_no_kernel_mapping", "GFP_ATOMIC", GFP_ATOMIC,
	  DMA_ATTR_NO_KERNEL_MAPPING, "NO_KERNEL_MAPPING", SZ_4K, true },
	{ "gfp_atomic_force_contiguous", "GFP_ATOMIC", GFP_ATOMIC,
	  DMA_ATTR_FORCE_CONTIGUOUS, "FORCE_CONTIGUOUS", SZ_64K, true },
};

static DEFINE_SPINLOCK(dh_gfp_lock);

unsigned int dh_gfp_plan(const struct dh_ctx *ctx)
{
	return ARRAY_SIZE(dh_gfp_cases) + 2;
}

static void dh_gfp_one(struct dh_ctx *ctx, struct ktap_suite *s,
		       const struct dh_gfp_case *c)
{
	struct device *dev = ctx->dev;
	struct ktap_diag d;
	dma_addr_t dma = 0;
	u64 t0, alloc_ns;
	char test[64];
	void *cpu;

	snprintf(test, sizeof(test), "%s_%zu", c->slug, c->size);
	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", c->attrs_name);
	ktap_diag_u64(&d, "size", c->size);
	ktap_diag_str(&d, "gfp", c->name);
	ktap_diag_u64(&d, "order", get_order(c->size));
	ktap_diag_bool(&d, "under_spinlock", c->atomic);

	if (c->atomic)
		spin_lock(&dh_gfp_lock);
	t0 = ktime_get_ns();
	cpu = dma_alloc_attrs(dev, c->size, &dma, c->gfp, c->attrs);
	alloc_ns = ktime_get_ns() - t0;
	if (c->atomic)
		spin_unlock(&dh_gfp_lock);

	ktap_diag_bool(&d, "ok", cpu);
	ktap_diag_u64(&d, "alloc_ns", alloc_ns);
	if (cpu) {
		enum dh_kind kind;

		kind = dh_inspect(dev, &d, cpu, dma, c->size, c->attrs);
		if (dh_kind_mapped(kind))
			memset(cpu, 0xa5, c->size);
		dma_free_attrs(dev, c->size, cpu, dma, c->attrs);
	} else {
		ktap_diag_expect_warn(&d);
	}
	ktap_diag_emit(&d);
	ktap_result(s, test, !d.reason[0]);
}

/*
 * Far beyond the guest's memory, and beyond what kvmalloc() accepts for
 * the IOMMU path's page array, so that no path can start reclaiming or
 * call the OOM killer: it is refused up front.
 */
static size_t dh_impossible_size(void)
{
#if BITS_PER_LONG == 64
	return (size_t)1 << 42;		/* 4 TiB */
#else
	return (size_t)3 << 30;		/* 3 GiB of a 4 GiB address space */
#endif
}

static void dh_impossible(struct dh_ctx *ctx, struct ktap_suite *s,
			  bool no_warn)
{
	unsigned long attrs = no_warn ? DMA_ATTR_NO_WARN : 0;
	const char *test = no_warn ? "impossible_no_warn" : "impossible_warn";
	size_t size = dh_impossible_size();
	struct device *dev = ctx->dev;
	struct ktap_diag d;
	dma_addr_t dma = 0;
	void *cpu;

	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", no_warn ? "NO_WARN" : "none");
	ktap_diag_u64(&d, "size", size);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	ktap_diag_u64(&d, "ram_bytes", (u64)totalram_pages() << PAGE_SHIFT);
	cpu = dma_alloc_attrs(dev, size, &dma, GFP_KERNEL, attrs);
	ktap_diag_watch(&d);
	ktap_diag_bool(&d, "ok", cpu);
	ktap_diag_bool(&d, "warn_console", dh_watch_console());
	ktap_diag_u64(&d, "alloc_warnings", d.delta.warnings);
	ktap_diag_u64(&d, "alloc_failure_reports", d.delta.splats);
	ktap_diag_bool(&d, "alloc_warn_taint", d.delta.new_taint);
	/* The console lines themselves are evidence the host can check. */
	ktap_diag_bool(&d, "host_checks_console", true);
	if (cpu) {
		ktap_diag_reason(&d, "impossible_succeeded");
		dma_free_attrs(dev, size, cpu, dma, attrs);
	}
	/*
	 * With NO_WARN a WARN() fails the test through the watch (reason
	 * warn_taint); a failure report, which taints nothing, here.
	 */
	if (no_warn && (d.delta.splats || d.delta.cma_reports))
		ktap_diag_reason(&d, "warned_despite_no_warn");
	if (!no_warn)
		ktap_diag_expect_warn(&d);
	ktap_diag_emit(&d);
	ktap_result(s, test, !d.reason[0]);
}

void dh_gfp_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dh_gfp_cases); i++)
		dh_gfp_one(ctx, s, &dh_gfp_cases[i]);
	/*
	 * NO_WARN first: a WARN_ON_ONCE() on the way that ignores NO_WARN
	 * would otherwise have fired already, in the test that allows it.
	 */
	dh_impossible(ctx, s, true);
	dh_impossible(ctx, s, false);
}
