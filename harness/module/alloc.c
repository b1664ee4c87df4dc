// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_alloc: dma_alloc_attrs() for every attribute alone and a few
 * sizes, checked against what Documentation/core-api/dma-api-howto.rst
 * promises for any arch: zeroed memory, CPU and DMA addresses aligned to
 * the smallest page order covering the size, the whole buffer within the
 * coherent mask.
 *
 * A refused allocation is not a broken promise (attributes are allowed to
 * be unsupported): it is reported as ok=0 on a passing test and the host
 * classifies it.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "harness.h"

#define DH_NSIZES	5
#define DH_DIRT		0xa5

static void dh_sizes(size_t sizes[DH_NSIZES])
{
	sizes[0] = 1;
	sizes[1] = PAGE_SIZE;
	sizes[2] = 3 * PAGE_SIZE + 1;	/* not a power of two, order rounds up */
	sizes[3] = SZ_64K;
	sizes[4] = SZ_1M;
}

unsigned int dh_alloc_plan(const struct dh_ctx *ctx)
{
	return dh_nattrs * DH_NSIZES;
}

/*
 * Returns the physical address of the buffer's first page and whether all
 * its pages follow each other physically. A linear-map buffer is contiguous
 * by construction; a remapped one is checked page by page.
 */
static phys_addr_t dh_phys(void *cpu, size_t size, enum dh_kind kind,
			   bool *contiguous)
{
	unsigned long npages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	unsigned long first, i;
	struct page *page;

	*contiguous = true;
	if (kind == DH_KIND_LINEAR)
		return virt_to_phys(cpu);

	page = vmalloc_to_page(cpu);
	if (!page) {
		*contiguous = false;
		return 0;
	}
	first = page_to_pfn(page);
	for (i = 1; i < npages; i++) {
		page = vmalloc_to_page(cpu + i * PAGE_SIZE);
		if (!page || page_to_pfn(page) != first + i) {
			*contiguous = false;
			break;
		}
	}
	return PFN_PHYS(first);
}

struct dh_alloc_res {
	const char *reason;
	char reasons[96];
};

static void dh_fail(struct dh_alloc_res *r, const char *why)
{
	size_t len = strlen(r->reasons);

	scnprintf(r->reasons + len, sizeof(r->reasons) - len, "%s%s",
		  len ? "+" : "", why);
	r->reason = r->reasons;
}

static void dh_alloc_one(struct dh_ctx *ctx, struct ktap_suite *s,
			 const struct dh_attr *a, size_t size)
{
	struct device *dev = ctx->dev;
	unsigned int order = get_order(size);
	unsigned long align = PAGE_SIZE << order;
	struct dh_alloc_res res = { };
	bool nomap = a->attrs & DMA_ATTR_NO_KERNEL_MAPPING;
	char test[48];
	struct ktap_diag d;
	dma_addr_t dma = 0;
	enum dh_kind kind;
	u64 t0, alloc_ns, free_ns;
	void *cpu;

	snprintf(test, sizeof(test), "%s_%zu", a->slug, size);
	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", a->name);
	ktap_diag_u64(&d, "size", size);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	ktap_diag_u64(&d, "order", order);

	t0 = ktime_get_ns();
	cpu = dma_alloc_attrs(dev, size, &dma, GFP_KERNEL, a->attrs);
	alloc_ns = ktime_get_ns() - t0;

	ktap_diag_bool(&d, "ok", cpu);
	ktap_diag_u64(&d, "alloc_ns", alloc_ns);
	if (!cpu) {
		ktap_diag_emit(&d);
		ktap_result(s, test, true);
		return;
	}

	kind = dh_addr_kind(cpu);
	ktap_diag_hex(&d, "dma", dma);
	/*
	 * With NO_KERNEL_MAPPING the returned pointer is an opaque cookie
	 * (dma-direct hands back the struct page pointer, which on 32-bit ARM
	 * even looks like a linear-map address): never dereference it, never
	 * interpret it, only report what it looked like.
	 */
	if (nomap) {
		ktap_diag_str(&d, "mapping", "cookie");
		ktap_diag_str(&d, "cookie_kind", dh_kind_name(kind));
		kind = DH_KIND_COOKIE;
	} else {
		ktap_diag_str(&d, "mapping", dh_kind_name(kind));
	}

	if (kind != DH_KIND_COOKIE) {
		bool contiguous;
		phys_addr_t phys = dh_phys(cpu, size, kind, &contiguous);
		const u8 *nz = memchr_inv(cpu, 0, size);

		ktap_diag_hex(&d, "phys", phys);
		ktap_diag_bool(&d, "dma_eq_phys", (u64)dma == (u64)phys);
		ktap_diag_bool(&d, "contiguous", contiguous);
		ktap_diag_bool(&d, "zeroed", !nz);
		if (nz) {
			ktap_diag_u64(&d, "nonzero_offset", nz - (u8 *)cpu);
			dh_fail(&res, "not_zeroed");
		}
		ktap_diag_bool(&d, "cpu_align_ok",
			       IS_ALIGNED((unsigned long)cpu, align));
		if (!IS_ALIGNED((unsigned long)cpu, align))
			dh_fail(&res, "misaligned_cpu");
	}

	ktap_diag_bool(&d, "dma_align_ok", IS_ALIGNED((u64)dma, align));
	if (!IS_ALIGNED((u64)dma, align))
		dh_fail(&res, "misaligned");
	if ((u64)dma + size - 1 > dev->coherent_dma_mask ||
	    (u64)dma + size - 1 < (u64)dma) {
		ktap_diag_bool(&d, "in_mask", false);
		dh_fail(&res, "outside_mask");
	} else {
		ktap_diag_bool(&d, "in_mask", true);
	}

	/*
	 * Leave garbage behind so that a later allocation reusing these pages
	 * without zeroing them is caught by its own zero check.
	 */
	if (kind != DH_KIND_COOKIE)
		memset(cpu, DH_DIRT, size);

	t0 = ktime_get_ns();
	dma_free_attrs(dev, size, cpu, dma, a->attrs);
	free_ns = ktime_get_ns() - t0;
	ktap_diag_u64(&d, "free_ns", free_ns);
	if (res.reason)
		ktap_diag_str(&d, "reason", res.reason);
	ktap_diag_emit(&d);
	ktap_result(s, test, !res.reason);
}

void dh_alloc_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	size_t sizes[DH_NSIZES];
	unsigned int i, j;

	dh_sizes(sizes);
	for (i = 0; i < dh_nattrs; i++)
		for (j = 0; j < DH_NSIZES; j++)
			dh_alloc_one(ctx, s, &dh_attrs[i], sizes[j]);
}
