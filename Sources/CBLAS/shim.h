/* CBLAS: OpenBLAS's C interface (pkg-config openblas puts its cblas.h first on the path). */
#include <cblas.h>
