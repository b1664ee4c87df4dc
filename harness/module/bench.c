// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_bench: how long dma_alloc_attrs() and dma_free_attrs() take,
 * per attribute, size and GFP flags, in nanoseconds (modelled on
 * kernel/dma/map_benchmark.c, which times map/unmap in 100 ns units). Each
 * test runs a fixed number of alloc+free loops on one CPU and reports the
 * distribution of both calls. These are facts, not promises: a test is
 * only not ok when an allocation breaks the usual promises (checked on the
 * first buffer of the loop) or the kernel warns.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "harness.h"

#define DH_BENCH_LOOPS		64
#define DH_BENCH_LOOPS_BIG	16	/* from 1 MiB on */

static const unsigned long dh_bench_attrs[] = {
	0,
	DMA_ATTR_WRITE_COMBINE,
	DMA_ATTR_NO_KERNEL_MAPPING,
	DMA_ATTR_FORCE_CONTIGUOUS,
	DMA_ATTR_ALLOC_SINGLE_PAGES,
};

static const size_t dh_bench_sizes[] = { SZ_4K, SZ_16K, SZ_64K, SZ_1M, SZ_4M };

/* GFP_ATOMIC only below this size: atomic pools are small. */
#define DH_BENCH_ATOMIC_MAX	SZ_64K

unsigned int dh_bench_plan(const struct dh_ctx *ctx)
{
	unsigned int i, per_attr = 0;

	for (i = 0; i < ARRAY_SIZE(dh_bench_sizes); i++)
		per_attr += dh_bench_sizes[i] <= DH_BENCH_ATOMIC_MAX ? 2 : 1;
	return ARRAY_SIZE(dh_bench_attrs) * per_attr;
}

static const struct dh_attr *dh_bench_attr(unsigned long attrs)
{
	unsigned int i;

	for (i = 0; i < dh_nattrs; i++)
		if (dh_attrs[i].attrs == attrs)
			return &dh_attrs[i];
	return &dh_attrs[0];
}

/* Scratch diagnostic line (the suites run one at a time). */
static struct ktap_diag dh_bench_chk;

static int dh_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Prints <prefix>_{min,p50,p99,max,mean,stddev}_ns of n samples. */
static void dh_stats(struct ktap_diag *d, const char *prefix, u64 *v,
		     unsigned int n)
{
	u64 sum = 0, var = 0, mean;
	char key[32];
	unsigned int i;

	sort(v, n, sizeof(*v), dh_cmp_u64, NULL);
	for (i = 0; i < n; i++)
		sum += v[i];
	mean = div_u64(sum, n);
	for (i = 0; i < n; i++) {
		u64 dev = v[i] > mean ? v[i] - mean : mean - v[i];

		var += dev * dev;
	}
	var = div_u64(var, n);

	snprintf(key, sizeof(key), "%s_min_ns", prefix);
	ktap_diag_u64(d, key, v[0]);
	snprintf(key, sizeof(key), "%s_p50_ns", prefix);
	ktap_diag_u64(d, key, v[(n - 1) / 2]);
	snprintf(key, sizeof(key), "%s_p99_ns", prefix);
	ktap_diag_u64(d, key, v[DIV_ROUND_UP(n * 99, 100) - 1]);
	snprintf(key, sizeof(key), "%s_max_ns", prefix);
	ktap_diag_u64(d, key, v[n - 1]);
	snprintf(key, sizeof(key), "%s_mean_ns", prefix);
	ktap_diag_u64(d, key, mean);
	snprintf(key, sizeof(key), "%s_stddev_ns", prefix);
	ktap_diag_u64(d, key, int_sqrt64(var));
}

static void dh_bench_one(struct dh_ctx *ctx, struct ktap_suite *s,
			 const struct dh_attr *a, size_t size, bool atomic,
			 u64 *alloc_ns, u64 *free_ns)
{
	unsigned int loops = size >= SZ_1M ? DH_BENCH_LOOPS_BIG :
			     DH_BENCH_LOOPS;
	gfp_t gfp = atomic ? GFP_ATOMIC : GFP_KERNEL;
	struct device *dev = ctx->dev;
	struct ktap_diag d;
	unsigned int i;
	char test[64];

	snprintf(test, sizeof(test), "%s_%zu_%s", a->slug, size,
		 atomic ? "gfp_atomic" : "gfp_kernel");
	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", a->name);
	ktap_diag_u64(&d, "size", size);
	ktap_diag_str(&d, "gfp", atomic ? "GFP_ATOMIC" : "GFP_KERNEL");

	for (i = 0; i < loops; i++) {
		dma_addr_t dma = 0;
		u64 t0, t1, t2;
		void *cpu;

		t0 = ktime_get_ns();
		cpu = dma_alloc_attrs(dev, size, &dma, gfp, a->attrs);
		t1 = ktime_get_ns();
		if (!cpu)
			break;
		/*
		 * The promises are checked once, on the first buffer, into a
		 * scratch line: only a broken one is reported.
		 */
		if (!i) {
			memset(&dh_bench_chk, 0, sizeof(dh_bench_chk));
			dh_inspect(dev, &dh_bench_chk, cpu, dma, size,
				   a->attrs);
			if (dh_bench_chk.reason[0]) {
				ktap_diag_hex(&d, "first_dma", dma);
				ktap_diag_reason(&d, dh_bench_chk.reason);
			}
		}
		t2 = ktime_get_ns();
		dma_free_attrs(dev, size, cpu, dma, a->attrs);
		alloc_ns[i] = t1 - t0;
		free_ns[i] = ktime_get_ns() - t2;
	}

	ktap_diag_bool(&d, "ok", i == loops);
	ktap_diag_u64(&d, "loops", i);
	if (i < loops) {
		ktap_diag_u64(&d, "failed_at", i);
		if (!(a->attrs & DMA_ATTR_NO_WARN))
			ktap_diag_expect_warn(&d);
	}
	if (i) {
		dh_stats(&d, "alloc", alloc_ns, i);
		dh_stats(&d, "free", free_ns, i);
	}
	ktap_diag_emit(&d);
	ktap_result(s, test, !d.reason[0]);
}

void dh_bench_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	u64 *alloc_ns, *free_ns;
	unsigned int i, j;

	alloc_ns = kcalloc(2 * DH_BENCH_LOOPS, sizeof(u64), GFP_KERNEL);
	free_ns = alloc_ns ? alloc_ns + DH_BENCH_LOOPS : NULL;
	for (i = 0; i < ARRAY_SIZE(dh_bench_attrs); i++) {
		const struct dh_attr *a = dh_bench_attr(dh_bench_attrs[i]);

		for (j = 0; j < ARRAY_SIZE(dh_bench_sizes); j++) {
			size_t size = dh_bench_sizes[j];
			char test[64];

			if (!alloc_ns) {
				snprintf(test, sizeof(test), "%s_%zu_gfp_kernel",
					 a->slug, size);
				ktap_skip(s, test, "no_memory");
				snprintf(test, sizeof(test), "%s_%zu_gfp_atomic",
					 a->slug, size);
				if (size <= DH_BENCH_ATOMIC_MAX)
					ktap_skip(s, test, "no_memory");
				continue;
			}
			dh_bench_one(ctx, s, a, size, false, alloc_ns,
				     free_ns);
			if (size <= DH_BENCH_ATOMIC_MAX)
				dh_bench_one(ctx, s, a, size, true, alloc_ns,
					     free_ns);
		}
	}
	kfree(alloc_ns);
}
