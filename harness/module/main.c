// SPDX-License-Identifier: GPL-2.0
/*
 * dma_harness: checks, on the running kernel, whether dma_alloc_attrs()
 * keeps the promises of Documentation/core-api/dma-api*.rst, using QEMU's
 * edu device as the DMA master. Results go to the console as KTAP version 1
 * (harness/PROTOCOL.md in the dma-harness repository); the host reads
 * them back from the raw console.
 *
 * Everything runs once, synchronously, while the module loads: the init
 * program of the guest loads the module and powers off when insmod returns.
 */
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "harness.h"

static int edu_dma_bits = 32;
module_param(edu_dma_bits, int, 0444);
MODULE_PARM_DESC(edu_dma_bits,
		 "DMA mask width of the edu device as QEMU was configured (its dma_mask property); set with dma_set_mask_and_coherent() (default 32)");

/*
 * Fault injection, for the harness's own tests only. "panic_after:N" makes
 * the module call panic() right after it printed its Nth KTAP result line
 * (suite results count too), so that the host can be tested against a real
 * kernel panic in the middle of a suite. Empty (the default) injects
 * nothing.
 */
static char *fault = "";
module_param(fault, charp, 0444);
MODULE_PARM_DESC(fault,
		 "Fault injection for testing the harness: panic_after:N panics after N KTAP results (default: none)");

static const struct dh_suite dh_suites[] = {
	{ "dma_discovery", dh_discovery_plan, dh_discovery_run },
	{ "dma_alloc", dh_alloc_plan, dh_alloc_run },
	{ "dma_edu", dh_edu_plan, dh_edu_run },
	{ "dma_sgtable", dh_sgtable_plan, dh_sgtable_run },
	{ "dma_noncoherent_api", dh_noncoherent_plan, dh_noncoherent_run },
	{ "dma_lifetime", dh_lifetime_plan, dh_lifetime_run },
};

static bool dh_ran;

static void dh_parse_fault(void)
{
	const char *prefix = "panic_after:";
	unsigned int n;

	if (!fault || !*fault)
		return;
	if (str_has_prefix(fault, prefix) &&
	    !kstrtouint(fault + strlen(prefix), 10, &n)) {
		ktap_set_panic_after(n);
		return;
	}
	/* Printed as a KTAP comment: the host keeps it, the plan is intact. */
	pr_info("# dma_harness: fault=%s ignored (unknown)\n", fault);
}

static void dh_run_all(struct dh_ctx *ctx)
{
	struct ktap_suite s;
	unsigned int i;

	dh_ran = true;
	ktap_header(ARRAY_SIZE(dh_suites));
	dh_parse_fault();
	for (i = 0; i < ARRAY_SIZE(dh_suites); i++) {
		const struct dh_suite *suite = &dh_suites[i];

		if (!ctx) {
			ktap_suite_not_run(i + 1, suite->name, "no_device");
			continue;
		}
		ktap_suite_begin(&s, suite->name, i + 1, suite->plan(ctx));
		suite->run(ctx, &s);
		ktap_suite_end(&s);
	}
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
	edu_setup_irq(&ctx->edu, pdev);

	dh_run_all(ctx);
	return 0;
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
};

static int __init dh_init(void)
{
	int ret;

	ret = pci_register_driver(&dh_driver);
	if (ret)
		return ret;

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
	pci_unregister_driver(&dh_driver);
}

module_init(dh_init);
module_exit(dh_exit);

MODULE_DESCRIPTION("DMA-mapping API conformance checks driven through QEMU's edu device");
MODULE_AUTHOR("dma-harness contributors");
MODULE_LICENSE("GPL");
