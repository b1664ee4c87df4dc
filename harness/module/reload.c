// SPDX-License-Identifier: GPL-2.0
/*
 * Suite dma_reload, printed by the module's second load (phase=reload)
 * after the init removed the first one: the last suite of the document.
 * It checks what an unload must leave behind for a driver to come back:
 * the device binds again (its IRQ and the misc device name are free
 * again), edu moves data again, and the memory counters are back to what
 * the first load saw before it allocated anything. Without edu (the
 * noncoherent variant) the platform device registers again and the
 * transfer is skipped.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "harness.h"

#define DH_RELOAD_PLAN		6
/*
 * Against the first load's baseline, the whole run lies in between: the
 * helper process came and went, page tables and task structures went back
 * to their slab caches. The same 1 MiB as dma_lifetime's: what a leak of
 * one buffer per test of the run (over a hundred) would exceed many times.
 */
#define DH_RELOAD_FREE_TOL_KB	1024

void dh_reload_run(struct dh_ctx *ctx, unsigned int num,
		   const struct dh_memsnap *base, const char *base_irq)
{
	struct dh_memsnap b = *base, now;
	const char *reason = NULL;
	struct ktap_suite s;
	struct ktap_diag d;
	int misc;

	ktap_suite_begin(&s, "dma_reload", num, DH_RELOAD_PLAN);

	ktap_diag_start(&d, &s, "rebind");
	if (ctx->pdev) {
		ktap_diag_hex(&d, "edu_id", ctx->edu_id);
	} else {
		/* The platform device's name was free again: registered. */
		ktap_diag_str(&d, "bus", "platform");
		ktap_diag_str(&d, "device", dev_name(ctx->dev));
	}
	ktap_diag_str(&d, "irq", ctx->edu.irq_kind);
	ktap_diag_str(&d, "irq_before", base_irq);
	if (ctx->edu.irq_errno)
		ktap_diag_u64(&d, "irq_errno", ctx->edu.irq_errno);
	if (strcmp(ctx->edu.irq_kind, base_irq))
		reason = "irq_lost";
	ktap_diag_emit(&d);
	ktap_result(&s, "rebind", !reason);

	misc = dh_mmap_reregister();
	ktap_diag_start(&d, &s, "misc_reregister");
	ktap_diag_bool(&d, "ok", !misc);
	if (misc) {
		ktap_diag_u64(&d, "errno", -misc);
		ktap_diag_str(&d, "reason", "misc_name_busy");
	}
	ktap_diag_emit(&d);
	ktap_result(&s, "misc_reregister", !misc);

	if (ctx->pdev) {
		dh_edu_roundtrip(ctx, &s, &dh_attrs[0], 0x4e10);
	} else {
		ktap_diag_start(&d, &s, "none_roundtrip");
		ktap_diag_str(&d, "attrs", "none");
		ktap_diag_bool(&d, "device_dma", false);
		ktap_diag_emit(&d);
		ktap_skip(&s, "none_roundtrip", "no_device_dma");
	}

	b.have_pcp = true;
	b.have_remaps = true;
	b.have_meminfo = true;
	dh_memsnap_take(&now);
	dh_memsnap_at_start(&now);
	dh_memsnap_checks(&s, "reload", &b, &now, DH_RELOAD_FREE_TOL_KB);
	ktap_suite_end(&s);
}
