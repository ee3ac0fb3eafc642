#include "ldm_codecs.h"
#include "codec_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ldm_image_free(ldm_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    free(image->exif);
    free(image->icc);
    free(image->text);
    memset(image, 0, sizeof(*image));
}

void ldm_set_error(char *err, size_t capacity, const char *format, ...) {
    if (err == NULL || capacity == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(err, capacity, format, args);
    va_end(args);
    err[capacity - 1] = '\0';
}

uint8_t *ldm_copy_bytes(const void *data, size_t length) {
    if (data == NULL || length == 0) return NULL;
    uint8_t *copy = malloc(length);
    if (copy != NULL) memcpy(copy, data, length);
    return copy;
}

char *ldm_copy_text(const void *data, size_t length) {
    if (data == NULL && length > 0) return NULL;
    char *copy = malloc(length + 1);
    if (copy == NULL) return NULL;
    if (length > 0) memcpy(copy, data, length);
    copy[length] = '\0';
    return copy;
}

ldm_status ldm_check_dimensions(uint64_t width, uint64_t height, int channels, int bit_depth,
                                uint64_t max_pixels, size_t *byte_count, char *err, size_t capacity) {
    if (width == 0 || height == 0) {
        ldm_set_error(err, capacity, "image header gives a zero dimension (%llux%llu)",
                      (unsigned long long)width, (unsigned long long)height);
        return LDM_ERR_CORRUPT;
    }
    // width and height are at most 2^32 each, so the product fits in 64 bits.
    uint64_t pixels = width * height;
    if (pixels > max_pixels) {
        ldm_set_error(err, capacity, "image is %llux%llu (%llu pixels), above the limit of %llu pixels",
                      (unsigned long long)width, (unsigned long long)height, (unsigned long long)pixels,
                      (unsigned long long)max_pixels);
        return LDM_ERR_TOO_LARGE;
    }
    uint64_t bytes_per_sample = bit_depth > 8 ? 2 : 1;
    uint64_t per_pixel = (uint64_t)channels * bytes_per_sample;
    if (pixels > (uint64_t)SIZE_MAX / per_pixel) {
        ldm_set_error(err, capacity, "image is %llux%llu: its size overflows memory addressing",
                      (unsigned long long)width, (unsigned long long)height);
        return LDM_ERR_TOO_LARGE;
    }
    *byte_count = (size_t)(pixels * per_pixel);
    return LDM_OK;
}

FILE *ldm_open_file(const char *path, const char *mode, char *err, size_t capacity) {
    FILE *file = fopen(path, mode);
    if (file == NULL) {
        ldm_set_error(err, capacity, "%s", strerror(errno));
    }
    return file;
}

ldm_status ldm_close_written_file(FILE *file, char *err, size_t capacity) {
    // Buffered data reaches the disk only here: a full disk shows up as a failing fflush/fclose.
    int flushed = fflush(file);
    int saved = errno;
    int closed = fclose(file);
    if (flushed != 0 || closed != 0) {
        ldm_set_error(err, capacity, "could not finish writing the file: %s", strerror(flushed != 0 ? saved : errno));
        return LDM_ERR_WRITE;
    }
    return LDM_OK;
}
