#include <sys/prctl.h>

#include "CSystemShims.h"

int harness_set_child_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}
