/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared state of the dma_harness suites.
 *
 * A suite is a function that gets the bound device and prints one KTAP
 * subtest; adding a check family means adding a file with one such
 * function and one line in main.c's suite table.
 */
#ifndef DMA_HARNESS_H
#define DMA_HARNESS_H

#include <linux/types.h>

#include "edu.h"
#include "ktap.h"

struct device;
struct pci_dev;

struct dh_ctx {
	struct pci_dev *pdev;		/* NULL in the noncoherent variant */
	struct device *dev;
	struct edu_dev edu;
	u32 edu_id;		/* edu's identification register */
	int mask_bits;		/* what edu_dma_bits asked for */
	int mask_rc;		/* dma_set_mask_and_coherent() result */
	const char *variant;	/* direct, iommu or noncoherent (host's word) */
};

struct dh_attr {
	unsigned long attrs;
	const char *name;	/* "attrs" key value: DMA_ATTR_* without prefix */
	const char *slug;	/* lower-case, used in test names */
};

extern const struct dh_attr dh_attrs[];
extern const unsigned int dh_nattrs;
extern const struct dh_attr dh_attr_pairs[];
extern const unsigned int dh_nattr_pairs;

struct dh_suite {
	const char *name;
	unsigned int (*plan)(const struct dh_ctx *ctx);
	void (*run)(struct dh_ctx *ctx, struct ktap_suite *s);
	/*
	 * True when the suite also runs without edu, on the noncoherent
	 * variant's platform device (ctx->pdev NULL): it only allocates, or
	 * it guards every step that makes the device do DMA with ctx->pdev.
	 */
	bool without_edu;
};

unsigned int dh_discovery_plan(const struct dh_ctx *ctx);
void dh_discovery_run(struct dh_ctx *ctx, struct ktap_suite *s);
u64 dh_ram_above(u64 limit, u64 *top);
unsigned int dh_alloc_plan(const struct dh_ctx *ctx);
void dh_alloc_run(struct dh_ctx *ctx, struct ktap_suite *s);
unsigned int dh_edu_plan(const struct dh_ctx *ctx);
void dh_edu_run(struct dh_ctx *ctx, struct ktap_suite *s);
unsigned int dh_masks_plan(const struct dh_ctx *ctx);
void dh_masks_run(struct dh_ctx *ctx, struct ktap_suite *s);
unsigned int dh_gfp_plan(const struct dh_ctx *ctx);
void dh_gfp_run(struct dh_ctx *ctx, struct ktap_suite *s);
unsigned int dh_bench_plan(const struct dh_ctx *ctx);
void dh_bench_run(struct dh_ctx *ctx, struct ktap_suite *s);
unsigned int dh_sgtable_plan(const struct dh_ctx *ctx);
void dh_sgtable_run(struct dh_ctx *ctx, struct ktap_suite *s);
unsigned int dh_noncoherent_plan(const struct dh_ctx *ctx);
void dh_noncoherent_run(struct dh_ctx *ctx, struct ktap_suite *s);
unsigned int dh_lifetime_plan(const struct dh_ctx *ctx);
void dh_lifetime_run(struct dh_ctx *ctx, struct ktap_suite *s);

/* Kind of CPU address dma_alloc_attrs() returned. */
enum dh_kind {
	DH_KIND_LINEAR,
	DH_KIND_VMALLOC,
	DH_KIND_COOKIE,
};

enum dh_kind dh_addr_kind(const void *cpu);
bool dh_dma_phys(struct device *dev, dma_addr_t dma, phys_addr_t *phys);
const char *dh_kind_name(enum dh_kind kind);

/*
 * Checks one live dma_alloc_attrs() buffer against the promises every
 * allocation carries and prints what it saw (keys "dma" to "crosses_64k"
 * of PROTOCOL.md's dma_alloc); a broken promise adds a reason to d.
 * Never dereferences a NO_KERNEL_MAPPING cookie.
 */
enum dh_kind dh_inspect(struct device *dev, struct ktap_diag *d, void *cpu,
			dma_addr_t dma, size_t size, unsigned long attrs);
/* True when the buffer can be read by the CPU (not a cookie). */
static inline bool dh_kind_mapped(enum dh_kind kind)
{
	return kind != DH_KIND_COOKIE;
}

/* Memory counters a leak would move (memstat.c); sizes in KiB. */
struct dh_memsnap {
	u64 free_kb;		/* si_meminfo() freeram: MemFree */
	u64 total_kb;
	u64 pcp_pages;		/* pages on per-CPU free lists (zoneinfo) */
	u64 cma_free_kb;	/* NR_FREE_CMA_PAGES */
	u64 cma_total_kb;
	u64 vmalloc_used_kb;	/* meminfo VmallocUsed */
	u64 slab_kb;
	u64 dma_remaps;		/* vmallocinfo areas flagged dma-coherent */
	u64 remap_bytes;	/* their sizes, guard pages included */
	u64 pool_bytes;		/* the atomic pools' sizes, 0 if unknown */
	bool have_pcp, have_remaps, have_meminfo;
};

int dh_memsnap_take(struct dh_memsnap *snap);
/* The atomic pools' sizes when this load started (the init's pool_bytes). */
extern unsigned long long dh_start_pool_bytes;
void dh_memsnap_at_start(struct dh_memsnap *snap);
/* Three tests, <prefix>_memfree, _cmafree, _vmalloc: after vs before. */
void dh_memsnap_checks(struct ktap_suite *s, const char *prefix,
		       const struct dh_memsnap *b, const struct dh_memsnap *a,
		       u64 free_tol_kb);

int dh_mmap_setup(struct dh_ctx *ctx, unsigned int num);
void dh_mmap_teardown(void);
int dh_mmap_reregister(void);
void dh_reload_run(struct dh_ctx *ctx, unsigned int num,
		   const struct dh_memsnap *base, const char *base_irq);
void dh_edu_roundtrip(struct dh_ctx *ctx, struct ktap_suite *s,
		      const struct dh_attr *a, u32 seed);

/* Data patterns for transfers through edu (edu_suite.c). */
#define DH_POISON	0x5a

u8 dh_pattern(size_t i, u32 seed);
void dh_fill(u8 *buf, size_t len, u32 seed);
/* First offset in buf that is not pattern (in the window) or poison, or -1. */
long dh_verify(const u8 *buf, size_t total, size_t off, size_t len,
	       u32 seed);

#endif /* DMA_HARNESS_H */
