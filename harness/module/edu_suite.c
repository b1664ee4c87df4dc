// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_edu: data written by the CPU into a dma_alloc_attrs() buffer
 * must reach the device, and data the device writes must be what the CPU
 * reads back, without any sync call (that is what "coherent" promises).
 *
 * Per attribute (and for a few pairs): a four-page buffer, a pattern in its
 * last EDU_XFER_LEN bytes (so the device reads the last page, up to the
 * buffer's last byte), one transfer RAM -> edu, the whole buffer
 * overwritten with a poison byte, one transfer edu -> RAM to an offset that
 * straddles the boundary between the second and third page, then a compare
 * of the window (pattern) and of everything around it (poison, to catch a
 * transfer that spills). Each transfer costs edu's fixed 100 ms, so there
 * are only two per test; both end by interrupt when edu's IRQ could be set
 * up ("completion" key).
 *
 * Then DMA_ATTR_SKIP_CPU_SYNC where it acts, on unmap: edu writes into a
 * streaming DMA_FROM_DEVICE mapping of a kmalloc() buffer, which is then
 * unmapped with and without the attribute. When the mapping is bounced
 * (swiotlb=force, the swiotlb variant), unmap copies the bounce buffer back
 * only without the attribute; with it the CPU's buffer stays as it was.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swiotlb.h>

#include "compat.h"
#include "dh_uapi.h"
#include "harness.h"

#define DH_EDU_PAGES	4

/* Pairs of attributes that drivers combine. */
static const struct dh_attr dh_edu_pairs[] = {
	{ DMA_ATTR_WRITE_COMBINE | DMA_ATTR_FORCE_CONTIGUOUS,
	  "WRITE_COMBINE+FORCE_CONTIGUOUS", "write_combine_force_contiguous" },
	{ DMA_ATTR_WRITE_COMBINE | DMA_ATTR_ALLOC_SINGLE_PAGES,
	  "WRITE_COMBINE+ALLOC_SINGLE_PAGES",
	  "write_combine_alloc_single_pages" },
};

/* The streaming tests: unmap without, then with DMA_ATTR_SKIP_CPU_SYNC. */
#define DH_EDU_STREAMING	2

unsigned int dh_edu_plan(const struct dh_ctx *ctx)
{
	return dh_nattrs + ARRAY_SIZE(dh_edu_pairs) + DH_EDU_STREAMING;
}

/* Position-dependent and seeded per test, so stale data never passes. */
u8 dh_pattern(size_t i, u32 seed)
{
	return dh_uapi_pattern(i, seed);
}

void dh_fill(u8 *buf, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = dh_pattern(i, seed);
}

/* Returns the first bad offset in buf, or -1 when all is as expected. */
long dh_verify(const u8 *buf, size_t total, size_t off, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < total; i++) {
		u8 want = (i >= off && i < off + len) ?
			  dh_pattern(i - off, seed) : DH_POISON;

		if (buf[i] != want)
			return i;
	}
	return -1;
}

void dh_edu_roundtrip(struct dh_ctx *ctx, struct ktap_suite *s,
		      const struct dh_attr *a, u32 seed)
{
	struct device *dev = ctx->dev;
	size_t size = DH_EDU_PAGES * PAGE_SIZE;
	size_t src_off = size - EDU_XFER_LEN;
	size_t dst_off = 2 * PAGE_SIZE - EDU_XFER_LEN / 2;
	const char *reason = NULL;
	u64 to_dev_ns = 0, to_ram_ns = 0;
	enum edu_completion done[2] = { EDU_DONE_NONE, EDU_DONE_NONE };
	struct ktap_diag d;
	dma_addr_t dma = 0;
	char test[48];
	long bad;
	u8 *cpu;
	int ret;

	snprintf(test, sizeof(test), "%s_roundtrip", a->slug);
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
	ktap_diag_hex(&d, "dma", dma);
	if (a->attrs & DMA_ATTR_NO_KERNEL_MAPPING) {
		ktap_diag_str(&d, "mapping", "cookie");
		ktap_diag_emit(&d);
		dma_free_attrs(dev, size, cpu, dma, a->attrs);
		ktap_skip(s, test, "no_kernel_mapping");
		return;
	}
	ktap_diag_str(&d, "mapping", dh_kind_name(dh_addr_kind(cpu)));
	ktap_diag_u64(&d, "bytes", EDU_XFER_LEN);
	ktap_diag_u64(&d, "src_offset", src_off);
	ktap_diag_u64(&d, "dst_offset", dst_off);
	ktap_diag_str(&d, "irq", ctx->edu.irq_kind);

	memset(cpu, DH_POISON, size);
	dh_fill(cpu + src_off, EDU_XFER_LEN, seed);
	ret = edu_dma_to_device(&ctx->edu, dma + src_off, 0, EDU_XFER_LEN,
				&to_dev_ns);
	done[0] = ctx->edu.last;
	if (!ret) {
		memset(cpu, DH_POISON, size);
		ret = edu_dma_to_ram(&ctx->edu, 0, dma + dst_off,
				     EDU_XFER_LEN, &to_ram_ns);
		done[1] = ctx->edu.last;
	}

	if (ret) {
		reason = edu_failure_reason(ret);
	} else {
		bad = dh_verify(cpu, size, dst_off, EDU_XFER_LEN, seed);
		ktap_diag_bool(&d, "roundtrip", bad < 0);
		if (bad >= 0) {
			ktap_diag_u64(&d, "mismatch_offset", bad);
			reason = "data_mismatch";
		}
	}
	ktap_diag_str(&d, "completion",
		      edu_completion_name(done[1] == EDU_DONE_POLL ?
					  done[1] : done[0]));
	ktap_diag_u64(&d, "to_device_ns", to_dev_ns);
	ktap_diag_u64(&d, "to_ram_ns", to_ram_ns);
	ktap_diag_u64(&d, "transfer_ns", to_dev_ns + to_ram_ns);
	if (ret && ret != -ERANGE)
		ktap_diag_u64(&d, "errno", -ret);
	if (reason)
		ktap_diag_str(&d, "reason", reason);

	/*
	 * After a timeout edu may still write into the buffer later: leak it
	 * rather than hand memory back that a device can still scribble on.
	 */
	if (ret == -ETIMEDOUT)
		ktap_diag_bool(&d, "leaked", true);
	else
		dma_free_attrs(dev, size, cpu, dma, a->attrs);
	ktap_diag_emit(&d);
	ktap_result(s, test, !reason);
}

/*
 * edu writes a pattern into a streaming mapping; after unmap the CPU either
 * sees it (the bounce buffer was copied back, or there was none) or still
 * sees the poison it wrote before mapping. Only a lost copy without the
 * attribute breaks a promise (dma-api.rst, dma_unmap_single()).
 */
static void dh_edu_streaming(struct dh_ctx *ctx, struct ktap_suite *s,
			     bool skip_sync, u32 seed)
{
	unsigned long attrs = skip_sync ? DMA_ATTR_SKIP_CPU_SYNC : 0;
	const char *test = skip_sync ? "streaming_unmap_skip_cpu_sync" :
				       "streaming_unmap";
	struct device *dev = ctx->dev;
	const char *reason = NULL;
	u64 to_dev_ns = 0, to_ram_ns = 0;
	dma_addr_t src_dma = 0, dma;
	struct ktap_diag d;
	phys_addr_t phys;
	bool bounced;
	u8 *src, *buf;
	long bad;
	int ret;

	ktap_diag_start(&d, s, test);
	ktap_diag_str(&d, "attrs", skip_sync ? "SKIP_CPU_SYNC" : "none");
	ktap_diag_u64(&d, "size", PAGE_SIZE);
	ktap_diag_str(&d, "gfp", "GFP_KERNEL");
	ktap_diag_str(&d, "stream_api", "dma_map_single_attrs");
	ktap_diag_str(&d, "direction", "DMA_FROM_DEVICE");
	src = dma_alloc_coherent(dev, PAGE_SIZE, &src_dma, GFP_KERNEL);
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!src || !buf) {
		ktap_diag_bool(&d, "ok", false);
		reason = "setup_failed";
		goto out_free;
	}
	/* The pattern goes into edu's buffer first, from a coherent buffer. */
	dh_fill(src, EDU_XFER_LEN, seed);
	ret = edu_dma_to_device(&ctx->edu, src_dma, 0, EDU_XFER_LEN,
				&to_dev_ns);
	if (ret) {
		reason = edu_failure_reason(ret);
		goto out_free;
	}
	memset(buf, DH_POISON, PAGE_SIZE);
	dma = dma_map_single_attrs(dev, buf, PAGE_SIZE, DMA_FROM_DEVICE, attrs);
	ktap_diag_bool(&d, "ok", !dma_mapping_error(dev, dma));
	if (dma_mapping_error(dev, dma))
		goto out_free;	/* a refused mapping is data */
	ktap_diag_hex(&d, "dma", dma);
	bounced = dh_dma_phys(dev, dma, &phys) &&
		  dh_is_swiotlb_buffer(dev, phys);
	ktap_diag_bool(&d, "bounced", bounced);
	ret = edu_dma_to_ram(&ctx->edu, 0, dma, EDU_XFER_LEN, &to_ram_ns);
	if (ret == -ETIMEDOUT) {
		/* edu may still write: keep the mapping and the buffer. */
		ktap_diag_bool(&d, "leaked", true);
		buf = NULL;
	} else {
		dma_unmap_single_attrs(dev, dma, PAGE_SIZE, DMA_FROM_DEVICE,
				       attrs);
	}
	if (ret) {
		reason = edu_failure_reason(ret);
		goto out_free;
	}
	bad = dh_verify(buf, PAGE_SIZE, 0, EDU_XFER_LEN, seed);
	ktap_diag_bool(&d, "cpu_sees_device", bad < 0);
	ktap_diag_bool(&d, "cpu_stale", !memchr_inv(buf, DH_POISON, PAGE_SIZE));
	ktap_diag_str(&d, "completion", edu_completion_name(ctx->edu.last));
	ktap_diag_u64(&d, "transfer_ns", to_dev_ns + to_ram_ns);
	if (bad >= 0 && !skip_sync)
		reason = "data_mismatch";
out_free:
	if (reason)
		ktap_diag_str(&d, "reason", reason);
	kfree(buf);
	if (src)
		dma_free_coherent(dev, PAGE_SIZE, src, src_dma);
	ktap_diag_emit(&d);
	ktap_result(s, test, !reason);
}

void dh_edu_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	unsigned int i;

	for (i = 0; i < dh_nattrs; i++)
		dh_edu_roundtrip(ctx, s, &dh_attrs[i], i + 1);
	for (i = 0; i < ARRAY_SIZE(dh_edu_pairs); i++)
		dh_edu_roundtrip(ctx, s, &dh_edu_pairs[i], dh_nattrs + i + 1);
	dh_edu_streaming(ctx, s, false, 0x5100);
	dh_edu_streaming(ctx, s, true, 0x5200);
}
