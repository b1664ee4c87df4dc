// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (fault.h). The faults are the real thing, so that the
 * host is tested against what a broken kernel prints: panic() itself, a
 * NULL pointer dereference (an Oops that kills the insmod task), a module
 * init that never returns, and a storm of WARN()s with their backtraces.
 */
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "fault.h"

#define DH_FAULT_WHERE_MAX	64
/* Enough backtraces to flood the console, few enough to end in seconds. */
#define DH_FAULT_WARNS		32

enum dh_fault_kind {
	DH_FAULT_NONE,
	DH_FAULT_PANIC,
	DH_FAULT_OOPS,
	DH_FAULT_HANG,
	DH_FAULT_WARN,
};

static const char * const dh_fault_names[] = {
	[DH_FAULT_PANIC] = "panic",
	[DH_FAULT_OOPS] = "oops",
	[DH_FAULT_HANG] = "hang",
	[DH_FAULT_WARN] = "warn",
};

static struct {
	enum dh_fault_kind kind;
	unsigned int after_results;	/* 0: match by test name */
	char where[DH_FAULT_WHERE_MAX];	/* SUITE.TEST, or N */
} dh_fault;

/* Never written: the Oops is a genuine NULL pointer dereference. */
static int *dh_fault_null_target;

bool dh_fault_parse(const char *spec)
{
	const char *at = strchr(spec, '@');
	unsigned int i;
	size_t len;

	if (!at || !at[1] || strlen(at + 1) >= sizeof(dh_fault.where))
		return false;
	len = at - spec;
	for (i = DH_FAULT_PANIC; i < ARRAY_SIZE(dh_fault_names); i++) {
		if (strlen(dh_fault_names[i]) == len &&
		    !strncmp(spec, dh_fault_names[i], len))
			break;
	}
	if (i == ARRAY_SIZE(dh_fault_names))
		return false;
	strscpy(dh_fault.where, at + 1, sizeof(dh_fault.where));
	/* A number counts result lines; anything else names SUITE.TEST. */
	if (kstrtouint(dh_fault.where, 10, &dh_fault.after_results))
		dh_fault.after_results = 0;
	else if (!dh_fault.after_results)
		return false;
	if (!dh_fault.after_results && !strchr(dh_fault.where, '.'))
		return false;
	dh_fault.kind = i;
	return true;
}

static void dh_fault_fire(void)
{
	enum dh_fault_kind kind = dh_fault.kind;
	unsigned int i;

	dh_fault.kind = DH_FAULT_NONE;	/* once */
	pr_info("# dma_harness: fault injection %s@%s\n",
		dh_fault_names[kind], dh_fault.where);
	switch (kind) {
	case DH_FAULT_PANIC:
		panic("dma_harness: fault injection panic@%s\n",
		      dh_fault.where);
		break;
	case DH_FAULT_OOPS:
		WRITE_ONCE(*dh_fault_null_target, 1);
		break;
	case DH_FAULT_HANG:
		for (;;)
			ssleep(1);
		break;
	case DH_FAULT_WARN:
		for (i = 1; i <= DH_FAULT_WARNS; i++)
			WARN(1, "dma_harness: fault injection warn %u/%u\n",
			     i, DH_FAULT_WARNS);
		break;
	default:
		break;
	}
}

void dh_fault_at_test(const char *suite, const char *test)
{
	size_t len = strlen(suite);

	if (dh_fault.kind == DH_FAULT_NONE || dh_fault.after_results)
		return;
	if (!strncmp(dh_fault.where, suite, len) &&
	    dh_fault.where[len] == '.' && !strcmp(dh_fault.where + len + 1, test))
		dh_fault_fire();
}

void dh_fault_after_result(unsigned int results_printed)
{
	if (dh_fault.kind != DH_FAULT_NONE &&
	    dh_fault.after_results == results_printed)
		dh_fault_fire();
}
