// Generated index lists for __builtin_shufflevector at the vector width LDM_W (4, 8 or 16 floats).
// LDM_EVERY4(j): lanes j, j+4, … of the 2·W-lane concatenation of two vectors (W/2 lanes: one
//   column of 4-float tiles, half a vector). LDM_CONCAT: two W/2-lane halves → one W-lane vector.
// LDM_SHIFT1: lanes 1 … W of a vector followed by a splat (shift by one lane, the next value in).
// LDM_ZIP: a0 b0 a1 b1 … of two vectors. LDM_QUAD_LO/HI: from zip(a, b) and zip(c, d), the first
//   and second 2·W floats of a0 b0 c0 d0 a1 b1 c1 d1 … (four vectors interleaved).
#if LDM_W == 4
#define LDM_EVERY4(j) (j) + 0, (j) + 4
#define LDM_CONCAT 0, 1, 2, 3
#define LDM_SHIFT1 1, 2, 3, 4
#define LDM_ZIP 0, 4, 1, 5, 2, 6, 3, 7
#define LDM_QUAD_LO 0, 1, 8, 9, 2, 3, 10, 11
#define LDM_QUAD_HI 4, 5, 12, 13, 6, 7, 14, 15
#endif
#if LDM_W == 8
#define LDM_EVERY4(j) (j) + 0, (j) + 4, (j) + 8, (j) + 12
#define LDM_CONCAT 0, 1, 2, 3, 4, 5, 6, 7
#define LDM_SHIFT1 1, 2, 3, 4, 5, 6, 7, 8
#define LDM_ZIP 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15
#define LDM_QUAD_LO 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23
#define LDM_QUAD_HI 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31
#endif
#if LDM_W == 16
#define LDM_EVERY4(j) (j) + 0, (j) + 4, (j) + 8, (j) + 12, (j) + 16, (j) + 20, (j) + 24, (j) + 28
#define LDM_CONCAT 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
#define LDM_SHIFT1 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#define LDM_ZIP 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#define LDM_QUAD_LO 0, 1, 32, 33, 2, 3, 34, 35, 4, 5, 36, 37, 6, 7, 38, 39, 8, 9, 40, 41, 10, 11, 42, 43, 12, 13, 44, 45, 14, 15, 46, 47
#define LDM_QUAD_HI 16, 17, 48, 49, 18, 19, 50, 51, 20, 21, 52, 53, 22, 23, 54, 55, 24, 25, 56, 57, 26, 27, 58, 59, 28, 29, 60, 61, 30, 31, 62, 63
#endif
