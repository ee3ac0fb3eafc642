// C side of LDMImageIO: thin, crash-proof wrappers around libpng, libjpeg-turbo and libtiff.
//
// Why C at all: libpng and libjpeg report fatal errors by longjmp-ing out of the library. A longjmp
// across Swift frames is undefined behaviour, so every setjmp/longjmp pair lives entirely inside
// these functions and Swift only ever sees a status code plus a message. libtiff's TIFFGetField and
// TIFFSetField are C varargs functions, which Swift cannot call either.
//
// Conventions shared by every function here:
// - Pixels are interleaved, row-major, top row first. 8-bit samples are uint8_t; 16-bit samples are
//   uint16_t in native byte order. channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
// - A reader fills `out` only when it returns LDM_OK; on failure nothing is left allocated.
//   Free a successful result with ldm_image_free.
// - A reader checks width*height against `max_pixels` from the header, before allocating pixels.
// - `err` receives a NUL-terminated human-readable reason (never NULL-terminated garbage) on failure.
// - Writers write to an already chosen path (the Swift side passes a temporary file and renames it
//   into place on success, so a failed write never leaves a partial file under the final name).
#ifndef LDM_CODECS_H
#define LDM_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a codec call. Mirrored by `ImageIOError` on the Swift side.
typedef enum {
    LDM_OK = 0,
    LDM_ERR_OPEN = 1,         ///< the file could not be opened or read (errno-level problem)
    LDM_ERR_CORRUPT = 2,      ///< the data is not valid for the format
    LDM_ERR_TRUNCATED = 3,    ///< the data ends before the image does
    LDM_ERR_UNSUPPORTED = 4,  ///< valid file, but a variant we do not decode (e.g. CMYK, 32-bit float)
    LDM_ERR_TOO_LARGE = 5,    ///< width*height exceeds max_pixels, or dimensions overflow
    LDM_ERR_NO_MEMORY = 6,    ///< allocation failed
    LDM_ERR_WRITE = 7,        ///< the output could not be written (disk full, permissions, ...)
    LDM_ERR_INVALID_ARGUMENT = 8 ///< the caller passed an image the format cannot hold
} ldm_status;

/// A decoded raster. `pixels` holds height*width*channels samples of bit_depth bits each.
typedef struct {
    uint32_t width;
    uint32_t height;
    int32_t channels;     ///< 1...4
    int32_t bit_depth;    ///< 8 or 16
    void *pixels;         ///< malloc'd by readers; caller-owned for writers
    uint8_t *exif;        ///< JPEG only: raw EXIF payload after "Exif\0\0" (malloc'd), or NULL
    size_t exif_length;
    uint8_t *icc;        ///< ICC profile: readers return a malloc'd copy (or NULL); writers embed it when non-NULL
    size_t icc_length;
    char *text;          ///< provenance text (UTF-8, NUL-terminated): readers return a malloc'd copy (or NULL); writers embed it when non-NULL
} ldm_image;

// Where `icc` and `text` live in each format (readers return NULL when the file has none; an `icc`
// with icc_length 0 is not embedded):
// - PNG: iCCP chunk ("ICC Profile") and an uncompressed iTXt chunk with keyword "ldm-edit", both
//   before the image data. Only chunks before the image data are read; other text chunks are
//   ignored. libpng checks a profile on write (header, colour space against colour type): one it
//   rejects is silently left out, it does not fail the write.
// - TIFF: TIFFTAG_ICCPROFILE; text in ImageDescription (the reader returns whatever that tag holds),
//   and when text is written, Software = "ldm-edit".
// - JPEG: ICC in APP2 "ICC_PROFILE" markers (split as needed); text in a COM marker (at most 65533
//   bytes, else LDM_ERR_INVALID_ARGUMENT); the reader returns the first COM marker. A damaged ICC
//   marker sequence reads as no profile, not as an error.

/// Frees what a reader allocated (pixels, exif, icc, text) and zeroes the struct. Safe on a zeroed struct.
void ldm_image_free(ldm_image *image);

/// Size of the error buffers the Swift side passes.
#define LDM_ERROR_CAPACITY 512

// MARK: PNG (libpng 1.6)

/// Reads gray, gray+alpha, RGB, RGBA and palette PNGs (palette expanded to RGB/RGBA, tRNS to alpha,
/// 1/2/4-bit gray scaled to 8-bit), 8 and 16 bit, interlaced or not.
ldm_status ldm_png_read(const char *path, uint64_t max_pixels, ldm_image *out, char *err, size_t err_capacity);

/// Writes `image` (channels 1...4, depth 8 or 16) as a non-interlaced PNG.
ldm_status ldm_png_write(const char *path, const ldm_image *image, char *err, size_t err_capacity);

// MARK: JPEG (libjpeg-turbo)

/// Reads baseline/progressive JPEGs as gray (1 channel) or RGB (3 channels), 8 bit. CMYK/YCCK is
/// LDM_ERR_UNSUPPORTED. A premature end of data is LDM_ERR_TRUNCATED (libjpeg would otherwise only
/// warn and pad the image with gray). The APP1 EXIF payload, if any, is returned in out->exif so the
/// Swift side can apply the orientation.
ldm_status ldm_jpeg_read(const char *path, uint64_t max_pixels, ldm_image *out, char *err, size_t err_capacity);

/// Writes an 8-bit gray or RGB image. quality 1...100; 4:2:0 chroma below 90, 4:4:4 from 90 on.
ldm_status ldm_jpeg_write(const char *path, const ldm_image *image, int quality, char *err, size_t err_capacity);

// MARK: Headers

/// Like the readers above, but stop before the pixels: fill width, height, channels, bit_depth (as
/// the full read would return them), icc, text and (JPEG) exif, leaving pixels NULL. No pixel
/// ceiling applies since nothing pixel-sized is allocated. Free with ldm_image_free.
ldm_status ldm_png_read_header(const char *path, ldm_image *out, char *err, size_t err_capacity);
ldm_status ldm_jpeg_read_header(const char *path, ldm_image *out, char *err, size_t err_capacity);
ldm_status ldm_tiff_read_header(const char *path, ldm_image *out, char *err, size_t err_capacity);

// MARK: TIFF (libtiff 4.5+)

/// Reads 8/16-bit gray (min-is-black or min-is-white), gray+alpha, RGB, RGBA and 8-bit palette
/// TIFFs, stored in strips or tiles, with contiguous or separate planes, any compression libtiff was
/// built with (none, LZW, deflate, PackBits, ...). Only the first directory (page) is read.
ldm_status ldm_tiff_read(const char *path, uint64_t max_pixels, ldm_image *out, char *err, size_t err_capacity);

/// TIFF compression for writing.
typedef enum {
    LDM_TIFF_NONE = 0,
    LDM_TIFF_LZW = 1,
    LDM_TIFF_DEFLATE = 2
} ldm_tiff_compression;

/// Writes `image` as a single-directory TIFF in strips, contiguous planes, with a horizontal
/// predictor for LZW/deflate. Alpha is written as unassociated alpha (EXTRASAMPLE_UNASSALPHA).
ldm_status ldm_tiff_write(const char *path, const ldm_image *image, ldm_tiff_compression compression,
                          char *err, size_t err_capacity);

/// Test-only writer options that exercise reader paths: tiled layout and separate planes.
ldm_status ldm_tiff_write_layout(const char *path, const ldm_image *image, ldm_tiff_compression compression,
                                 int tiled, int separate_planes, char *err, size_t err_capacity);

#ifdef __cplusplus
}
#endif

#endif
