// TIFF writing through libtiff 4.5+. See ldm_codecs.h for the contract.
#if !defined(_POSIX_C_SOURCE) && !defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L // pread, O_CLOEXEC under -std=c11
#endif

#include "ldm_codecs.h"
#include "codec_util.h"
#include "tiff_support.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

// MARK: Writing

// Gathers a strip or tile (all channels, or only channel `plane` when plane >= 0) from the image.
static void gather(const ldm_image *im, uint8_t *dst, size_t dst_stride, uint32_t x0, uint32_t y0, uint32_t cw,
                   uint32_t ch, int plane) {
    size_t ob = (size_t)im->bit_depth / 8, pixel = (size_t)im->channels * ob;
    for (uint32_t y = 0; y < ch; y++) {
        const uint8_t *src = (const uint8_t *)im->pixels + ((size_t)(y0 + y) * im->width + x0) * pixel;
        uint8_t *d = dst + (size_t)y * dst_stride;
        if (plane < 0) {
            memcpy(d, src, (size_t)cw * pixel);
        } else {
            for (uint32_t x = 0; x < cw; x++) memcpy(d + x * ob, src + x * pixel + (size_t)plane * ob, ob);
        }
    }
}

static int write_pixels(TIFF *tif, const ldm_image *im, int tiled, int separate) {
    int nsamp = separate ? 1 : im->channels, planes = separate ? im->channels : 1;
    uint32_t cw = im->width, ch = 16;
    if (tiled) {
        cw = 16; // TIFF requires tile sizes in multiples of 16
        if (!TIFFSetField(tif, TIFFTAG_TILEWIDTH, cw) || !TIFFSetField(tif, TIFFTAG_TILELENGTH, ch)) return 0;
    } else {
        ch = TIFFDefaultStripSize(tif, 0);
        if (ch == 0 || ch > im->height) ch = im->height;
        if (!TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, ch)) return 0;
    }
    size_t stride = (size_t)cw * (size_t)nsamp * (size_t)(im->bit_depth / 8);
    uint8_t *scratch = calloc(ch, stride); // zeroed, so edge tiles are padded with zeros
    if (scratch == NULL) {
        TIFFErrorExtR(tif, "ldm_tiff_write", "out of memory for a %zu-byte buffer", stride * ch);
        return 0;
    }
    int ok = 1;
    for (int p = 0; p < planes && ok; p++) {
        for (uint64_t y = 0; y < im->height && ok; y += ch) {
            for (uint64_t x = 0; x < im->width && ok; x += cw) {
                uint32_t w = (uint32_t)(im->width - x < cw ? im->width - x : cw);
                uint32_t h = (uint32_t)(im->height - y < ch ? im->height - y : ch);
                if (tiled && (w < cw || h < ch)) memset(scratch, 0, stride * ch);
                gather(im, scratch, stride, (uint32_t)x, (uint32_t)y, w, h, separate ? p : -1);
                // Encoders (the predictor in particular) modify the buffer, hence the copy above.
                ok = tiled ? TIFFWriteEncodedTile(tif, TIFFComputeTile(tif, (uint32_t)x, (uint32_t)y, 0, (uint16_t)p),
                                                  scratch, (tmsize_t)(stride * ch)) >= 0
                           : TIFFWriteEncodedStrip(tif, TIFFComputeStrip(tif, (uint32_t)y, (uint16_t)p), scratch,
                                                   (tmsize_t)(stride * h)) >= 0;
            }
        }
    }
    free(scratch);
    return ok;
}

ldm_status ldm_tiff_write_layout(const char *path, const ldm_image *image, ldm_tiff_compression compression,
                                 int tiled, int separate_planes, char *err, size_t err_capacity) {
    if (err != NULL && err_capacity > 0) err[0] = '\0';
    if (path == NULL || image == NULL || image->pixels == NULL || image->width == 0 || image->height == 0) {
        ldm_set_error(err, err_capacity, "TIFF writer needs a path and a non-empty image");
        return LDM_ERR_INVALID_ARGUMENT;
    }
    if (image->channels < 1 || image->channels > 4 || (image->bit_depth != 8 && image->bit_depth != 16)) {
        ldm_set_error(err, err_capacity, "TIFF writer takes 1 to 4 channels of 8 or 16 bits, not %d of %d",
                      image->channels, image->bit_depth);
        return LDM_ERR_INVALID_ARGUMENT;
    }
    if (image->icc != NULL && image->icc_length > UINT32_MAX) {
        ldm_set_error(err, err_capacity, "an ICC profile of %zu bytes does not fit a TIFF tag", image->icc_length);
        return LDM_ERR_INVALID_ARGUMENT;
    }
    static const uint16_t codecs[] = {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE};
    if ((int)compression < 0 || (int)compression > 2) {
        ldm_set_error(err, err_capacity, "unknown TIFF compression %d", (int)compression);
        return LDM_ERR_INVALID_ARGUMENT;
    }
    uint64_t data = (uint64_t)image->width * image->height * (uint64_t)image->channels *
                    (uint64_t)(image->bit_depth / 8);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        ldm_set_error(err, err_capacity, "cannot create %s: %s", path, strerror(errno));
        return LDM_ERR_WRITE;
    }
    // libtiff closes its own descriptor and ignores close()'s result; closing this duplicate last is
    // where a deferred write error (NFS, quotas) would surface.
    int tiff_fd = dup(fd);
    tiff_context ctx = {0};
    // Classic TIFF offsets are 32-bit; leave headroom for the directory and compression overhead.
    TIFF *tif = tiff_fd < 0 ? NULL : ldm_open_tiff(tiff_fd, path, data > 3900000000ull ? "w8" : "w", &ctx);
    if (tif == NULL) {
        ldm_set_error(err, err_capacity, "cannot create TIFF %s: %s", path,
                      tiff_fd < 0 ? strerror(errno) : ctx.failed ? ctx.message : "out of memory");
        if (tiff_fd >= 0) close(tiff_fd);
        close(fd);
        return LDM_ERR_WRITE;
    }
    int alpha = image->channels == 2 || image->channels == 4;
    uint16_t extra = EXTRASAMPLE_UNASSALPHA;
    uint16_t codec = codecs[compression];
    int ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, image->width) &&
             TIFFSetField(tif, TIFFTAG_IMAGELENGTH, image->height) &&
             TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (uint16_t)image->bit_depth) &&
             TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)image->channels) &&
             TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT) &&
             TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, image->channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK) &&
             TIFFSetField(tif, TIFFTAG_PLANARCONFIG, separate_planes ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG) &&
             TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) &&
             TIFFSetField(tif, TIFFTAG_COMPRESSION, codec) &&
             (codec == COMPRESSION_NONE || TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL)) &&
             (!alpha || TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, (uint16_t)1, &extra));
    // Metadata tags (libtiff copies the values). Software names the writer of the description, so
    // readers can tell our provenance text from a camera's or scanner's ImageDescription.
    if (ok && image->icc != NULL && image->icc_length > 0)
        ok = TIFFSetField(tif, TIFFTAG_ICCPROFILE, (uint32_t)image->icc_length, image->icc);
    if (ok && image->text != NULL)
        ok = TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, image->text) && TIFFSetField(tif, TIFFTAG_SOFTWARE, "ldm-edit");
    ok = ok && write_pixels(tif, image, tiled != 0, separate_planes != 0) && TIFFWriteDirectory(tif);
    TIFFClose(tif); // also reports flush failures through ctx
    int close_failed = close(fd) != 0;
    if (ok && !ctx.failed && !close_failed) return LDM_OK;
    ldm_set_error(err, err_capacity, "cannot write TIFF %s: %s", path,
                  ctx.failed ? ctx.message : close_failed ? strerror(errno) : "libtiff rejected the image");
    return LDM_ERR_WRITE;
}

ldm_status ldm_tiff_write(const char *path, const ldm_image *image, ldm_tiff_compression compression, char *err,
                          size_t err_capacity) {
    return ldm_tiff_write_layout(path, image, compression, 0, 0, err, err_capacity);
}
