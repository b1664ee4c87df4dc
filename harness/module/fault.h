/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the harness's own tests (module parameter "fault").
 * Never active unless asked for: the host's fault matrix uses it to get a
 * real panic, Oops, hang or WARN storm from the real kernel, mid-suite.
 */
#ifndef DMA_HARNESS_FAULT_H
#define DMA_HARNESS_FAULT_H

#include <linux/types.h>

/*
 * Parses "KIND@WHERE": KIND is panic, oops, hang or warn; WHERE is either
 * N (right after the Nth KTAP result line, suite results included) or
 * SUITE.TEST (when that test starts its diagnostic line, so that a WARN
 * storm belongs to it, or else right before its result line). Returns
 * false, and arms nothing, for anything else.
 */
bool dh_fault_parse(const char *spec);
/* Called by the KTAP emitter when a test starts and before its result. */
void dh_fault_at_test(const char *suite, const char *test);
/* Called by the KTAP emitter after every result line it prints. */
void dh_fault_after_result(unsigned int results_printed);

#endif /* DMA_HARNESS_FAULT_H */
