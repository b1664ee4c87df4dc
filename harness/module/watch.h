/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Watching the kernel for warnings while a test runs.
 *
 * Two signals: TAINT_WARN (set by the first WARN() and never cleared, so it
 * only tells about the first one) and a console of our own that counts the
 * kernel's "WARNING:" lines, the page allocator's "page allocation failure"
 * reports and cma_alloc()'s failure reports as they are printed, which
 * keeps counting after the taint is set.
 */
#ifndef DMA_HARNESS_WATCH_H
#define DMA_HARNESS_WATCH_H

#include <linux/types.h>

struct dh_watch {
	bool taint_before;
	unsigned int warnings_before;
	unsigned int splats_before;
	unsigned int cma_before;
};

struct dh_watch_delta {
	bool new_taint;		/* TAINT_WARN went from clear to set */
	unsigned int warnings;	/* "WARNING:" lines printed meanwhile */
	unsigned int splats;	/* "page allocation failure" lines */
	unsigned int cma_reports;	/* cma_alloc() "alloc failed" lines */
};

int dh_watch_init(void);
void dh_watch_exit(void);
bool dh_watch_console(void);
void dh_watch_begin(struct dh_watch *w);
void dh_watch_end(const struct dh_watch *w, struct dh_watch_delta *delta);

#endif /* DMA_HARNESS_WATCH_H */
