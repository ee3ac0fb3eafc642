// Does a row of an OpenBLAS sgemm depend on how many rows the call has? (Linear.swift's `images`.)
//   cc -O2 Scripts/bench/gemm_rows.c -o /tmp/gemm_rows -lopenblas && /tmp/gemm_rows [M N K M2]
// Computes the same first M rows of A·Bᵀ in a call of M rows and in a call of M2 rows, single-threaded,
// and prints how many elements differ in their bits and which rows/columns they lie in. Measured with
// Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH): the Zen/Haswell kernel on an AVX2-only EPYC gives 1107 of
// 4096×320 elements different for M = 4096, M2 = 8192 (rows 4092–4095: M-blocking decides which kernel
// handles them); the SkylakeX kernel on AVX-512 machines gave none in the project's tests.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int m = argc > 4 ? atoi(argv[1]) : 4096, n = argc > 4 ? atoi(argv[2]) : 320;
    int k = argc > 4 ? atoi(argv[3]) : 320, m2 = argc > 4 ? atoi(argv[4]) : 8192;
    if (m2 < m) return 64;
    openblas_set_num_threads(1);
    float *a = malloc(sizeof(float) * m2 * k), *b = malloc(sizeof(float) * k * n);
    float *c1 = malloc(sizeof(float) * m * n), *c2 = malloc(sizeof(float) * m2 * n);
    srand(1);
    for (long i = 0; i < (long)m2 * k; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < (long)k * n; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c1, n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m2, n, k, 1, a, k, b, k, 0, c2, n);
    long differ = 0;
    int r0 = -1, r1 = -1, q0 = -1, q1 = -1;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            if (memcmp(&c1[(long)i * n + j], &c2[(long)i * n + j], sizeof(float)) == 0) continue;
            differ++;
            if (r0 < 0) r0 = i;
            r1 = i;
            if (q0 < 0 || j < q0) q0 = j;
            if (j > q1) q1 = j;
        }
    }
    printf("%s\nM %d (of %d) x N %d x K %d: %ld of %ld elements differ", openblas_get_config(), m, m2, n, k, differ, (long)m * n);
    if (differ) printf(" (rows %d-%d, columns %d-%d)", r0, r1, q0, q1);
    printf("\n");
    return 0;
}
