#include <cblas.h>
// OpenBLAS extensions: thread control for benchmarks and deterministic runs.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
