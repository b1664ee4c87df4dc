// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_lifetime: what dma_free_attrs() gives back. After many cycles
 * of random sizes and attributes (a fixed, printed seed makes a run
 * repeatable), on one thread and on several at once:
 *  - buffers alive at the same time never overlap (each is filled with its
 *    own tag and checked before it is freed);
 *  - behind an IOMMU DMA-API domain, the IOVA no longer translates once the
 *    buffer is freed (iommu_iova_to_phys() == 0; a flush queue only delays
 *    the IOTLB flush and the IOVA's reuse, not the page-table unmap); with
 *    several threads, a sibling's live buffer may own it again (dh_lt_sem);
 *  - free memory, free CMA and the dma-coherent remaps come back to where
 *    they were before the cycles (memstat.c says where each comes from).
 */
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/prandom.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "harness.h"

#define DH_LT_CYCLES	200
#define DH_LT_LIVE	4	/* buffers kept alive at once, per thread */
#define DH_LT_MAX_PAGES	64
#define DH_LT_THREADS	4
#define DH_LT_THREAD_CYCLES	50
#define DH_LT_THREAD_TIMEOUT_MS	60000

/*
 * Tolerances, in KiB. Free memory is compared as MemFree plus the per-CPU
 * lists, so what remains is slab: freed sg tables, vm_structs and vmap
 * areas stay in their caches' partial slabs (a few caches, two CPUs, slabs
 * of up to 32 KiB), well under 1 MiB, while a leak of one buffer per cycle
 * would be hundreds of times that. vmalloc: freed kthread stacks stay in a
 * per-CPU cache of two (VMAP_STACK, 16 KiB each on 64-bit), 64 KiB for two
 * CPUs, doubled.
 */
#define DH_LT_FREE_TOL_KB	1024
#define DH_LT_VMALLOC_TOL_KB	128

static unsigned int lifetime_seed = 20120320;
module_param(lifetime_seed, uint, 0444);
MODULE_PARM_DESC(lifetime_seed,
		 "Seed of dma_lifetime's random sizes and attributes (default 20120320)");

unsigned int dh_lifetime_plan(const struct dh_ctx *ctx)
{
	return 5;
}

struct dh_lt_buf {
	void *cpu;
	dma_addr_t dma;
	size_t size;
	const struct dh_attr *a;
	u8 tag;
};

struct dh_lt_stats {
	unsigned int cycles;
	unsigned int ok;
	unsigned int failed;
	unsigned int corrupt;	/* a live buffer lost its tag: overlap */
	unsigned int iommu_checked;
	unsigned int iommu_stale;	/* translated after free, unexplained */
	unsigned int iommu_reused;	/* ... by a sibling's live buffer */
	u64 bytes;
};

struct dh_lt_run {
	struct device *dev;
	struct iommu_domain *domain;	/* DMA-API domain, or NULL */
	struct rnd_state rnd;
	unsigned int cycles;
	struct dh_lt_stats st;
	struct dh_lt_buf live[DH_LT_LIVE];
	struct completion done;
	struct dh_lt_run *all;		/* all threads' runs, NULL when alone */
	unsigned int nall;
};

/*
 * With several threads, a freed IOVA may be mapped again at once by a
 * sibling (a strict domain frees IOVAs immediately). To tell that from a
 * mapping left behind, every allocation and free runs, with the update of
 * its live[] slot, inside a read section (so they stay concurrent with
 * each other), and a translation seen after a free is judged inside a
 * write section: no allocation or free is then in flight, and every
 * mapped IOVA of the domain belongs to some thread's live buffer.
 */
static DECLARE_RWSEM(dh_lt_sem);

static bool dh_lt_owned(struct dh_lt_run *r, dma_addr_t dma)
{
	unsigned int i, j;

	for (i = 0; i < r->nall; i++) {
		for (j = 0; j < DH_LT_LIVE; j++) {
			const struct dh_lt_buf *b = &r->all[i].live[j];

			if (b->cpu && dma >= b->dma && dma - b->dma < b->size)
				return true;
		}
	}
	return false;
}

static void dh_lt_check_unmapped(struct dh_lt_run *r, dma_addr_t dma)
{
	r->st.iommu_checked++;
	if (!iommu_iova_to_phys(r->domain, dma))
		return;
	if (!r->all) {
		r->st.iommu_stale++;
		return;
	}
	down_write(&dh_lt_sem);
	/* Unmapped by now: a sibling mapped and freed it meanwhile. */
	if (iommu_iova_to_phys(r->domain, dma)) {
		if (dh_lt_owned(r, dma))
			r->st.iommu_reused++;
		else
			r->st.iommu_stale++;
	}
	up_write(&dh_lt_sem);
}

static bool dh_lt_kmap(const struct dh_lt_buf *b)
{
	return !(b->a->attrs & DMA_ATTR_NO_KERNEL_MAPPING);
}

static void dh_lt_release(struct dh_lt_run *r, struct dh_lt_buf *b)
{
	void *cpu = b->cpu;

	if (!cpu)
		return;
	if (dh_lt_kmap(b) && memchr_inv(cpu, b->tag, b->size))
		r->st.corrupt++;
	down_read(&dh_lt_sem);
	b->cpu = NULL;
	dma_free_attrs(r->dev, b->size, cpu, b->dma, b->a->attrs);
	up_read(&dh_lt_sem);
	if (r->domain)
		dh_lt_check_unmapped(r, b->dma);
}

static void dh_lt_cycles(struct dh_lt_run *r)
{
	unsigned int i, slot;

	for (i = 0; i < r->cycles; i++) {
		u32 x = prandom_u32_state(&r->rnd);
		u32 y = prandom_u32_state(&r->rnd);
		struct dh_lt_buf *b;

		slot = i % DH_LT_LIVE;
		b = &r->live[slot];
		dh_lt_release(r, b);
		b->a = &dh_attrs[x % dh_nattrs];
		b->size = (1 + (y % DH_LT_MAX_PAGES)) * PAGE_SIZE -
			  (x >> 8) % PAGE_SIZE;
		b->tag = (u8)(i | 1);
		down_read(&dh_lt_sem);
		b->cpu = dma_alloc_attrs(r->dev, b->size, &b->dma, GFP_KERNEL,
					 b->a->attrs | DMA_ATTR_NO_WARN);
		up_read(&dh_lt_sem);
		r->st.cycles++;
		if (!b->cpu) {
			r->st.failed++;
			continue;
		}
		r->st.ok++;
		r->st.bytes += b->size;
		if (dh_lt_kmap(b))
			memset(b->cpu, b->tag, b->size);
		cond_resched();
	}
	for (slot = 0; slot < DH_LT_LIVE; slot++)
		dh_lt_release(r, &r->live[slot]);
}

static int dh_lt_thread(void *data)
{
	struct dh_lt_run *r = data;

	dh_lt_cycles(r);
	complete(&r->done);
	return 0;
}

static struct iommu_domain *dh_lt_domain(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	return domain && iommu_is_dma_domain(domain) ? domain : NULL;
}

static void dh_lt_stats_diag(struct ktap_diag *d, const struct dh_lt_stats *st,
			     bool iommu, bool alone)
{
	ktap_diag_u64(d, "allocs_ok", st->ok);
	ktap_diag_u64(d, "allocs_failed", st->failed);
	ktap_diag_u64(d, "bytes", st->bytes);
	ktap_diag_u64(d, "corrupt", st->corrupt);
	if (iommu) {
		ktap_diag_u64(d, "iommu_checked", st->iommu_checked);
		ktap_diag_u64(d, "iommu_stale", st->iommu_stale);
		if (!alone)
			ktap_diag_u64(d, "iommu_reused", st->iommu_reused);
	}
}

static const char *dh_lt_reason(const struct dh_lt_stats *st)
{
	if (st->corrupt && st->iommu_stale)
		return "overlap+iommu_mapping_after_free";
	if (st->corrupt)
		return "overlap";
	if (st->iommu_stale)
		return "iommu_mapping_after_free";
	return NULL;
}

static void dh_lt_single(struct dh_ctx *ctx, struct ktap_suite *s)
{
	struct dh_lt_run *r = kzalloc(sizeof(*r), GFP_KERNEL);
	const char *reason;
	struct ktap_diag d;

	ktap_diag_start(&d, s, "cycles");
	ktap_diag_u64(&d, "loops", DH_LT_CYCLES);
	ktap_diag_u64(&d, "threads", 1);
	ktap_diag_u64(&d, "seed", lifetime_seed);
	ktap_diag_u64(&d, "live", DH_LT_LIVE);
	ktap_diag_u64(&d, "max_size", DH_LT_MAX_PAGES * PAGE_SIZE);
	if (!r) {
		ktap_diag_str(&d, "reason", "no_memory");
		ktap_diag_emit(&d);
		ktap_result(s, "cycles", false);
		return;
	}
	r->dev = ctx->dev;
	r->domain = dh_lt_domain(ctx->dev);
	r->cycles = DH_LT_CYCLES;
	prandom_seed_state(&r->rnd, lifetime_seed);
	dh_lt_cycles(r);
	dh_lt_stats_diag(&d, &r->st, r->domain, true);
	reason = dh_lt_reason(&r->st);
	if (reason)
		ktap_diag_str(&d, "reason", reason);
	ktap_diag_emit(&d);
	ktap_result(s, "cycles", !reason);
	kfree(r);
}

static void dh_lt_threads(struct dh_ctx *ctx, struct ktap_suite *s)
{
	struct dh_lt_run *r = kcalloc(DH_LT_THREADS, sizeof(*r), GFP_KERNEL);
	struct dh_lt_stats sum = { };
	unsigned int i, started = 0, timedout = 0;
	const char *reason;
	struct ktap_diag d;

	ktap_diag_start(&d, s, "threads");
	ktap_diag_u64(&d, "loops", DH_LT_THREAD_CYCLES);
	ktap_diag_u64(&d, "threads", DH_LT_THREADS);
	ktap_diag_u64(&d, "seed", lifetime_seed);
	if (!r) {
		ktap_diag_str(&d, "reason", "no_memory");
		ktap_diag_emit(&d);
		ktap_result(s, "threads", false);
		return;
	}
	for (i = 0; i < DH_LT_THREADS; i++) {
		struct task_struct *t;

		r[i].dev = ctx->dev;
		r[i].domain = dh_lt_domain(ctx->dev);
		r[i].cycles = DH_LT_THREAD_CYCLES;
		r[i].all = r;
		r[i].nall = DH_LT_THREADS;
		init_completion(&r[i].done);
		prandom_seed_state(&r[i].rnd, lifetime_seed + 1 + i);
		t = kthread_run(dh_lt_thread, &r[i], "dma_harness/%u", i);
		if (IS_ERR(t))
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		if (!wait_for_completion_timeout(&r[i].done,
						 msecs_to_jiffies(DH_LT_THREAD_TIMEOUT_MS))) {
			timedout++;
			continue;
		}
		sum.ok += r[i].st.ok;
		sum.failed += r[i].st.failed;
		sum.bytes += r[i].st.bytes;
		sum.corrupt += r[i].st.corrupt;
		sum.iommu_checked += r[i].st.iommu_checked;
		sum.iommu_stale += r[i].st.iommu_stale;
		sum.iommu_reused += r[i].st.iommu_reused;
	}
	ktap_diag_u64(&d, "started", started);
	dh_lt_stats_diag(&d, &sum, r[0].domain, false);
	reason = dh_lt_reason(&sum);
	if (timedout) {
		ktap_diag_u64(&d, "timed_out", timedout);
		reason = "thread_timeout";
	} else if (started < DH_LT_THREADS && !reason) {
		reason = "thread_start";
	}
	if (reason)
		ktap_diag_str(&d, "reason", reason);
	ktap_diag_emit(&d);
	ktap_result(s, "threads", !reason);
	/* A thread that never finished may still use its slot: leak it. */
	if (!timedout)
		kfree(r);
}

/* Free memory the way the kernel sees it once per-CPU lists drain. */
static u64 dh_free_pcp_kb(const struct dh_memsnap *m)
{
	return m->free_kb + (m->pcp_pages << (PAGE_SHIFT - 10));
}

/*
 * New dma-coherent remaps that the atomic pools' own growth accounts for:
 * each growth is one remap of exactly the bytes the pool gained, plus at
 * most a guard page. A buffer left mapped adds bytes the pools did not gain.
 */
static bool dh_pool_growth_explains(const struct dh_memsnap *b,
				    const struct dh_memsnap *a)
{
	u64 areas = a->dma_remaps - b->dma_remaps;
	u64 grown, mapped;

	/* pool_bytes is 0 where the sizes are unknown: then nothing is explained. */
	if (!b->pool_bytes || a->pool_bytes <= b->pool_bytes ||
	    a->remap_bytes < b->remap_bytes)
		return false;
	grown = a->pool_bytes - b->pool_bytes;
	mapped = a->remap_bytes - b->remap_bytes;
	return mapped >= grown && mapped <= grown + areas * PAGE_SIZE;
}

void dh_memsnap_checks(struct ktap_suite *s, const char *prefix,
		       const struct dh_memsnap *b, const struct dh_memsnap *a,
		       u64 free_tol_kb)
{
	s64 delta = (s64)dh_free_pcp_kb(b) - (s64)dh_free_pcp_kb(a);
	s64 vdelta = (s64)a->vmalloc_used_kb - (s64)b->vmalloc_used_kb;
	const char *reason = NULL;
	struct ktap_diag d;
	char test[40];
	u64 new_remaps;
	bool pool_grew;

	snprintf(test, sizeof(test), "%s_memfree", prefix);
	ktap_diag_start(&d, s, test);
	ktap_diag_u64(&d, "memfree_before_kb", b->free_kb);
	ktap_diag_u64(&d, "memfree_after_kb", a->free_kb);
	ktap_diag_bool(&d, "have_pcp", b->have_pcp && a->have_pcp);
	ktap_diag_u64(&d, "pcp_before_kb", b->pcp_pages << (PAGE_SHIFT - 10));
	ktap_diag_u64(&d, "pcp_after_kb", a->pcp_pages << (PAGE_SHIFT - 10));
	ktap_diag_u64(&d, "slab_before_kb", b->slab_kb);
	ktap_diag_u64(&d, "slab_after_kb", a->slab_kb);
	ktap_diag_s64(&d, "lost_kb", delta);
	ktap_diag_u64(&d, "tolerance_kb", free_tol_kb);
	if (delta > (s64)free_tol_kb) {
		reason = "memory_leak";
		ktap_diag_str(&d, "reason", reason);
	}
	ktap_diag_emit(&d);
	ktap_result(s, test, !reason);

	snprintf(test, sizeof(test), "%s_cmafree", prefix);
	ktap_diag_start(&d, s, test);
	ktap_diag_u64(&d, "cma_total_kb", a->cma_total_kb);
	if (!a->cma_total_kb) {
		ktap_diag_emit(&d);
		ktap_skip(s, test, "no_cma");
	} else {
		/* Freed CMA pages may wait on the per-CPU lists too. */
		s64 cdelta = (s64)b->cma_free_kb - (s64)a->cma_free_kb;
		s64 ctol = (a->pcp_pages << (PAGE_SHIFT - 10)) + free_tol_kb;

		reason = cdelta > ctol ? "cma_leak" : NULL;
		ktap_diag_u64(&d, "cma_free_before_kb", b->cma_free_kb);
		ktap_diag_u64(&d, "cma_free_after_kb", a->cma_free_kb);
		ktap_diag_s64(&d, "lost_kb", cdelta);
		ktap_diag_s64(&d, "tolerance_kb", ctol);
		if (reason)
			ktap_diag_str(&d, "reason", reason);
		ktap_diag_emit(&d);
		ktap_result(s, test, !reason);
	}

	snprintf(test, sizeof(test), "%s_vmalloc", prefix);
	ktap_diag_start(&d, s, test);
	ktap_diag_bool(&d, "have_remaps", b->have_remaps && a->have_remaps);
	ktap_diag_u64(&d, "dma_remaps_before", b->dma_remaps);
	ktap_diag_u64(&d, "dma_remaps_after", a->dma_remaps);
	ktap_diag_u64(&d, "remap_bytes_before", b->remap_bytes);
	ktap_diag_u64(&d, "remap_bytes_after", a->remap_bytes);
	ktap_diag_bool(&d, "have_pools", b->pool_bytes && a->pool_bytes);
	ktap_diag_u64(&d, "pool_bytes_before", b->pool_bytes);
	ktap_diag_u64(&d, "pool_bytes_after", a->pool_bytes);
	ktap_diag_u64(&d, "vmalloc_used_before_kb", b->vmalloc_used_kb);
	ktap_diag_u64(&d, "vmalloc_used_after_kb", a->vmalloc_used_kb);
	ktap_diag_u64(&d, "tolerance_kb", DH_LT_VMALLOC_TOL_KB);
	reason = NULL;
	new_remaps = a->dma_remaps > b->dma_remaps ?
		     a->dma_remaps - b->dma_remaps : 0;
	pool_grew = new_remaps && dh_pool_growth_explains(b, a);
	if (pool_grew)
		ktap_diag_u64(&d, "pool_growth_remaps", new_remaps);
	if (new_remaps && !pool_grew)
		reason = "dma_remap_leak";
	else if (vdelta > DH_LT_VMALLOC_TOL_KB)
		reason = "vmalloc_leak";
	if (reason)
		ktap_diag_str(&d, "reason", reason);
	ktap_diag_emit(&d);
	ktap_result(s, test, !reason);
}

void dh_lifetime_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	struct dh_memsnap before, after;

	dh_memsnap_take(&before);
	dh_lt_single(ctx, s);
	dh_lt_threads(ctx, s);
	dh_memsnap_take(&after);
	dh_memsnap_checks(s, "cycles", &before, &after, DH_LT_FREE_TOL_KB);
}
