// Private to the TIFF wrappers (tiff_support.c, tiff_read.c, tiff_write.c).
#ifndef LDM_TIFF_SUPPORT_H
#define LDM_TIFF_SUPPORT_H

#include "ldm_codecs.h"
#include <tiffio.h>

/// Error state of one libtiff call sequence; handed to libtiff as handler user data.
typedef struct {
    int failed;
    char message[LDM_ERROR_CAPACITY];
} tiff_context;

/// TIFFFdOpenExt with `ctx` capturing errors and warnings silenced (nothing reaches stderr).
TIFF *ldm_open_tiff(int fd, const char *path, const char *mode, tiff_context *ctx);

#endif
