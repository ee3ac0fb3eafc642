// TIFF support shared by tiff_read.c and tiff_write.c: per-call error capture and opening.
//
// libtiff reports problems through handlers rather than longjmp. Each call passes its own
// tiff_context through TIFFOpenOptions, so concurrent calls never share error state, and nothing
// reaches stderr. We open the file descriptor ourselves: that gives an honest errno for
// LDM_ERR_OPEN and the file size needed to tell a truncated file from a corrupt one.
#if !defined(_POSIX_C_SOURCE) && !defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L // pread, O_CLOEXEC under -std=c11
#endif

#include "ldm_codecs.h"
#include "codec_util.h"
#include "tiff_support.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>


static int on_tiff_error(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    (void)module;
    tiff_context *ctx = user_data;
    // The first message is the specific one; later ones are callers reporting the same failure.
    if (!ctx->failed) vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    ctx->failed = 1;
    return 1; // non-zero: libtiff does not also call the process-wide handlers
}

static int on_tiff_warning(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap) {
    // Warnings (unknown tags, guessed byte counts) do not stop decoding.
    (void)tif, (void)user_data, (void)module, (void)fmt, (void)ap;
    return 1;
}

static pthread_once_t silence_once = PTHREAD_ONCE_INIT;

static void silence_global_handlers(void) {
    // Defensive: any message libtiff raises without a handle (so without our per-call handler)
    // goes to the process-wide handlers, whose default prints to stderr. Nothing else in this
    // process uses libtiff, so nobody loses messages they wanted.
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

TIFF *ldm_open_tiff(int fd, const char *path, const char *mode, tiff_context *ctx) {
    pthread_once(&silence_once, silence_global_handlers);
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (opts == NULL) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, ctx);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_tiff_warning, ctx);
    TIFF *tif = TIFFFdOpenExt(fd, path, mode, opts); // the handle copies what it needs from opts
    TIFFOpenOptionsFree(opts);
    return tif;
}
