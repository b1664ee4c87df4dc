#ifndef DMA_HARNESS_CSYSTEMSHIMS_H
#define DMA_HARNESS_CSYSTEMSHIMS_H

/*
 * Linux calls Swift cannot import directly (variadic in glibc's headers).
 */

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process. */
int harness_set_child_subreaper(void);

#endif
