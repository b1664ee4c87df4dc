/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the lines dma_harness builds for: Debian
 * 12 (6.1), Debian 13 (6.12) and unstable (7.x). Every version check of
 * the module is here; the .c files use the dh_ names below and never test
 * LINUX_VERSION_CODE themselves. Each entry says which release changed
 * what, so that an entry can go when its old line is no longer built.
 */
#ifndef DMA_HARNESS_COMPAT_H
#define DMA_HARNESS_COMPAT_H

#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/pci.h>
#include <linux/swiotlb.h>
#include <linux/types.h>
#include <linux/version.h>

struct device;

/*
 * True when the module is built for release @maj.@min or later. The one
 * place LINUX_VERSION_CODE is read (check-style.sh allows it here only).
 */
#define DH_SINCE(maj, min)	(KERNEL_VERSION(maj, min, 0) <= LINUX_VERSION_CODE)

/*
 * The INTx interrupt type of pci_alloc_irq_vectors(): 6.8 renamed
 * PCI_IRQ_LEGACY to PCI_IRQ_INTX (same bit); the old name is gone by 6.12.
 */
#if DH_SINCE(6, 8)
#define DH_PCI_IRQ_INTX		PCI_IRQ_INTX
#else
#define DH_PCI_IRQ_INTX		PCI_IRQ_LEGACY
#endif

/*
 * The buddy allocator's order bound, always in 6.1's meaning: orders
 * 0 .. DH_MAX_ORDER - 1 exist, the largest block is
 * PAGE_SIZE << (DH_MAX_ORDER - 1) (PROTOCOL.md's max_order). 6.4 made
 * MAX_ORDER inclusive (the largest order itself), 6.8 renamed it
 * MAX_PAGE_ORDER. Reports of all lines then compare.
 */
#if DH_SINCE(6, 8)
#define DH_MAX_ORDER		(MAX_PAGE_ORDER + 1)
#elif DH_SINCE(6, 4)
#define DH_MAX_ORDER		(MAX_ORDER + 1)
#else
#define DH_MAX_ORDER		MAX_ORDER
#endif

/*
 * Whether @dev's DMA may bounce through a swiotlb pool. 6.5 stopped
 * exporting is_swiotlb_active() (not in 6.12's or 7.x's exports); what
 * that function returns, a pool with slots, is read from the device here.
 */
static inline bool dh_is_swiotlb_active(struct device *dev)
{
#if !DH_SINCE(6, 5)
	return is_swiotlb_active(dev);
#elif IS_ENABLED(CONFIG_SWIOTLB)
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && mem->nslabs;
#else
	return false;
#endif
}

/*
 * Whether @paddr lies in a swiotlb bounce buffer of @dev. 6.12 replaced
 * is_swiotlb_buffer() with swiotlb_find_pool(). With
 * CONFIG_SWIOTLB_DYNAMIC the latter calls __swiotlb_find_pool(), which is
 * not exported to modules: only the default pool is looked at then (off
 * in Debian's kernels, where the answer is exact).
 */
static inline bool dh_is_swiotlb_buffer(struct device *dev,
					phys_addr_t paddr)
{
#if !DH_SINCE(6, 12)
	return is_swiotlb_buffer(dev, paddr);
#elif IS_ENABLED(CONFIG_SWIOTLB_DYNAMIC)
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && paddr >= mem->defpool.start &&
	       paddr < mem->defpool.end;
#else
	return swiotlb_find_pool(dev, paddr);
#endif
}

/*
 * The @n-th page after @page in one physically contiguous range (an sg
 * entry). 6.18 removed nth_page(): such ranges no longer cross a
 * discontiguous memmap, plain pointer arithmetic is right.
 */
#if DH_SINCE(6, 18)
#define dh_nth_page(page, n)	((page) + (n))
#else
#define dh_nth_page(page, n)	nth_page(page, n)
#endif

#endif /* DMA_HARNESS_COMPAT_H */
