// SPDX-License-Identifier: GPL-2.0
/*
 * A console that only counts: every record the kernel prints while it is
 * registered goes through dh_con_write(), which looks for the start of a
 * WARN() report, for warn_alloc()'s "page allocation failure" and for
 * cma_alloc()'s "alloc failed" report. None of them
 * depends on a rate limit of ours, and unlike TAINT_WARN the counts keep
 * moving after the first warning of the boot.
 *
 * The console is registered enabled but without CON_PRINTBUFFER, so it sees
 * only what is printed after the module loaded, like netconsole.
 */
#include <linux/atomic.h>
#include <linux/console.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "watch.h"

static atomic_t dh_warnings = ATOMIC_INIT(0);
static atomic_t dh_splats = ATOMIC_INIT(0);
static atomic_t dh_cma_reports = ATOMIC_INIT(0);
static bool dh_con_registered;

static void dh_con_write(struct console *con, const char *s, unsigned int n)
{
	if (strnstr(s, "WARNING: CPU:", n))
		atomic_inc(&dh_warnings);
	if (strnstr(s, "page allocation failure", n))
		atomic_inc(&dh_splats);
	/* cma_alloc()'s report, printed unless __GFP_NOWARN (mm/cma.c) */
	if (strnstr(s, "alloc failed, req-size", n))
		atomic_inc(&dh_cma_reports);
}

static struct console dh_con = {
	.name = "dmaharness",
	.write = dh_con_write,
	.flags = CON_ENABLED,
	.index = -1,
};

int dh_watch_init(void)
{
	register_console(&dh_con);
	dh_con_registered = dh_con.flags & CON_ENABLED;
	return 0;
}

void dh_watch_exit(void)
{
	if (dh_con_registered)
		unregister_console(&dh_con);
	dh_con_registered = false;
}

/* True when warnings and splats are counted (our console is enabled). */
bool dh_watch_console(void)
{
	return dh_con_registered;
}

/*
 * Records that may still wait for the console lock are printed by the
 * console_unlock() of whoever holds it; taking and dropping the lock here
 * makes sure every record printed so far went through dh_con_write().
 * Must be called where sleeping is allowed.
 */
static void dh_watch_flush(void)
{
	if (!dh_con_registered)
		return;
	console_lock();
	console_unlock();
}

void dh_watch_begin(struct dh_watch *w)
{
	dh_watch_flush();
	w->taint_before = test_taint(TAINT_WARN);
	w->warnings_before = atomic_read(&dh_warnings);
	w->splats_before = atomic_read(&dh_splats);
	w->cma_before = atomic_read(&dh_cma_reports);
}

void dh_watch_end(const struct dh_watch *w, struct dh_watch_delta *delta)
{
	dh_watch_flush();
	delta->new_taint = !w->taint_before && test_taint(TAINT_WARN);
	delta->warnings = atomic_read(&dh_warnings) - w->warnings_before;
	delta->splats = atomic_read(&dh_splats) - w->splats_before;
	delta->cma_reports = atomic_read(&dh_cma_reports) - w->cma_before;
}
