// Generated index lists for __builtin_shufflevector at the vector width LDM_W (4, 8 or 16 floats).
// LDM_EVERY4(j): lanes j, j+4, … of the 2·W-lane concatenation of two vectors (W/2 lanes: one
//   column of 4-float tiles, half a vector). LDM_CONCAT: two W/2-lane halves → one W-lane vector.
// LDM_SHIFT1: lanes 1 … W of a vector followed by a splat (shift by one lane, the next value in).
// LDM_ZIP: a0 b0 a1 b1 … of two vectors. LDM_QUAD_LO/HI: from zip(a, b) and zip(c, d), the first
//   and second 2·W floats of a0 b0 c0 d0 a1 b1 c1 d1 … (four vectors interleaved).
// LDM_UNPACK_LO/HI, LDM_MOVE_LH/HL: SSE's unpcklps/unpckhps/movlhps/movhlps within each 128-bit
//   lane (a 4×4 transpose per lane in four steps). LDM_CONCAT2: two W-lane vectors → one 2·W.
//   LDM_TILE_GATHER_LO/HI: from concat(r0, r1) and concat(r2, r3), where r_j's 128-bit lane L is
//   4-float tile 4L + j, the first and second 2·W floats of the tiles in order.
#if LDM_W == 4
#define LDM_UNPACK_LO 0, 4, 1, 5
#define LDM_UNPACK_HI 2, 6, 3, 7
#define LDM_MOVE_LH 0, 1, 4, 5
#define LDM_MOVE_HL 2, 3, 6, 7
#define LDM_CONCAT2 0, 1, 2, 3, 4, 5, 6, 7
#define LDM_TILE_GATHER_LO 0, 1, 2, 3, 4, 5, 6, 7
#define LDM_TILE_GATHER_HI 8, 9, 10, 11, 12, 13, 14, 15
#define LDM_EVERY4(j) (j) + 0, (j) + 4
#define LDM_CONCAT 0, 1, 2, 3
#define LDM_SHIFT1 1, 2, 3, 4
#define LDM_ZIP 0, 4, 1, 5, 2, 6, 3, 7
#define LDM_QUAD_LO 0, 1, 8, 9, 2, 3, 10, 11
#define LDM_QUAD_HI 4, 5, 12, 13, 6, 7, 14, 15
#endif
#if LDM_W == 8
#define LDM_UNPACK_LO 0, 8, 1, 9, 4, 12, 5, 13
#define LDM_UNPACK_HI 2, 10, 3, 11, 6, 14, 7, 15
#define LDM_MOVE_LH 0, 1, 8, 9, 4, 5, 12, 13
#define LDM_MOVE_HL 2, 3, 10, 11, 6, 7, 14, 15
#define LDM_CONCAT2 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
#define LDM_TILE_GATHER_LO 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27
#define LDM_TILE_GATHER_HI 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31
#define LDM_EVERY4(j) (j) + 0, (j) + 4, (j) + 8, (j) + 12
#define LDM_CONCAT 0, 1, 2, 3, 4, 5, 6, 7
#define LDM_SHIFT1 1, 2, 3, 4, 5, 6, 7, 8
#define LDM_ZIP 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15
#define LDM_QUAD_LO 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23
#define LDM_QUAD_HI 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31
#endif
#if LDM_W == 16
#define LDM_UNPACK_LO 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29
#define LDM_UNPACK_HI 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31
#define LDM_MOVE_LH 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define LDM_MOVE_HL 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define LDM_CONCAT2 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
#define LDM_TILE_GATHER_LO 0, 1, 2, 3, 16, 17, 18, 19, 32, 33, 34, 35, 48, 49, 50, 51, 4, 5, 6, 7, 20, 21, 22, 23, 36, 37, 38, 39, 52, 53, 54, 55
#define LDM_TILE_GATHER_HI 8, 9, 10, 11, 24, 25, 26, 27, 40, 41, 42, 43, 56, 57, 58, 59, 12, 13, 14, 15, 28, 29, 30, 31, 44, 45, 46, 47, 60, 61, 62, 63
#define LDM_EVERY4(j) (j) + 0, (j) + 4, (j) + 8, (j) + 12, (j) + 16, (j) + 20, (j) + 24, (j) + 28
#define LDM_CONCAT 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
#define LDM_SHIFT1 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#define LDM_ZIP 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#define LDM_QUAD_LO 0, 1, 32, 33, 2, 3, 34, 35, 4, 5, 36, 37, 6, 7, 38, 39, 8, 9, 40, 41, 10, 11, 42, 43, 12, 13, 44, 45, 14, 15, 46, 47
#define LDM_QUAD_HI 16, 17, 48, 49, 18, 19, 50, 51, 20, 21, 52, 53, 22, 23, 54, 55, 24, 25, 56, 57, 26, 27, 58, 59, 28, 29, 60, 61, 30, 31, 62, 63
#endif
