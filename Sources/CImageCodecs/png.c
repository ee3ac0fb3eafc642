// PNG reading and writing through libpng 1.6. See ldm_codecs.h for the contract.
//
// libpng reports fatal errors by longjmp-ing to the setjmp in png_jmpbuf; every such jump lands in
// the function that called setjmp, here in C, never across Swift frames. Locals that change after
// setjmp and are read after the jump are volatile (C11 7.13.2.1).
#include "ldm_codecs.h"
#include "codec_util.h"

#include <png.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

/// Keyword of the iTXt chunk that holds ldm-edit's provenance text.
static const char text_keyword[] = "ldm-edit";

typedef struct {
    FILE *file;
    int hit_eof;
    char *err;
    size_t err_capacity;
} png_context;

static void on_png_error(png_structp png, png_const_charp message) {
    png_context *ctx = (png_context *)png_get_error_ptr(png);
    // Keep the first, most specific message (the read callback sets one before raising).
    if (ctx->err != NULL && ctx->err[0] == '\0') ldm_set_error(ctx->err, ctx->err_capacity, "%s", message);
    png_longjmp(png, 1);
}

// libpng's own writer reports any short fwrite as "Write Error"; this one keeps the system's
// reason (No space left on device, File too large, ...), which is what the user can act on.
static void write_to_file(png_structp png, png_bytep data, size_t length) {
    png_context *ctx = (png_context *)png_get_io_ptr(png);
    if (fwrite(data, 1, length, ctx->file) != length) {
        if (ctx->err != NULL && ctx->err[0] == '\0') ldm_set_error(ctx->err, ctx->err_capacity, "%s", strerror(errno));
        png_error(png, "Write Error");
    }
}

static void flush_file(png_structp png) { fflush(((png_context *)png_get_io_ptr(png))->file); }

static void on_png_warning(png_structp png, png_const_charp message) {
    // Warnings (bad ancillary chunks, sRGB profile quirks) do not stop decoding; stay silent.
    (void)png;
    (void)message;
}

/// Largest allocation libpng may make while reading. libpng 1.6.39 allocates an ancillary chunk's
/// buffer from the length in its header before refusing the chunk as too large: a 160-byte file
/// made it malloc 1 GB (found by fuzzing, Tests/Fuzz/regressions/png). Its legitimate allocations
/// are rows of at most 1 000 000 pixels (its default width limit, 8 MB at RGBA16), zlib state and
/// ancillary chunks (8 MB default limit); a refused request is reported as a libpng error.
#define LDM_PNG_MALLOC_MAX ((png_alloc_size_t)64 << 20)

static png_voidp bounded_malloc(png_structp png, png_alloc_size_t size) {
    (void)png;
    return size > LDM_PNG_MALLOC_MAX ? NULL : malloc(size);
}

static void bounded_free(png_structp png, png_voidp pointer) {
    (void)png;
    free(pointer);
}

static void read_from_file(png_structp png, png_bytep data, size_t length) {
    png_context *ctx = (png_context *)png_get_io_ptr(png);
    if (fread(data, 1, length, ctx->file) != length) {
        ctx->hit_eof = feof(ctx->file) != 0;
        ldm_set_error(ctx->err, ctx->err_capacity, "%s",
                      ctx->hit_eof ? "file ends before the image data does" : "read error");
        png_longjmp(png, 1);
    }
}

/// Copies the iCCP profile and the "ldm-edit" text into `meta`; only chunks before the image data
/// have been read at this point. Other text chunks (tEXt "Comment", other tools' iTXt) are not ours
/// and are ignored. Returns 0 when memory runs out (whatever was copied is left in `meta`).
static int copy_metadata(png_structp png, png_infop info, ldm_image *meta) {
    png_charp name = NULL;
    int compression = 0;
    png_bytep profile = NULL;
    png_uint_32 length = 0;
    if (png_get_iCCP(png, info, &name, &compression, &profile, &length) != 0 && profile != NULL && length > 0) {
        meta->icc = ldm_copy_bytes(profile, length);
        if (meta->icc == NULL) return 0;
        meta->icc_length = length;
    }
    png_textp texts = NULL;
    int count = png_get_text(png, info, &texts, NULL);
    for (int i = 0; i < count; i++) {
        if (texts[i].key == NULL || strcmp(texts[i].key, text_keyword) != 0) continue;
        // libpng stores every text NUL-terminated (an empty one as ""), whatever its chunk type.
        const char *text = texts[i].text != NULL ? texts[i].text : "";
        meta->text = ldm_copy_text(text, strlen(text));
        return meta->text != NULL;
    }
    return 1;
}

static ldm_status png_read(const char *path, uint64_t max_pixels, int header_only, ldm_image *out, char *err,
                           size_t err_capacity) {
    memset(out, 0, sizeof(*out));
    if (err != NULL && err_capacity > 0) err[0] = '\0';
    FILE *file = ldm_open_file(path, "rb", err, err_capacity);
    if (file == NULL) return LDM_ERR_OPEN;

    png_byte signature[8];
    size_t got = fread(signature, 1, sizeof(signature), file);
    if (got != sizeof(signature) || png_sig_cmp(signature, 0, sizeof(signature)) != 0) {
        fclose(file);
        ldm_set_error(err, err_capacity, "not a PNG file (bad signature)");
        return LDM_ERR_CORRUPT;
    }

    png_context ctx = {file, 0, err, err_capacity};
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &ctx, on_png_error, on_png_warning,
                                               NULL, bounded_malloc, bounded_free);
    png_infop info = png == NULL ? NULL : png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(file);
        ldm_set_error(err, err_capacity, "out of memory creating the PNG decoder");
        return LDM_ERR_NO_MEMORY;
    }

    void *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    uint8_t *volatile icc = NULL;
    char *volatile text = NULL;
    volatile ldm_status failure = LDM_ERR_CORRUPT;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(file);
        free(rows);
        free(pixels);
        free(icc);
        free(text);
        return ctx.hit_eof ? LDM_ERR_TRUNCATED : failure;
    }

    png_set_read_fn(png, &ctx, read_from_file);
    png_set_sig_bytes(png, sizeof(signature));
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int depth = 0, color_type = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &color_type, NULL, NULL, NULL);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) {
        // PNG stores 16-bit samples big-endian; hand Swift native order.
        const uint16_t probe = 1;
        if (*(const uint8_t *)&probe == 1) png_set_swap(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    ldm_image meta = {0};
    int copied = copy_metadata(png, info, &meta);
    icc = meta.icc;
    text = meta.text;
    if (!copied) {
        ldm_set_error(err, err_capacity, "out of memory copying the PNG's colour profile or text");
        failure = LDM_ERR_NO_MEMORY;
        png_longjmp(png, 1);
    }

    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t byte_count = 0;
    ldm_status check = ldm_check_dimensions(width, height, channels, out_depth, max_pixels, &byte_count, err,
                                            err_capacity);
    if (check != LDM_OK || channels < 1 || channels > 4 || (out_depth != 8 && out_depth != 16)) {
        if (check == LDM_OK) ldm_set_error(err, err_capacity, "unexpected PNG layout (%d channels, %d bit)",
                                           channels, out_depth);
        failure = check == LDM_OK ? LDM_ERR_UNSUPPORTED : check;
        png_longjmp(png, 1);
    }
    if (!header_only) {
        pixels = malloc(byte_count);
        rows = malloc(sizeof(png_bytep) * height);
        if (pixels == NULL || rows == NULL) {
            ldm_set_error(err, err_capacity, "out of memory for a %ux%u image", width, height);
            failure = LDM_ERR_NO_MEMORY;
            png_longjmp(png, 1);
        }
        size_t stride = byte_count / height;
        for (png_uint_32 y = 0; y < height; y++) rows[y] = (png_bytep)pixels + (size_t)y * stride;
        png_read_image(png, rows);
        // Trailing chunks after the image data are not read: a file cut after its last IDAT still
        // holds the whole image, and its metadata is not used.
    }

    png_destroy_read_struct(&png, &info, NULL);
    fclose(file);
    free(rows);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->pixels = pixels;
    out->icc = icc;
    out->icc_length = icc != NULL ? meta.icc_length : 0;
    out->text = text;
    return LDM_OK;
}

ldm_status ldm_png_read(const char *path, uint64_t max_pixels, ldm_image *out, char *err, size_t err_capacity) {
    return png_read(path, max_pixels, 0, out, err, err_capacity);
}

ldm_status ldm_png_read_header(const char *path, ldm_image *out, char *err, size_t err_capacity) {
    return png_read(path, UINT64_MAX, 1, out, err, err_capacity);
}

ldm_status ldm_png_write(const char *path, const ldm_image *image, char *err, size_t err_capacity) {
    if (err != NULL && err_capacity > 0) err[0] = '\0';
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    if (image->channels < 1 || image->channels > 4 || (image->bit_depth != 8 && image->bit_depth != 16) ||
        image->width == 0 || image->height == 0 || image->pixels == NULL) {
        ldm_set_error(err, err_capacity, "cannot write a %ux%u PNG with %d channels at %d bit", image->width,
                      image->height, image->channels, image->bit_depth);
        return LDM_ERR_INVALID_ARGUMENT;
    }
    FILE *file = ldm_open_file(path, "wb", err, err_capacity);
    if (file == NULL) return LDM_ERR_WRITE;

    png_context ctx = {file, 0, err, err_capacity};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error, on_png_warning);
    png_infop info = png == NULL ? NULL : png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        fclose(file);
        ldm_set_error(err, err_capacity, "out of memory creating the PNG encoder");
        return LDM_ERR_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(file);
        return LDM_ERR_WRITE;
    }
    png_set_write_fn(png, &ctx, write_to_file, flush_file);
    png_set_IHDR(png, info, image->width, image->height, image->bit_depth, color_types[image->channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (image->icc != NULL && image->icc_length > 0 && image->icc_length <= PNG_UINT_31_MAX) {
        // png_set_iCCP checks the profile (header, tag table, 'GRAY' vs 'RGB ' against the colour
        // type) and reports a bad one as an "app error", which by default longjmps and would fail
        // the whole write. A profile that does not fit the pixels is only metadata: with benign
        // errors allowed libpng warns (silenced here) and leaves the chunk out. Must follow
        // png_set_IHDR, which supplies the colour type it checks against.
        png_set_benign_errors(png, 1);
        // libpng 1.6's own iCCP reader skips a chunk under 92 bytes as "too short" (it reads 81
        // keyword bytes before looking at the length), and a small, regular profile can deflate
        // that far. Stored uncompressed, the chunk is at least 145 bytes. Profiles up to 64 KiB
        // (all the usual display profiles) cost a little size; larger ones are still compressed,
        // and only near-constant bytes would deflate below 92 bytes from there.
        if (image->icc_length <= 65536) png_set_text_compression_level(png, 0);
        png_set_iCCP(png, info, "ICC Profile", PNG_COMPRESSION_TYPE_BASE, image->icc, (png_uint_32)image->icc_length);
    }
    if (image->text != NULL) {
        // iTXt rather than tEXt: tEXt is Latin-1, the text is UTF-8. Uncompressed, so any tool shows it.
        png_text chunk;
        memset(&chunk, 0, sizeof chunk);
        chunk.compression = PNG_ITXT_COMPRESSION_NONE;
        chunk.key = (png_charp)text_keyword;
        chunk.text = image->text;
        chunk.lang = (png_charp) "";
        chunk.lang_key = (png_charp) "";
        png_set_text(png, info, &chunk, 1);
        // png_set_text reports running out of memory only as a warning; do not drop the text silently.
        if (png_get_text(png, info, NULL, NULL) != 1) {
            ldm_set_error(err, err_capacity, "out of memory storing the PNG text chunk");
            png_longjmp(png, 1);
        }
    }
    png_write_info(png, info);  // writes iCCP and iTXt, before any image data
    if (image->bit_depth == 16) {
        const uint16_t probe = 1;
        if (*(const uint8_t *)&probe == 1) png_set_swap(png);
    }
    size_t stride = (size_t)image->width * (size_t)image->channels * (size_t)(image->bit_depth / 8);
    for (uint32_t y = 0; y < image->height; y++) {
        png_write_row(png, (png_const_bytep)image->pixels + (size_t)y * stride);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return ldm_close_written_file(file, err, err_capacity);
}
