// SPDX-License-Identifier: GPL-2.0
/*
 * The DMA attributes Linux 6.1 defines, each tried alone, plus no
 * attribute at all as the baseline every arch must honour.
 */
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/mm.h>

#include "harness.h"

const struct dh_attr dh_attrs[] = {
	{ 0, "none", "none" },
	{ DMA_ATTR_WEAK_ORDERING, "WEAK_ORDERING", "weak_ordering" },
	{ DMA_ATTR_WRITE_COMBINE, "WRITE_COMBINE", "write_combine" },
	{ DMA_ATTR_NO_KERNEL_MAPPING, "NO_KERNEL_MAPPING",
	  "no_kernel_mapping" },
	{ DMA_ATTR_SKIP_CPU_SYNC, "SKIP_CPU_SYNC", "skip_cpu_sync" },
	{ DMA_ATTR_FORCE_CONTIGUOUS, "FORCE_CONTIGUOUS", "force_contiguous" },
	{ DMA_ATTR_ALLOC_SINGLE_PAGES, "ALLOC_SINGLE_PAGES",
	  "alloc_single_pages" },
	{ DMA_ATTR_NO_WARN, "NO_WARN", "no_warn" },
	{ DMA_ATTR_PRIVILEGED, "PRIVILEGED", "privileged" },
};

const unsigned int dh_nattrs = ARRAY_SIZE(dh_attrs);

/*
 * Pairs whose combination means something: a write-combined or contiguous
 * buffer nobody maps, contiguous and write-combined at once, two
 * contradictory placement hints, single pages without failure reports.
 */
const struct dh_attr dh_attr_pairs[] = {
	{ DMA_ATTR_WRITE_COMBINE | DMA_ATTR_NO_KERNEL_MAPPING,
	  "WRITE_COMBINE+NO_KERNEL_MAPPING",
	  "write_combine_and_no_kernel_mapping" },
	{ DMA_ATTR_FORCE_CONTIGUOUS | DMA_ATTR_NO_KERNEL_MAPPING,
	  "FORCE_CONTIGUOUS+NO_KERNEL_MAPPING",
	  "force_contiguous_and_no_kernel_mapping" },
	{ DMA_ATTR_ALLOC_SINGLE_PAGES | DMA_ATTR_NO_WARN,
	  "ALLOC_SINGLE_PAGES+NO_WARN", "alloc_single_pages_and_no_warn" },
	{ DMA_ATTR_WRITE_COMBINE | DMA_ATTR_FORCE_CONTIGUOUS,
	  "WRITE_COMBINE+FORCE_CONTIGUOUS",
	  "write_combine_and_force_contiguous" },
	{ DMA_ATTR_FORCE_CONTIGUOUS | DMA_ATTR_ALLOC_SINGLE_PAGES,
	  "FORCE_CONTIGUOUS+ALLOC_SINGLE_PAGES",
	  "force_contiguous_and_alloc_single_pages" },
};

const unsigned int dh_nattr_pairs = ARRAY_SIZE(dh_attr_pairs);

/*
 * vmalloc first: on some arches virt_addr_valid() alone is not precise
 * enough to tell a remapped buffer from the linear map.
 */
enum dh_kind dh_addr_kind(const void *cpu)
{
	if (is_vmalloc_addr(cpu))
		return DH_KIND_VMALLOC;
	if (virt_addr_valid(cpu))
		return DH_KIND_LINEAR;
	return DH_KIND_COOKIE;
}

const char *dh_kind_name(enum dh_kind kind)
{
	switch (kind) {
	case DH_KIND_LINEAR:
		return "linear";
	case DH_KIND_VMALLOC:
		return "vmalloc";
	default:
		return "cookie";
	}
}
