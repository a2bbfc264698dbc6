/* vmm.h - entry point of the per-VM process: `hvd vmm ...`. */
#pragma once

/* Runs one VM until it powers off, is stopped, or fails. Returns the
 * process exit status. argv[0] is "vmm". */
int vmm_main(int argc, char **argv);
