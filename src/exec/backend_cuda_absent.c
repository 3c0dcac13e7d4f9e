/* backend_cuda_absent.c - stands in for the cuda backend in builds without the CUDA toolkit
 * (`make exec-cuda` links backend_cuda.c instead). */
#include "backend.h"

const pp_xbackend *pp_xbackend_cuda(const char **why)
{
	if (why)
		*why = "this parplan-exec was built without CUDA; build bin/parplan-exec-cuda with "
		       "`make exec-cuda` on a machine with nvcc";
	return NULL;
}
