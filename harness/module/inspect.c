// SPDX-License-Identifier: GPL-2.0
/*
 * One live dma_alloc_attrs() buffer seen from both sides: the CPU's (the
 * pages behind the returned address) and the device's (the pages the DMA
 * handle translates to, through dma-direct's bus offset or the IOMMU's
 * page table), page by page. dma-api-howto.rst promises that both are the
 * same memory, zeroed, aligned to the size's page order (so that nothing of
 * 64 KiB or less crosses a 64 KiB boundary), and within the coherent mask;
 * dma-attributes.rst promises that FORCE_CONTIGUOUS memory is physically
 * contiguous.
 */
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "harness.h"

/*
 * The physical address the device reaches through @dma: dma-direct's
 * translation without ops, the IOMMU's page table behind a DMA-API domain.
 * Other ops cannot be looked through: false.
 */
bool dh_dma_phys(struct device *dev, dma_addr_t dma, phys_addr_t *phys)
{
	struct iommu_domain *dom;

	if (!get_dma_ops(dev)) {
		*phys = dma_to_phys(dev, dma);
		return true;
	}
	dom = iommu_get_domain_for_dev(dev);
	if (dom && iommu_is_dma_domain(dom)) {
		*phys = iommu_iova_to_phys(dom, dma);
		return *phys != 0;
	}
	return false;
}

/* The physical address behind a CPU address of the buffer. */
static bool dh_cpu_phys(void *cpu, enum dh_kind kind, phys_addr_t *phys)
{
	struct page *page;

	if (kind == DH_KIND_LINEAR) {
		*phys = virt_to_phys(cpu);
		return true;
	}
	page = vmalloc_to_page(cpu);
	if (!page)
		return false;
	*phys = page_to_phys(page) + offset_in_page(cpu);
	return true;
}

/*
 * Whether a NO_KERNEL_MAPPING "cookie" is in fact a kernel mapping of the
 * buffer's first page: its linear address, or a vmalloc address mapping
 * it. Only addresses are compared, the cookie is never dereferenced.
 */
static bool dh_cookie_is_buffer(void *cookie, phys_addr_t phys)
{
	struct page *page;

	if (!pfn_valid(PHYS_PFN(phys)))
		return false;
	page = pfn_to_page(PHYS_PFN(phys));
	if (!PageHighMem(page) && cookie == page_address(page))
		return true;
	return is_vmalloc_addr(cookie) && vmalloc_to_page(cookie) == page;
}

/* The zone the page at @phys belongs to, as /proc/zoneinfo names it. */
static const char *dh_zone_name(phys_addr_t phys)
{
	if (!pfn_valid(PHYS_PFN(phys)))
		return "none";
	switch (page_zonenum(pfn_to_page(PHYS_PFN(phys)))) {
#ifdef CONFIG_ZONE_DMA
	case ZONE_DMA:
		return "DMA";
#endif
#ifdef CONFIG_ZONE_DMA32
	case ZONE_DMA32:
		return "DMA32";
#endif
	case ZONE_NORMAL:
		return "Normal";
#ifdef CONFIG_HIGHMEM
	case ZONE_HIGHMEM:
		return "HighMem";
#endif
	case ZONE_MOVABLE:
		return "Movable";
	default:
		return "other";
	}
}

struct dh_walk {
	bool dma_known, cpu_known;
	bool contiguous;	/* CPU view */
	bool agree;
	unsigned long segments;	/* DMA view */
	unsigned long bad_page;
	phys_addr_t dma_first, cpu_first;
};

static void dh_walk(struct device *dev, void *cpu, dma_addr_t dma,
		    size_t size, enum dh_kind kind, struct dh_walk *w)
{
	unsigned long npages = max_t(unsigned long, 1,
				     PAGE_ALIGN(size) >> PAGE_SHIFT);
	phys_addr_t dp = 0, cp = 0, dprev = 0, cprev = 0;
	unsigned long i;

	w->dma_known = true;
	w->cpu_known = dh_kind_mapped(kind);
	w->contiguous = true;
	w->agree = true;
	w->segments = 1;
	w->bad_page = 0;
	w->dma_first = 0;
	w->cpu_first = 0;

	for (i = 0; i < npages; i++) {
		if (w->dma_known &&
		    dh_dma_phys(dev, dma + i * PAGE_SIZE, &dp)) {
			if (!i)
				w->dma_first = dp;
			else if (dp != dprev + PAGE_SIZE)
				w->segments++;
			dprev = dp;
		} else {
			w->dma_known = false;
		}
		if (!w->cpu_known)
			continue;
		if (!dh_cpu_phys(cpu + i * PAGE_SIZE, kind, &cp)) {
			w->cpu_known = false;
			w->contiguous = false;
			continue;
		}
		if (!i)
			w->cpu_first = cp;
		else if (cp != cprev + PAGE_SIZE)
			w->contiguous = false;
		cprev = cp;
		if (w->dma_known && w->agree && cp != dp) {
			w->agree = false;
			w->bad_page = i;
		}
	}
}

/*
 * The memory type of the kernel's own mapping of the buffer, where the arch
 * lets a module read its page table: x86's lookup_address(), the PAT and
 * cache bits of the PTE (what DMA_ATTR_WRITE_COMBINE would change).
 */
static void dh_kernel_pte_cache(struct ktap_diag *d, const void *cpu)
{
#ifdef CONFIG_X86
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)cpu, &level);

	if (pte)
		ktap_diag_hex(d, "kernel_pte_cache",
			      pte_flags(*pte) & _PAGE_CACHE_MASK);
#endif
}

enum dh_kind dh_inspect(struct device *dev, struct ktap_diag *d, void *cpu,
			dma_addr_t dma, size_t size, unsigned long attrs)
{
	unsigned long align = PAGE_SIZE << get_order(size);
	enum dh_kind kind = dh_addr_kind(cpu);
	u64 end = (u64)dma + size - 1;
	struct dh_walk w;
	bool cpu_aligned;

	ktap_diag_hex(d, "dma", dma);
	/*
	 * With NO_KERNEL_MAPPING the returned pointer is an opaque cookie
	 * (dma-direct hands back the struct page pointer, which on 32-bit ARM
	 * even looks like a linear-map address): never dereference it, only
	 * report what it looked like and whether it is the buffer's address.
	 */
	if (attrs & DMA_ATTR_NO_KERNEL_MAPPING) {
		ktap_diag_str(d, "mapping", "cookie");
		ktap_diag_str(d, "cookie_kind", dh_kind_name(kind));
		kind = DH_KIND_COOKIE;
	} else {
		ktap_diag_str(d, "mapping", dh_kind_name(kind));
	}

	dh_walk(dev, cpu, dma, size, kind, &w);
	if (kind == DH_KIND_COOKIE && w.dma_known)
		ktap_diag_bool(d, "cookie_is_buffer",
			       dh_cookie_is_buffer(cpu, w.dma_first));
	if (w.cpu_known) {
		ktap_diag_hex(d, "phys", w.cpu_first);
		ktap_diag_bool(d, "dma_eq_phys", (u64)dma == (u64)w.cpu_first);
	}
	if (dh_kind_mapped(kind))
		ktap_diag_bool(d, "contiguous", w.contiguous);
	if (w.dma_known) {
		ktap_diag_hex(d, "dma_phys", w.dma_first);
		ktap_diag_str(d, "zone", dh_zone_name(w.dma_first));
		ktap_diag_u64(d, "segments", w.segments);
	}
	if (w.dma_known && w.cpu_known) {
		ktap_diag_bool(d, "views_agree", w.agree);
		if (!w.agree) {
			ktap_diag_u64(d, "views_mismatch_page", w.bad_page);
			ktap_diag_reason(d, "views_disagree");
		}
	}
	if ((attrs & DMA_ATTR_FORCE_CONTIGUOUS) &&
	    ((w.dma_known && w.segments > 1) ||
	     (dh_kind_mapped(kind) && !w.contiguous)))
		ktap_diag_reason(d, "not_contiguous");

	if (dh_kind_mapped(kind)) {
		const u8 *nz = memchr_inv(cpu, 0, size);

		dh_kernel_pte_cache(d, cpu);

		ktap_diag_bool(d, "zeroed", !nz);
		if (nz) {
			ktap_diag_u64(d, "nonzero_offset", nz - (u8 *)cpu);
			ktap_diag_reason(d, "not_zeroed");
		}
		cpu_aligned = IS_ALIGNED((unsigned long)cpu, align);
		ktap_diag_bool(d, "cpu_align_ok", cpu_aligned);
		/*
		 * A remapped CPU address is placed by vmalloc, which aligns
		 * VM_DMA_COHERENT areas to PAGE_SIZE only: whether it is also
		 * aligned to the order depends on the free vmap space, which
		 * lazy purging changes from run to run. One address proves
		 * nothing either way; dma_alloc.remap_cpu_alignment judges a
		 * sample held at once (dh_remap_alignment_run()).
		 */
		if (kind == DH_KIND_VMALLOC)
			ktap_diag_str(d, "cpu_align_by", "placement");
		else if (!cpu_aligned)
			ktap_diag_reason(d, "misaligned_cpu");
	}

	ktap_diag_bool(d, "dma_align_ok", IS_ALIGNED((u64)dma, align));
	if (!IS_ALIGNED((u64)dma, align))
		ktap_diag_reason(d, "misaligned");
	if (end > dev->coherent_dma_mask || end < (u64)dma) {
		ktap_diag_bool(d, "in_mask", false);
		ktap_diag_reason(d, "outside_mask");
	} else {
		ktap_diag_bool(d, "in_mask", true);
	}
	if (size <= SZ_64K) {
		bool crosses = ((u64)dma ^ end) & ~(u64)(SZ_64K - 1);

		ktap_diag_bool(d, "crosses_64k", crosses);
		if (crosses)
			ktap_diag_reason(d, "crosses_64k");
	}
	return kind;
}
