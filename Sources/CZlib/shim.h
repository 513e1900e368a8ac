/* CZlib: zlib's C interface (pkg-config zlib), for the zlib-compressed blocks of SWORD modules. */
#include <zlib.h>
