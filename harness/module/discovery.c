// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_discovery: the facts about the device's DMA path that every
 * later result has to be read against (which ops, coherent or not, masks,
 * mapping limits).
 */
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/swiotlb.h>
#include <linux/utsname.h>

#include "compat.h"
#include "harness.h"
#include "watch.h"

#define DH_OPS_NAME_MAX	64

/*
 * 6.1's iommu_dma_ops is static and its name only reaches %ps with
 * CONFIG_KALLSYMS_ALL (off in Debian's arm64 kernel), so the IOMMU path is
 * recognised from the device's domain: ops installed and a DMA-API domain.
 */
static void dh_ops_name(struct device *dev, char *buf, size_t len)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (!ops)
		strscpy(buf, "direct", len);
	else if (domain && iommu_is_dma_domain(domain))
		strscpy(buf, "iommu", len);
	else
		snprintf(buf, len, "ops:%ps", ops);
}

static const char *dh_domain_name(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (!domain)
		return "none";
	switch (domain->type) {
	case IOMMU_DOMAIN_BLOCKED:
		return "blocked";
	case IOMMU_DOMAIN_IDENTITY:
		return "identity";
	case IOMMU_DOMAIN_UNMANAGED:
		return "unmanaged";
	case IOMMU_DOMAIN_DMA:
		return "dma";
	case IOMMU_DOMAIN_DMA_FQ:
		return "dma_fq";
	default:
		return "other";
	}
}

unsigned int dh_discovery_plan(const struct dh_ctx *ctx)
{
	return 1;
}

struct dh_ram_walk {
	u64 limit;
	u64 above;
	u64 top;
};

static int dh_ram_res(struct resource *res, void *arg)
{
	struct dh_ram_walk *w = arg;

	if (res->end > w->top)
		w->top = res->end;
	if (res->end > w->limit)
		w->above += res->end - max_t(u64, res->start, w->limit + 1) + 1;
	return 0;
}

/*
 * Bytes of System RAM above @limit, and the last RAM address (@top), from
 * the resource tree: a mask check only means something where memory lay
 * above the mask for the allocator to hand out.
 */
u64 dh_ram_above(u64 limit, u64 *top)
{
	struct dh_ram_walk w = { .limit = limit };

	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0, -1,
			    &w, dh_ram_res);
	if (top)
		*top = w.top;
	return w.above;
}

void dh_discovery_run(struct dh_ctx *ctx, struct ktap_suite *s)
{
	struct device *dev = ctx->dev;
	char ops[DH_OPS_NAME_MAX];
	struct ktap_diag d;
	u64 ram_top;

	dh_ops_name(dev, ops, sizeof(ops));

	ktap_diag_start(&d, s, "device_facts");
	ktap_diag_str(&d, "variant", ctx->variant ? ctx->variant : "direct");
	ktap_diag_str(&d, "bus", ctx->pdev ? "pci" : "platform");
	ktap_diag_str(&d, "device", dev_name(dev));
	if (ctx->pdev)
		ktap_diag_hex(&d, "edu_id", ctx->edu_id);
	ktap_diag_str(&d, "machine", utsname()->machine);
	ktap_diag_str(&d, "release", utsname()->release);
	ktap_diag_str(&d, "ops", ops);
	ktap_diag_str(&d, "iommu_domain", dh_domain_name(dev));
	ktap_diag_bool(&d, "coherent", dev_is_dma_coherent(dev));
	ktap_diag_u64(&d, "mask_bits", ctx->mask_bits);
	ktap_diag_bool(&d, "mask_set", ctx->mask_rc == 0);
	ktap_diag_hex(&d, "dma_mask", dma_get_mask(dev));
	ktap_diag_hex(&d, "coherent_mask", dev->coherent_dma_mask);
	ktap_diag_hex(&d, "bus_dma_limit", dev->bus_dma_limit);
	ktap_diag_hex(&d, "required_mask", dma_get_required_mask(dev));
	ktap_diag_u64(&d, "max_mapping_size", dma_max_mapping_size(dev));
	ktap_diag_u64(&d, "opt_mapping_size", dma_opt_mapping_size(dev));
	ktap_diag_bool(&d, "can_mmap", dma_can_mmap(dev));
	ktap_diag_bool(&d, "swiotlb", dh_is_swiotlb_active(dev));
	ktap_diag_u64(&d, "page_size", PAGE_SIZE);
	ktap_diag_u64(&d, "max_order", DH_MAX_ORDER);
#ifdef CONFIG_DMA_CMA
	/* Large CMA blocks are aligned to PAGE_SIZE << this order only. */
	ktap_diag_u64(&d, "cma_alignment", CONFIG_CMA_ALIGNMENT);
#endif
	ktap_diag_u64(&d, "ram_pages", totalram_pages());
	dh_ram_above(U64_MAX, &ram_top);
	ktap_diag_hex(&d, "ram_top", ram_top);
	ktap_diag_bool(&d, "warn_console", dh_watch_console());
	ktap_diag_bool(&d, "tainted_warn", test_taint(TAINT_WARN));
	/*
	 * A refused mask is data, not a broken promise: the later suites then
	 * run with the bus default, which the masks above show.
	 */
	if (ctx->mask_rc)
		ktap_diag_u64(&d, "mask_errno", -ctx->mask_rc);
	ktap_diag_emit(&d);
	ktap_result(s, "device_facts", true);
}
