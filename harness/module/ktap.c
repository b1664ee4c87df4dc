// SPDX-License-Identifier: GPL-2.0
/*
 * KTAP version 1 printing helpers for dma_harness.
 *
 * Every line goes out with a single pr_info() so that a line is never split
 * by a kernel message printed from another context; no pr_fmt prefix is
 * defined on purpose, KTAP lines must start exactly as the spec says.
 */
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/string.h>

#include "fault.h"
#include "ktap.h"

#define KTAP_INDENT	"    "

static unsigned int results_printed;
/* Set by ktap_diag_emit() when a test warned unexpectedly. */
static bool warn_failed;

static void ktap_count_result(void)
{
	results_printed++;
	dh_fault_after_result(results_printed);
}

void ktap_header(unsigned int nsuites)
{
	pr_info("KTAP version 1\n");
	pr_info("1..%u\n", nsuites);
}

void ktap_suite_begin(struct ktap_suite *s, const char *name,
		      unsigned int num, unsigned int plan)
{
	s->name = name;
	s->num = num;
	s->plan = plan;
	s->next = 1;
	s->failed = false;
	pr_info(KTAP_INDENT "KTAP version 1\n");
	pr_info(KTAP_INDENT "# Subtest: %s\n", name);
	pr_info(KTAP_INDENT "1..%u\n", plan);
}

void ktap_suite_end(struct ktap_suite *s)
{
	/* A suite that printed fewer results than it planned did not pass. */
	if (s->next != s->plan + 1) {
		pr_info("# %s: reason=plan_mismatch planned=%u ran=%u\n",
			s->name, s->plan, s->next - 1);
		s->failed = true;
	}
	pr_info("%s %u %s\n", s->failed ? "not ok" : "ok", s->num, s->name);
	ktap_count_result();
}

void ktap_suite_not_run(unsigned int num, const char *name,
			const char *reason)
{
	pr_info("# %s: reason=%s\n", name, reason);
	pr_info("not ok %u %s # %s\n", num, name, reason);
	ktap_count_result();
}

void ktap_suite_skip(unsigned int num, const char *name, const char *reason)
{
	pr_info("ok %u %s # SKIP %s\n", num, name, reason);
	ktap_count_result();
}

void ktap_diag_start(struct ktap_diag *d, const struct ktap_suite *s,
		     const char *test)
{
	d->len = scnprintf(d->buf, sizeof(d->buf), "%s# %s:",
			   s ? KTAP_INDENT : "", test);
	d->reason[0] = '\0';
	d->expect_warn = false;
	memset(&d->delta, 0, sizeof(d->delta));
	dh_watch_begin(&d->watch);
	if (s)
		dh_fault_at_test(s->name, test);
}

void ktap_diag_reason(struct ktap_diag *d, const char *why)
{
	size_t len = strlen(d->reason);

	scnprintf(d->reason + len, sizeof(d->reason) - len, "%s%s",
		  len ? "+" : "", why);
}

/* The test provokes a warning on purpose: a warning is data, not a fault. */
void ktap_diag_expect_warn(struct ktap_diag *d)
{
	d->expect_warn = true;
}

/*
 * Ends the watch early (before the test's own bookkeeping) and fills
 * d->delta; ktap_diag_emit() then reports that window. Optional.
 */
void ktap_diag_watch(struct ktap_diag *d)
{
	dh_watch_end(&d->watch, &d->delta);
	d->watch.taint_before = true;	/* the window is closed */
	d->watch.warnings_before += d->delta.warnings;
	d->watch.splats_before += d->delta.splats;
	d->watch.cma_before += d->delta.cma_reports;
}

void ktap_diag_str(struct ktap_diag *d, const char *key, const char *val)
{
	if (!strcmp(key, "reason")) {
		ktap_diag_reason(d, val);
		return;
	}
	d->len += scnprintf(d->buf + d->len, sizeof(d->buf) - d->len,
			    " %s=%s", key, val);
}

void ktap_diag_u64(struct ktap_diag *d, const char *key, u64 val)
{
	d->len += scnprintf(d->buf + d->len, sizeof(d->buf) - d->len,
			    " %s=%llu", key, val);
}

void ktap_diag_s64(struct ktap_diag *d, const char *key, s64 val)
{
	d->len += scnprintf(d->buf + d->len, sizeof(d->buf) - d->len,
			    " %s=%lld", key, val);
}

void ktap_diag_hex(struct ktap_diag *d, const char *key, u64 val)
{
	d->len += scnprintf(d->buf + d->len, sizeof(d->buf) - d->len,
			    " %s=0x%llx", key, val);
}

void ktap_diag_bool(struct ktap_diag *d, const char *key, bool val)
{
	ktap_diag_u64(d, key, val ? 1 : 0);
}

void ktap_diag_emit(struct ktap_diag *d)
{
	struct dh_watch_delta late;
	bool warned;

	dh_watch_end(&d->watch, &late);
	d->delta.new_taint |= late.new_taint;
	d->delta.warnings += late.warnings;
	d->delta.splats += late.splats;
	d->delta.cma_reports += late.cma_reports;

	warned = d->delta.new_taint || d->delta.warnings;
	if (warned) {
		ktap_diag_bool(d, "warn_taint", d->delta.new_taint);
		ktap_diag_u64(d, "warnings", d->delta.warnings);
	}
	/* Failure reports of any test, for DMA_ATTR_NO_WARN's contrast. */
	if (d->delta.cma_reports)
		ktap_diag_u64(d, "cma_failure_reports", d->delta.cma_reports);
	if (d->delta.splats && !strstr(d->buf, " alloc_failure_reports="))
		ktap_diag_u64(d, "alloc_failure_reports", d->delta.splats);
	if (d->expect_warn)
		ktap_diag_bool(d, "warn_expected", true);
	if (warned && !d->expect_warn)
		ktap_diag_reason(d, "warn_taint");
	warn_failed = warned && !d->expect_warn;
	if (d->reason[0])
		d->len += scnprintf(d->buf + d->len, sizeof(d->buf) - d->len,
				    " reason=%s", d->reason);
	pr_info("%s\n", d->buf);
}

void ktap_result(struct ktap_suite *s, const char *test, bool ok)
{
	dh_fault_at_test(s->name, test);
	if (warn_failed)
		ok = false;
	warn_failed = false;
	if (!ok)
		s->failed = true;
	pr_info(KTAP_INDENT "%s %u %s\n", ok ? "ok" : "not ok", s->next++,
		test);
	ktap_count_result();
}

void ktap_skip(struct ktap_suite *s, const char *test, const char *reason)
{
	dh_fault_at_test(s->name, test);
	if (warn_failed) {
		warn_failed = false;
		ktap_result(s, test, false);
		return;
	}
	pr_info(KTAP_INDENT "ok %u %s # SKIP %s\n", s->next++, test, reason);
	ktap_count_result();
}
