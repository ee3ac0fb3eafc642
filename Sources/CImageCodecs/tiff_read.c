// TIFF reading through libtiff 4.5+. See ldm_codecs.h for the contract.
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

// MARK: Reading

typedef struct {
    uint32_t width, height;
    uint16_t bps, spp;
    int colour;        // colour samples in the file: 1 (gray, palette) or 3 (RGB)
    int keep;          // leading file samples we decode: colour samples plus at most one alpha
    int channels;      // output channels
    int out_bytes;     // 1 or 2
    int invert, palette;
    uint8_t cmap[3][256];
    uint8_t *pixels;
} tiff_reader;

static int contains(const char *haystack, const char *needle) { return strstr(haystack, needle) != NULL; }

static ldm_status read_failure(const tiff_context *ctx, const char *what, char *err, size_t cap) {
    const char *m = ctx->failed ? ctx->message : "unknown libtiff error";
    int truncated = contains(m, "Read error") || contains(m, "end of file") || contains(m, "past end") ||
                    contains(m, "Premature end") || contains(m, "Cannot read") || contains(m, "Can not read");
    ldm_set_error(err, cap, "%s%s: %s", truncated ? "TIFF file is truncated; " : "", what, m);
    return truncated ? LDM_ERR_TRUNCATED : LDM_ERR_CORRUPT;
}

static uint64_t read_uint(const uint8_t *p, int bytes, int little) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[little ? i : bytes - 1 - i] << (8 * i);
    return v;
}

// libtiff writes the directory after the pixel data, so cutting a file short usually removes the
// directory and TIFFFdOpenExt fails. Looking at the header tells that apart from garbage.
static ldm_status classify_open_failure(int fd, uint64_t file_size, const tiff_context *ctx, char *err,
                                        size_t cap) {
    uint8_t h[16] = {0};
    ssize_t n = pread(fd, h, sizeof h, 0);
    if (n < 0) {
        ldm_set_error(err, cap, "cannot read TIFF file: %s", strerror(errno));
        return LDM_ERR_OPEN;
    }
    int little = h[0] == 'I' && h[1] == 'I', big = h[0] == 'M' && h[1] == 'M';
    uint64_t magic = read_uint(h + 2, 2, little);
    if (n < 4 || (!little && !big) || (magic != 42 && magic != 43)) {
        ldm_set_error(err, cap, "not a TIFF file (%s)", n == 0 ? "file is empty" : "bad magic number");
        return LDM_ERR_CORRUPT;
    }
    int bigtiff = magic == 43;
    uint64_t header = bigtiff ? 16 : 8, count_size = bigtiff ? 8 : 2, entry_size = bigtiff ? 20 : 12;
    uint64_t dir = (uint64_t)n >= header ? read_uint(h + (bigtiff ? 8 : 4), bigtiff ? 8 : 4, little) : 0;
    if ((uint64_t)n >= header && dir < header) {
        ldm_set_error(err, cap, "invalid TIFF file: bad directory offset %llu", (unsigned long long)dir);
        return LDM_ERR_CORRUPT;
    }
    int truncated = (uint64_t)n < header || dir >= file_size || file_size - dir < count_size;
    if (!truncated) {
        uint8_t c[8];
        if (pread(fd, c, count_size, (off_t)dir) == (ssize_t)count_size) {
            uint64_t entries = read_uint(c, (int)count_size, little);
            truncated = entries <= (file_size - dir - count_size) / entry_size ? 0 : entries < 65536;
        }
    }
    if (truncated) {
        ldm_set_error(err, cap, "TIFF file is truncated: the image directory lies beyond its %llu bytes",
                      (unsigned long long)file_size);
        return LDM_ERR_TRUNCATED;
    }
    ldm_set_error(err, cap, "invalid TIFF file: %s", ctx->failed ? ctx->message : "cannot read its directory");
    return LDM_ERR_CORRUPT;
}

static const char *photometric_name(uint16_t p) {
    switch (p) {
    case PHOTOMETRIC_SEPARATED: return "CMYK (separated)";
    case PHOTOMETRIC_YCBCR: return "YCbCr";
    case PHOTOMETRIC_CIELAB: case PHOTOMETRIC_ICCLAB: case PHOTOMETRIC_ITULAB: return "Lab";
    case PHOTOMETRIC_MASK: return "transparency-mask";
    case PHOTOMETRIC_LOGL: case PHOTOMETRIC_LOGLUV: return "LogLuv";
    case PHOTOMETRIC_CFA: return "CFA (raw sensor)";
    default: return "unknown";
    }
}

// Decides how file samples map to output channels, or says in err why we cannot.
static ldm_status describe(TIFF *tif, tiff_reader *r, char *err, size_t cap) {
    uint16_t photometric = 0, format = SAMPLEFORMAT_UINT, compression = COMPRESSION_NONE, planar = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &r->bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &r->spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric)) {
        ldm_set_error(err, cap, "TIFF has no photometric interpretation tag");
        return LDM_ERR_CORRUPT;
    }
    if (format == SAMPLEFORMAT_IEEEFP || format == SAMPLEFORMAT_COMPLEXIEEEFP) {
        ldm_set_error(err, cap, "TIFF with floating-point samples is not supported (8 or 16-bit integers only)");
        return LDM_ERR_UNSUPPORTED;
    }
    if (format != SAMPLEFORMAT_UINT && format != SAMPLEFORMAT_VOID) {
        ldm_set_error(err, cap, "TIFF with signed integer samples is not supported (unsigned only)");
        return LDM_ERR_UNSUPPORTED;
    }
    if (photometric == PHOTOMETRIC_YCBCR && compression == COMPRESSION_JPEG && planar == PLANARCONFIG_CONTIG) {
        // libjpeg converts to RGB for us, and libtiff then sizes strips and tiles as RGB.
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        photometric = PHOTOMETRIC_RGB;
    }
    switch (photometric) {
    case PHOTOMETRIC_MINISWHITE: r->invert = 1; /* fall through */
    case PHOTOMETRIC_MINISBLACK: r->colour = 1; break;
    case PHOTOMETRIC_PALETTE: r->colour = 1, r->palette = 1; break;
    case PHOTOMETRIC_RGB: r->colour = 3; break;
    default:
        ldm_set_error(err, cap, "TIFF with %s colour (photometric %u) is not supported", photometric_name(photometric),
                      photometric);
        return LDM_ERR_UNSUPPORTED;
    }
    // 1/2/4-bit gray (fax, bilevel scans) and palettes are expanded to 8 bits.
    int depth_ok = r->bps == 8 || (r->bps == 16 && !r->palette) ||
                   ((r->bps == 1 || r->bps == 2 || r->bps == 4) && r->colour == 1);
    if (!depth_ok) {
        ldm_set_error(err, cap, "TIFF with %u bits per sample is not supported (%s)", r->bps,
                      r->palette ? "palette indices must be 1, 2, 4 or 8 bits" : "8 or 16 only");
        return LDM_ERR_UNSUPPORTED;
    }
    if (r->spp < r->colour) {
        ldm_set_error(err, cap, "invalid TIFF: %u samples per pixel for %d colour channels", r->spp, r->colour);
        return LDM_ERR_CORRUPT;
    }
    // The first extra sample is taken as alpha without consulting ExtraSamples; associated
    // (premultiplied) alpha is returned as is, not un-premultiplied. Further extra samples are dropped.
    int alpha = r->spp > r->colour;
    r->keep = r->colour + alpha;
    r->channels = (r->palette ? 3 : r->colour) + alpha;
    r->out_bytes = r->bps == 16 ? 2 : 1;
    if (r->palette) {
        uint16_t *red, *green, *blue;
        if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue)) {
            ldm_set_error(err, cap, "invalid TIFF: palette image without a colour map");
            return LDM_ERR_CORRUPT;
        }
        size_t n = (size_t)1 << r->bps;
        // Some writers store 8-bit values in the 16-bit map; libtiff's tools detect it the same way.
        int eight = 1;
        for (size_t i = 0; i < n; i++) eight &= red[i] < 256 && green[i] < 256 && blue[i] < 256;
        int shift = eight ? 0 : 8;
        for (size_t i = 0; i < n; i++) {
            r->cmap[0][i] = (uint8_t)(red[i] >> shift);
            r->cmap[1][i] = (uint8_t)(green[i] >> shift);
            r->cmap[2][i] = (uint8_t)(blue[i] >> shift);
        }
    }
    return LDM_OK;
}

static uint32_t get_sample(const uint8_t *row, size_t index, int bps) {
    if (bps == 8) return row[index];
    if (bps == 16) {
        uint16_t v;
        memcpy(&v, row + 2 * index, 2);
        return v;
    }
    size_t bit = index * (size_t)bps;
    return (uint32_t)(row[bit >> 3] >> (8 - bps - (int)(bit & 7))) & ((1u << bps) - 1);
}

// Copies a decoded strip or tile (rows of `nsamp` samples per pixel, file sample `first` first)
// into the interleaved output.
static void put_chunk(tiff_reader *r, const uint8_t *buf, size_t stride, uint32_t x0, uint32_t y0, uint32_t cw,
                      uint32_t ch, int first, int nsamp) {
    size_t ob = (size_t)r->out_bytes, pixel = (size_t)r->channels * ob;
    uint32_t max = (1u << r->bps) - 1;
    int plain = nsamp == r->channels && r->bps >= 8 && !r->invert && !r->palette;
    for (uint32_t y = 0; y < ch; y++) {
        const uint8_t *row = buf + (size_t)y * stride;
        uint8_t *dst = r->pixels + ((size_t)(y0 + y) * r->width + x0) * pixel;
        if (plain) {
            memcpy(dst, row, (size_t)cw * pixel);
            continue;
        }
        for (uint32_t x = 0; x < cw; x++, dst += pixel) {
            for (int k = 0; k < nsamp && first + k < r->keep; k++) {
                int s = first + k;
                uint32_t v = get_sample(row, (size_t)x * (size_t)nsamp + (size_t)k, r->bps);
                if (s < r->colour && r->palette) {
                    for (int c = 0; c < 3; c++) dst[c] = r->cmap[c][v];
                    continue;
                }
                if (s < r->colour && r->invert) v = max - v;
                if (r->bps < 8) v = v * 255 / max;
                size_t at = (size_t)(r->palette ? s + 2 : s) * ob;
                if (ob == 1) {
                    dst[at] = (uint8_t)v;
                } else {
                    uint16_t w = (uint16_t)v;
                    memcpy(dst + at, &w, 2);
                }
            }
        }
    }
}

static ldm_status read_pixels(TIFF *tif, tiff_reader *r, uint64_t file_size, tiff_context *ctx,
                              size_t image_bytes, char *err, size_t cap) {
    uint16_t planar = PLANARCONFIG_CONTIG;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    int separate = planar == PLANARCONFIG_SEPARATE && r->spp > 1;
    int planes = separate ? r->keep : 1, nsamp = separate ? 1 : r->spp;
    int tiled = TIFFIsTiled(tif);
    uint32_t cw = r->width, chh = r->height;
    if (tiled) {
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &cw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &chh);
    } else {
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &chh);
        if (chh == 0 || chh > r->height) chh = r->height;
    }
    uint64_t stride = tiled ? TIFFTileRowSize64(tif) : TIFFScanlineSize64(tif);
    uint64_t chunk = tiled ? TIFFTileSize64(tif) : TIFFStripSize64(tif);
    uint64_t min_stride = ((uint64_t)cw * (uint64_t)nsamp * r->bps + 7) / 8;
    // Tile dimensions are independent of the image size: refuse a scratch buffer out of all
    // proportion to the image rather than let a forged header allocate gigabytes.
    uint64_t limit = image_bytes <= (1u << 24) ? (uint64_t)1 << 28
                     : image_bytes > UINT64_MAX / 16 ? UINT64_MAX : (uint64_t)image_bytes * 16;
    if (limit > SIZE_MAX) limit = SIZE_MAX;
    if (cw == 0 || chh == 0 || stride == 0 || stride < min_stride || stride > limit || chh > limit / stride ||
        chunk < stride * chh || chunk > limit) {
        ldm_set_error(err, cap, "invalid TIFF: bad %s layout (%ux%u, %llu bytes)", tiled ? "tile" : "strip", cw,
                      chh, (unsigned long long)chunk);
        return LDM_ERR_CORRUPT;
    }
    uint8_t *scratch = malloc((size_t)chunk);
    if (scratch == NULL) {
        ldm_set_error(err, cap, "out of memory for a %llu-byte TIFF %s", (unsigned long long)chunk,
                      tiled ? "tile" : "strip");
        return LDM_ERR_NO_MEMORY;
    }
    ldm_status status = LDM_OK;
    for (int p = 0; p < planes && status == LDM_OK; p++) {
        for (uint64_t y = 0; y < r->height && status == LDM_OK; y += chh) {
            for (uint64_t x = 0; x < r->width && status == LDM_OK; x += cw) {
                uint32_t index = tiled ? TIFFComputeTile(tif, (uint32_t)x, (uint32_t)y, 0, (uint16_t)p)
                                       : TIFFComputeStrip(tif, (uint32_t)y, (uint16_t)p);
                const char *kind = tiled ? "tile" : "strip";
                uint64_t offset = TIFFGetStrileOffset(tif, index), count = TIFFGetStrileByteCount(tif, index);
                if (offset > file_size || count > file_size - offset) {
                    ldm_set_error(err, cap,
                                  "TIFF file is truncated: %s %u needs bytes up to %llu but the file has %llu", kind,
                                  index, (unsigned long long)(offset + count), (unsigned long long)file_size);
                    status = LDM_ERR_TRUNCATED;
                    break;
                }
                ctx->failed = 0; // report this chunk's error, not an earlier non-fatal one
                tmsize_t got = tiled ? TIFFReadEncodedTile(tif, index, scratch, (tmsize_t)chunk)
                                     : TIFFReadEncodedStrip(tif, index, scratch, (tmsize_t)chunk);
                uint32_t w = (uint32_t)(r->width - x < cw ? r->width - x : cw);
                uint32_t h = (uint32_t)(r->height - y < chh ? r->height - y : chh);
                if (got < 0) {
                    char what[64];
                    snprintf(what, sizeof what, "cannot decode TIFF %s %u", kind, index);
                    status = read_failure(ctx, what, err, cap);
                } else if ((uint64_t)got < stride * h) {
                    ldm_set_error(err, cap, "invalid TIFF: %s %u decoded to %lld bytes, expected %llu", kind, index,
                                  (long long)got, (unsigned long long)(stride * h));
                    status = LDM_ERR_CORRUPT;
                } else {
                    put_chunk(r, scratch, (size_t)stride, (uint32_t)x, (uint32_t)y, w, h, separate ? p : 0, nsamp);
                }
            }
        }
    }
    free(scratch);
    return status;
}

// Copies the ICC profile tag and ImageDescription (whoever wrote it) into `meta`. libtiff keeps
// ASCII tag values NUL-terminated (it appends a NUL when the file lacks one).
static ldm_status copy_metadata(TIFF *tif, ldm_image *meta, char *err, size_t cap) {
    uint32_t count = 0;
    void *profile = NULL;
    if (TIFFGetField(tif, TIFFTAG_ICCPROFILE, &count, &profile) && profile != NULL && count > 0) {
        if ((meta->icc = ldm_copy_bytes(profile, count)) == NULL) goto out_of_memory;
        meta->icc_length = count;
    }
    const char *description = NULL;
    if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &description) && description != NULL) {
        if ((meta->text = ldm_copy_text(description, strlen(description))) == NULL) goto out_of_memory;
    }
    return LDM_OK;
out_of_memory:
    ldm_set_error(err, cap, "out of memory copying the TIFF's colour profile or description");
    return LDM_ERR_NO_MEMORY;
}

static ldm_status tiff_read(const char *path, uint64_t max_pixels, int header_only, ldm_image *out, char *err,
                            size_t err_capacity) {
    if (err != NULL && err_capacity > 0) err[0] = '\0';
    if (path == NULL || out == NULL) {
        ldm_set_error(err, err_capacity, "no path or output image given");
        return LDM_ERR_INVALID_ARGUMENT;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ldm_set_error(err, err_capacity, "%s", strerror(errno));
        return LDM_ERR_OPEN;
    }
    struct stat st;
    int stat_failed = fstat(fd, &st) != 0;
    if (stat_failed || S_ISDIR(st.st_mode)) {
        ldm_set_error(err, err_capacity, "%s", strerror(stat_failed ? errno : EISDIR));
        close(fd);
        return LDM_ERR_OPEN;
    }
    uint64_t file_size = (uint64_t)st.st_size;
    tiff_context ctx = {0};
    // "m": read() instead of mmap, so a file shrinking under us is an error, not a SIGBUS.
    TIFF *tif = ldm_open_tiff(fd, path, "rm", &ctx);
    if (tif == NULL) {
        ldm_status status = LDM_ERR_NO_MEMORY; // libtiff reports every failure except allocating opts
        if (ctx.failed) status = classify_open_failure(fd, file_size, &ctx, err, err_capacity);
        else ldm_set_error(err, err_capacity, "out of memory opening TIFF");
        close(fd);
        return status;
    }
    // From here TIFFClose owns and closes fd. Only the first directory (page) is read, and the
    // Orientation tag is ignored: pixels come back in stored order.
    tiff_reader *r = calloc(1, sizeof *r);
    ldm_status status = r == NULL ? LDM_ERR_NO_MEMORY : LDM_OK;
    size_t bytes = 0;
    if (r == NULL) ldm_set_error(err, err_capacity, "out of memory");
    if (status == LDM_OK) {
        TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &r->width);
        TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &r->height);
        status = describe(tif, r, err, err_capacity);
    }
    if (status == LDM_OK)
        status = ldm_check_dimensions(r->width, r->height, r->channels, r->out_bytes * 8, max_pixels, &bytes, err,
                                      err_capacity);
    if (status == LDM_OK && !header_only && (r->pixels = malloc(bytes)) == NULL) {
        ldm_set_error(err, err_capacity, "out of memory for a %ux%u image", r->width, r->height);
        status = LDM_ERR_NO_MEMORY;
    }
    if (status == LDM_OK && !header_only) status = read_pixels(tif, r, file_size, &ctx, bytes, err, err_capacity);
    ldm_image meta = {0};
    if (status == LDM_OK) status = copy_metadata(tif, &meta, err, err_capacity); // before TIFFClose frees the tags
    TIFFClose(tif);
    if (status == LDM_OK) {
        memset(out, 0, sizeof *out);
        out->icc = meta.icc;
        out->icc_length = meta.icc_length;
        out->text = meta.text;
        out->width = r->width;
        out->height = r->height;
        out->channels = r->channels;
        out->bit_depth = r->out_bytes * 8;
        out->pixels = r->pixels;
    } else {
        if (r != NULL) free(r->pixels);
        free(meta.icc);
        free(meta.text);
    }
    free(r);
    return status;
}

ldm_status ldm_tiff_read(const char *path, uint64_t max_pixels, ldm_image *out, char *err, size_t err_capacity) {
    return tiff_read(path, max_pixels, 0, out, err, err_capacity);
}

ldm_status ldm_tiff_read_header(const char *path, ldm_image *out, char *err, size_t err_capacity) {
    return tiff_read(path, UINT64_MAX, 1, out, err, err_capacity);
}
