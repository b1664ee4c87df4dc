/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KTAP version 1 output for dma_harness.
 *
 * Debian's kernels have no KUnit, so the module prints KTAP itself. The
 * exact shape the host parses is harness/PROTOCOL.md: one top-level test
 * per suite, each suite a subtest indented by four spaces, and every
 * measured value in a "# <test>: key=value ..." line printed before the
 * result line of the test it belongs to.
 */
#ifndef DMA_HARNESS_KTAP_H
#define DMA_HARNESS_KTAP_H

#include <linux/types.h>

#include "watch.h"

/* printk keeps lines below 1 KiB; our longest line is about 500 bytes. */
#define KTAP_LINE_MAX	640
#define KTAP_REASON_MAX	64

struct ktap_suite {
	const char *name;
	unsigned int num;	/* number in the top-level plan */
	unsigned int plan;	/* subtests announced */
	unsigned int next;	/* number of the next subtest */
	bool failed;
};

/*
 * One diagnostic line. Between ktap_diag_start() and ktap_diag_emit() the
 * kernel is watched for warnings: a new one makes the test not ok with
 * reason warn_taint unless the test called ktap_diag_expect_warn(). The
 * "reason" key is collected (ktap_diag_reason(), or ktap_diag_str() with
 * key "reason") and printed last, several reasons joined with '+'.
 */
struct ktap_diag {
	char buf[KTAP_LINE_MAX];
	size_t len;
	char reason[KTAP_REASON_MAX];
	bool expect_warn;
	struct dh_watch watch;
	struct dh_watch_delta delta;	/* filled by ktap_diag_emit() */
};

void ktap_header(unsigned int nsuites);
void ktap_suite_begin(struct ktap_suite *s, const char *name,
		      unsigned int num, unsigned int plan);
void ktap_suite_end(struct ktap_suite *s);
void ktap_suite_not_run(unsigned int num, const char *name,
			const char *reason);
void ktap_suite_skip(unsigned int num, const char *name, const char *reason);

void ktap_diag_start(struct ktap_diag *d, const struct ktap_suite *s,
		     const char *test);
void ktap_diag_str(struct ktap_diag *d, const char *key, const char *val);
void ktap_diag_u64(struct ktap_diag *d, const char *key, u64 val);
void ktap_diag_s64(struct ktap_diag *d, const char *key, s64 val);
void ktap_diag_hex(struct ktap_diag *d, const char *key, u64 val);
void ktap_diag_bool(struct ktap_diag *d, const char *key, bool val);
void ktap_diag_reason(struct ktap_diag *d, const char *why);
void ktap_diag_expect_warn(struct ktap_diag *d);
void ktap_diag_watch(struct ktap_diag *d);
void ktap_diag_emit(struct ktap_diag *d);

void ktap_result(struct ktap_suite *s, const char *test, bool ok);
void ktap_skip(struct ktap_suite *s, const char *test, const char *reason);

#endif /* DMA_HARNESS_KTAP_H */
