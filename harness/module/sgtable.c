// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_sgtable: dma_get_sgtable_attrs() describes a dma_alloc_attrs()
 * buffer as a scatterlist (kernel/dma/mapping.c: "Create a scatter list for
 * the dma_alloc_attrs buffer"), which drivers hand to other subsystems
 * (dma-buf exporters) that then map it for their own device. The table's
 * segments must cover the buffer, no more than its page-rounded size, and
 * name exactly the pages behind the buffer's kernel mapping; the table must
 * then map with dma_map_sgtable() and cover the same length in DMA space.
 *
 * Per attribute and three sizes (one not a page multiple). A failing
 * dma_get_sgtable_attrs() is data (the call is not in dma-api.rst, and an
 * implementation may refuse): ok stays a statement about the allocation,
 * sgt_ok about the table.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "harness.h"

#define DH_SGT_NSIZES	3

static size_t dh_sgt_size(unsigned int i)
{
	static const size_t pages[DH_SGT_NSIZES] = { 1, 3, 16 };

	/* PAGE_SIZE, 3 * PAGE_SIZE + 1 (not a page multiple), 64 KiB on 4K */
	return pages[i] * PAGE_SIZE + (i == 1);
}

unsigned int dh_sgtable_plan(const struct dh_ctx *ctx)
{
	return dh_nattrs * DH_SGT_NSIZES;
}

static struct page *dh_buf_page(void *cpu, enum dh_kind kind, size_t off)
{
	if (kind == DH_KIND_LINEAR)
		return virt_to_page(cpu + off);
	return vmalloc_to_page(cpu + off);
}

struct dh_sgt_walk {
	u64 length_sum;
	bool pages_match;
	long mismatch_page;	/* first buffer page that differs, or -1 */
};

/*
 * Sums the CPU-side segment lengths and, with a kernel mapping, compares
 * every page a segment names with the page behind the buffer at the same
 * offset.
 */
static void dh_sgt_walk(struct sg_table *sgt, void *cpu, enum dh_kind kind,
			struct dh_sgt_walk *w)
{
	struct scatterlist *sg;
	size_t pos = 0;
	unsigned int i;

	w->length_sum = 0;
	w->pages_match = true;
	w->mismatch_page = -1;
	for_each_sgtable_sg(sgt, sg, i) {
		size_t off;

		w->length_sum += sg->length;
		if (kind == DH_KIND_COOKIE)
			continue;
		for (off = 0; off < sg->length; off += PAGE_SIZE) {
			size_t in = sg->offset + off;
			struct page *page = dh_nth_page(sg_page(sg),
							in >> PAGE_SHIFT);

			if (w->pages_match &&
			    page != dh_buf_page(cpu, kind, pos + off)) {
				w->pages_match = false;
				w->mismatch_page = (pos + off) >> PAGE_SHIFT;
			}
		}
		pos += sg->length;
	}
}

static void dh_sgt_one(struct dh_ctx *ctx, struct ktap_suite *s,
		       const struct dh_attr *a, size_t size)
{
	struct device *dev = ctx->dev;
	bool nomap = a->attrs & DMA_ATTR_NO_KERNEL_MAPPING;
	const char *reason = NULL;
	struct scatterlist *sg;
	struct dh_sgt_walk w;
	struct sg_table sgt;
	struct ktap_diag d;
	dma_addr_t dma = 0;
	enum dh_kind kind;
	u64 mapped_len = 0;
	unsigned int i;
	char test[48];
	void *cpu;
	int ret;

	snprintf(test, sizeof(test), "%s_%zu", a->slug, size);
	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", a->name);
	ktap_diag_u64(&d, "size", size);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");

	cpu = dma_alloc_attrs(dev, size, &dma, GFP_KERNEL, a->attrs);
	ktap_diag_bool(&d, "ok", cpu);
	if (!cpu) {
		ktap_diag_emit(&d);
		ktap_result(s, test, true);
		return;
	}
	kind = nomap ? DH_KIND_COOKIE : dh_addr_kind(cpu);
	ktap_diag_hex(&d, "dma", dma);
	ktap_diag_str(&d, "mapping", dh_kind_name(kind));

	ret = dma_get_sgtable_attrs(dev, &sgt, cpu, dma, size, a->attrs);
	ktap_diag_bool(&d, "sgt_ok", !ret);
	if (ret) {
		ktap_diag_u64(&d, "errno", -ret);
		goto out_free;
	}

	dh_sgt_walk(&sgt, cpu, kind, &w);
	ktap_diag_u64(&d, "nents", sgt.nents);
	ktap_diag_u64(&d, "orig_nents", sgt.orig_nents);
	ktap_diag_u64(&d, "length_sum", w.length_sum);
	if (sgt.orig_nents)
		ktap_diag_hex(&d, "phys", page_to_phys(sg_page(sgt.sgl)) +
			      sgt.sgl->offset);
	if (w.length_sum < size || w.length_sum > PAGE_ALIGN(size))
		reason = "length_mismatch";
	if (kind != DH_KIND_COOKIE) {
		ktap_diag_bool(&d, "pages_match", w.pages_match);
		if (!w.pages_match) {
			ktap_diag_u64(&d, "mismatch_page", w.mismatch_page);
			reason = reason ? "length_mismatch+pages_mismatch" :
					  "pages_mismatch";
		}
	}

	ret = dma_map_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0);
	if (ret) {
		ktap_diag_u64(&d, "mapped_nents", 0);
		ktap_diag_u64(&d, "map_errno", -ret);
	} else {
		for_each_sgtable_dma_sg(&sgt, sg, i)
			mapped_len += sg_dma_len(sg);
		ktap_diag_u64(&d, "mapped_nents", sgt.nents);
		ktap_diag_u64(&d, "mapped_length", mapped_len);
		ktap_diag_hex(&d, "mapped_dma", sg_dma_address(sgt.sgl));
		dma_unmap_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0);
		if (mapped_len != w.length_sum && !reason)
			reason = "map_length_mismatch";
	}
	sg_free_table(&sgt);

out_free:
	dma_free_attrs(dev, size, cpu, dma, a->attrs);
	if (reason)
		ktap_diag_str(&d, "reason", reason);
	ktap_diag_emit(&d);
	ktap_result(s, test, !reason);
}

void dh_sgtable_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	unsigned int i, j;

	for (i = 0; i < dh_nattrs; i++)
		for (j = 0; j < DH_SGT_NSIZES; j++)
			dh_sgt_one(ctx, s, &dh_attrs[i], dh_sgt_size(j));
}
