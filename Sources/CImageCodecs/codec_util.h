// Helpers shared by the codec wrappers (not part of the public header).
#ifndef LDM_CODEC_UTIL_H
#define LDM_CODEC_UTIL_H

#include "ldm_codecs.h"
#include <stdio.h>

/// snprintf into the caller's error buffer; always NUL-terminated.
void ldm_set_error(char *err, size_t capacity, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/// Validates header dimensions against the pixel ceiling and computes the pixel buffer size,
/// before anything large is allocated (decompression-bomb guard).
ldm_status ldm_check_dimensions(uint64_t width, uint64_t height, int channels, int bit_depth,
                                uint64_t max_pixels, size_t *byte_count, char *err, size_t capacity);

/// malloc'd copy of `length` bytes; NULL when data is NULL, length is 0 or memory runs out.
uint8_t *ldm_copy_bytes(const void *data, size_t length);

/// malloc'd NUL-terminated copy of `length` bytes of text (which need not be NUL-terminated);
/// NULL when memory runs out or data is NULL with a non-zero length. Readers use it for metadata strings.
char *ldm_copy_text(const void *data, size_t length);

/// fopen with strerror in `err` on failure.
FILE *ldm_open_file(const char *path, const char *mode, char *err, size_t capacity);

/// fflush + fclose of a file being written; a failure of either (e.g. disk full) is LDM_ERR_WRITE.
ldm_status ldm_close_written_file(FILE *file, char *err, size_t capacity);

#endif
