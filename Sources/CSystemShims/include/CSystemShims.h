#ifndef DMA_HARNESS_CSYSTEMSHIMS_H
#define DMA_HARNESS_CSYSTEMSHIMS_H

#include <sys/types.h>

/*
 * Linux calls Swift cannot import directly (variadic in glibc's headers, or
 * GNU extensions the Glibc module leaves out).
 */

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process. */
int harness_set_child_subreaper(void);

/*
 * pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so a child
 * that another thread spawns meanwhile cannot inherit them.
 */
int harness_pipe_cloexec(int fds[2]);

/*
 * posix_spawn() of path with argv and envp (NULL-terminated), stdin from
 * /dev/null, stdout and stderr onto out_fd and err_fd, in directory dir when
 * not NULL. The child starts with an empty signal mask and default
 * dispositions: this process ignores SIGINT and blocks signals in its
 * threads, and a child must not inherit either. Returns 0 and sets *pid,
 * or returns an errno value.
 */
int harness_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *dir,
		  int out_fd, int err_fd);

#endif
