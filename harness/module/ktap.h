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

/* printk keeps lines below 1 KiB; our longest line is about 400 bytes. */
#define KTAP_LINE_MAX	640

struct ktap_suite {
	const char *name;
	unsigned int num;	/* number in the top-level plan */
	unsigned int plan;	/* subtests announced */
	unsigned int next;	/* number of the next subtest */
	bool failed;
};

struct ktap_diag {
	char buf[KTAP_LINE_MAX];
	size_t len;
};

void ktap_set_panic_after(unsigned int results);

void ktap_header(unsigned int nsuites);
void ktap_suite_begin(struct ktap_suite *s, const char *name,
		      unsigned int num, unsigned int plan);
void ktap_suite_end(struct ktap_suite *s);
void ktap_suite_not_run(unsigned int num, const char *name,
			const char *reason);

void ktap_diag_start(struct ktap_diag *d, const struct ktap_suite *s,
		     const char *test);
void ktap_diag_str(struct ktap_diag *d, const char *key, const char *val);
void ktap_diag_u64(struct ktap_diag *d, const char *key, u64 val);
void ktap_diag_s64(struct ktap_diag *d, const char *key, s64 val);
void ktap_diag_hex(struct ktap_diag *d, const char *key, u64 val);
void ktap_diag_bool(struct ktap_diag *d, const char *key, bool val);
void ktap_diag_emit(struct ktap_diag *d);

void ktap_result(struct ktap_suite *s, const char *test, bool ok);
void ktap_skip(struct ktap_suite *s, const char *test, const char *reason);

#endif /* DMA_HARNESS_KTAP_H */
