/* vmm-main.c - `hvd vmm`: placeholder until the KVM engine lands. */
#include <stdio.h>
#include "vmm.h"

int vmm_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "hvd vmm: the KVM engine is not built yet\n");
	return 1;
}
