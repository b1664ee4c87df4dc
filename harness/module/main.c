// SPDX-License-Identifier: GPL-2.0
/*
 * dma_harness: checks, on the running kernel, whether dma_alloc_attrs()
 * keeps the promises of Documentation/core-api/dma-api*.rst, using QEMU's
 * edu device as the DMA master. Results go to the console as KTAP version 1
 * (harness/PROTOCOL.md in the dma-harness repository); the host reads
 * them back from the raw console.
 *
 * The KTAP document is one, printed in three phases (harness/PROTOCOL.md):
 *  1. the module load (phase=run) prints the top-level plan and every suite
 *     of dh_suites[], synchronously, then registers /dev/dma_harness;
 *  2. the helper drives dma_mmap through that device (mmap.c), which ends
 *     when the helper is done, dies, times out or the module is removed;
 *  3. the init removes the module and loads it again with phase=reload and
 *     the first load's reload_args: that load prints the last suite,
 *     dma_reload (reload.c), and nothing else.
 */
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "compat.h"
#include "fault.h"
#include "harness.h"
#include "watch.h"

static int edu_dma_bits = 32;
module_param(edu_dma_bits, int, 0444);
MODULE_PARM_DESC(edu_dma_bits,
		 "DMA mask width of the edu device as QEMU was configured (its dma_mask property); set with dma_set_mask_and_coherent() (default 32)");

/*
 * The host's name for the DMA path the guest was booted for: "direct",
 * "iommu" (QEMU has an IOMMU in front of edu) or "noncoherent" (no edu:
 * every suite but dma_edu runs, without device DMA, on a platform device
 * of our own, which arm and arm64 treat as non-coherent).
 */
static char *variant = "direct";
module_param(variant, charp, 0444);
MODULE_PARM_DESC(variant,
		 "DMA path the guest was booted for: direct, iommu, noncoherent or swiotlb (default direct)");

/*
 * Fault injection, for the harness's own tests only (fault.h): "KIND@WHERE"
 * with KIND panic, oops, hang or warn, and WHERE either N (right after the
 * Nth KTAP result line, suite results included) or SUITE.TEST (right before
 * that test's result line). Empty (the default) injects nothing.
 */
static char *fault = "";
module_param(fault, charp, 0444);
MODULE_PARM_DESC(fault,
		 "Fault injection for testing the harness: panic|oops|hang|warn@N or @SUITE.TEST (default: none)");

/*
 * Which interrupt edu's transfers end with: "auto" (MSI, else INTx),
 * "msi", "intx", or "poll" (no interrupt, the RUN bit is polled).
 */
static char *edu_irq = "auto";
module_param(edu_irq, charp, 0444);
MODULE_PARM_DESC(edu_irq, "edu interrupt: auto (default), msi, intx or poll");

static unsigned int dh_irq_types(void)
{
	if (!edu_irq || !strcmp(edu_irq, "auto"))
		return PCI_IRQ_ALL_TYPES;
	if (!strcmp(edu_irq, "msi"))
		return PCI_IRQ_MSI;
	if (!strcmp(edu_irq, "intx"))
		return DH_PCI_IRQ_INTX;
	return 0;
}

/*
 * phase=reload is the second load (see above). reload_suite and the base_*
 * values come from the first load's reload_args, which the init reads from
 * sysfs before rmmod and passes back verbatim; reload_suite=0 means the
 * document is already complete and this load prints one KTAP comment only.
 */
static char *phase = "run";
module_param(phase, charp, 0444);
MODULE_PARM_DESC(phase, "run (default) or reload (second load, prints dma_reload)");

static unsigned int reload_suite;
module_param(reload_suite, uint, 0444);
MODULE_PARM_DESC(reload_suite, "Top-level number of dma_reload (from reload_args)");

static struct dh_memsnap dh_base;
module_param_named(base_free_kb, dh_base.free_kb, ullong, 0444);
module_param_named(base_pcp_pages, dh_base.pcp_pages, ullong, 0444);
module_param_named(base_cma_free_kb, dh_base.cma_free_kb, ullong, 0444);
module_param_named(base_vmalloc_kb, dh_base.vmalloc_used_kb, ullong, 0444);
module_param_named(base_slab_kb, dh_base.slab_kb, ullong, 0444);
module_param_named(base_remaps, dh_base.dma_remaps, ullong, 0444);
module_param_named(base_remap_bytes, dh_base.remap_bytes, ullong, 0444);
module_param_named(base_pool_bytes, dh_base.pool_bytes, ullong, 0444);
module_param_named(pool_bytes, dh_start_pool_bytes, ullong, 0444);
MODULE_PARM_DESC(pool_bytes, "Atomic DMA pools' bytes as this load starts (the init reads debugfs)");
MODULE_PARM_DESC(base_free_kb, "Memory baseline of the first load (from reload_args)");

static char *base_irq = "";
module_param(base_irq, charp, 0444);
MODULE_PARM_DESC(base_irq, "edu IRQ kind of the first load (from reload_args)");

/* What the init passes to the second load: written by the first. */
static char reload_args[384] = "reload_suite=0";
module_param_string(reload_args, reload_args, sizeof(reload_args), 0444);
MODULE_PARM_DESC(reload_args, "Read-only: parameters for the phase=reload load");

/* After dh_suites[]: dma_mmap (helper-driven) and dma_reload (second load). */
#define DH_LATE_SUITES	2

static const struct dh_suite dh_suites[] = {
	{ "dma_discovery", dh_discovery_plan, dh_discovery_run, true },
	{ "dma_alloc", dh_alloc_plan, dh_alloc_run, true },
	{ "dma_edu", dh_edu_plan, dh_edu_run },
	{ "dma_masks", dh_masks_plan, dh_masks_run, true },
	{ "dma_gfp", dh_gfp_plan, dh_gfp_run, true },
	{ "dma_bench", dh_bench_plan, dh_bench_run, true },
	{ "dma_sgtable", dh_sgtable_plan, dh_sgtable_run, true },
	{ "dma_noncoherent_api", dh_noncoherent_plan, dh_noncoherent_run, true },
	{ "dma_lifetime", dh_lifetime_plan, dh_lifetime_run, true },
};

static bool dh_ran;
static struct platform_device *dh_nc_pdev;
static struct dh_ctx *dh_nc_ctx;

static void dh_parse_fault(void)
{
	if (!fault || !*fault || dh_fault_parse(fault))
		return;
	/* Printed as a KTAP comment: the host keeps it, the plan is intact. */
	pr_info("# dma_harness: fault=%s ignored (unknown)\n", fault);
}

static bool dh_reloading(void)
{
	return phase && !strcmp(phase, "reload");
}

static void dh_set_reload_args(struct dh_ctx *ctx, unsigned int num,
			       const struct dh_memsnap *m)
{
	if (!ctx) {
		strscpy(reload_args, "reload_suite=0", sizeof(reload_args));
		return;
	}
	snprintf(reload_args, sizeof(reload_args),
		 "reload_suite=%u base_free_kb=%llu base_pcp_pages=%llu base_cma_free_kb=%llu base_vmalloc_kb=%llu base_slab_kb=%llu base_remaps=%llu base_remap_bytes=%llu base_pool_bytes=%llu base_irq=%s",
		 num, m->free_kb, m->pcp_pages, m->cma_free_kb,
		 m->vmalloc_used_kb, m->slab_kb, m->dma_remaps,
		 m->remap_bytes, m->pool_bytes, ctx->edu.irq_kind);
}

static void dh_run_all(struct dh_ctx *ctx)
{
	unsigned int mmap_num = ARRAY_SIZE(dh_suites) + 1;
	struct dh_memsnap base;
	struct ktap_suite s;
	unsigned int i;

	dh_ran = true;
	if (dh_reloading()) {
		if (!reload_suite)
			pr_info("# dma_harness: phase=reload document_complete=1\n");
		else if (!ctx)
			ktap_suite_not_run(reload_suite, "dma_reload",
					   "no_device");
		else
			dh_reload_run(ctx, reload_suite, &dh_base, base_irq);
		return;
	}

	/* Before anything is allocated: dma_reload compares against it. */
	dh_memsnap_take(&base);
	dh_memsnap_at_start(&base);
	ktap_header(ARRAY_SIZE(dh_suites) + DH_LATE_SUITES);
	dh_parse_fault();
	for (i = 0; i < ARRAY_SIZE(dh_suites); i++) {
		const struct dh_suite *suite = &dh_suites[i];

		if (!ctx) {
			ktap_suite_not_run(i + 1, suite->name, "no_device");
			continue;
		}
		if (!ctx->pdev && !suite->without_edu) {
			ktap_suite_skip(i + 1, suite->name,
					"no_device_dma_in_noncoherent_variant");
			continue;
		}
		ktap_suite_begin(&s, suite->name, i + 1, suite->plan(ctx));
		suite->run(ctx, &s);
		ktap_suite_end(&s);
	}
	if (!ctx) {
		ktap_suite_not_run(mmap_num, "dma_mmap", "no_device");
		ktap_suite_not_run(mmap_num + 1, "dma_reload", "no_device");
		dh_set_reload_args(NULL, 0, NULL);
		return;
	}
	dh_set_reload_args(ctx, mmap_num + 1, &base);
	dh_mmap_setup(ctx, mmap_num);
}

static int dh_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct dh_ctx *ctx;
	int ret;

	/* One device is enough: a second edu is left alone. */
	if (dh_ran)
		return -EBUSY;

	ctx = devm_kzalloc(&pdev->dev, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	pci_set_master(pdev);

	ctx->pdev = pdev;
	ctx->dev = &pdev->dev;
	ctx->variant = variant;
	ctx->edu.mmio = pcim_iomap_table(pdev)[0];
	ctx->mask_bits = clamp(edu_dma_bits, 1, 64);
	ctx->edu.dma_mask = DMA_BIT_MASK(ctx->mask_bits);
	ctx->mask_rc = dma_set_mask_and_coherent(ctx->dev, ctx->edu.dma_mask);
	pci_set_drvdata(pdev, ctx);

	ret = edu_check(&ctx->edu, &ctx->edu_id);
	if (ret) {
		dev_err(&pdev->dev, "not an edu device (id 0x%08x)\n",
			ctx->edu_id);
		return ret;
	}
	edu_setup_irq(&ctx->edu, pdev, dh_irq_types());

	dh_run_all(ctx);
	return 0;
}

static void dh_remove(struct pci_dev *pdev)
{
	dh_mmap_teardown();
}

static const struct pci_device_id dh_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, dh_ids);

static struct pci_driver dh_driver = {
	.name = KBUILD_MODNAME,
	.id_table = dh_ids,
	.probe = dh_probe,
	.remove = dh_remove,
};

/*
 * The noncoherent variant: a platform device described by no firmware, so
 * no bus code ever calls arch_setup_dma_ops() for it and it keeps the
 * default of dev->dma_coherent (false on arm and arm64; x86 is always
 * coherent). Nothing binds to it; dma_alloc_attrs() needs no driver.
 */
static int dh_run_noncoherent(void)
{
	struct platform_device_info info = {
		.name = "dma_harness_nc",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(32),
	};
	struct dh_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	dh_nc_pdev = platform_device_register_full(&info);
	if (IS_ERR(dh_nc_pdev)) {
		int ret = PTR_ERR(dh_nc_pdev);

		dh_nc_pdev = NULL;
		kfree(ctx);
		return ret;
	}
	ctx->dev = &dh_nc_pdev->dev;
	ctx->variant = variant;
	ctx->edu.irq_kind = "none";
	ctx->mask_bits = clamp(edu_dma_bits, 1, 64);
	ctx->mask_rc = dma_set_mask_and_coherent(ctx->dev,
						 DMA_BIT_MASK(ctx->mask_bits));
	dh_nc_ctx = ctx;
	dh_run_all(ctx);
	return 0;
}

static int __init dh_init(void)
{
	int ret;

	dh_watch_init();
	if (variant && !strcmp(variant, "noncoherent")) {
		ret = dh_run_noncoherent();
		if (ret)
			dh_run_all(NULL);
		return 0;
	}

	ret = pci_register_driver(&dh_driver);
	if (ret) {
		dh_watch_exit();
		return ret;
	}

	/*
	 * PCI probing is synchronous here: if no suite ran, there is no
	 * usable edu. Say so in KTAP and never wait for a device that is not
	 * there. The load still succeeds: busybox's insmod retries with
	 * init_module() after a failed finit_module(), which would print the
	 * whole KTAP document twice; the verdict travels in KTAP instead.
	 */
	if (!dh_ran)
		dh_run_all(NULL);
	return 0;
}

static void __exit dh_exit(void)
{
	if (dh_nc_pdev) {
		dh_mmap_teardown();
		platform_device_unregister(dh_nc_pdev);
		kfree(dh_nc_ctx);
	} else {
		pci_unregister_driver(&dh_driver);
	}
	dh_watch_exit();
}

module_init(dh_init);
module_exit(dh_exit);

MODULE_DESCRIPTION("DMA-mapping API conformance checks driven through QEMU's edu device");
MODULE_AUTHOR("dma-harness contributors");
MODULE_LICENSE("GPL");
