// OpenBLAS's CBLAS interface plus its threading controls (Debian: libopenblas-dev).
#include <cblas.h>

// Declared in OpenBLAS's cblas.h on Debian; repeated here so the shim also works
// with a reference-CBLAS header first on the include path.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
