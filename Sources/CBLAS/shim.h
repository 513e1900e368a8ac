/* CBLAS: OpenBLAS's C interface (pkg-config openblas puts its cblas.h first on the path). */
#include <cblas.h>
/* glibc's mallopt, for the tensor storage's allocation policy (Storage.allocatorConfigured) */
#include <malloc.h>
