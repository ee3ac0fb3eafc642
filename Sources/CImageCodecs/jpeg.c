// JPEG reading and writing through libjpeg-turbo. See ldm_codecs.h for the contract.
//
// libjpeg's default error handler calls exit(); ours formats the message and longjmps back to the
// setjmp in the calling function, which is always in this file (never across Swift frames).
#include "ldm_codecs.h"
#include "codec_util.h"

#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct jpeg_error_mgr base;  // first member: libjpeg hands us a pointer to it
    jmp_buf jump;
    ldm_status status;
    int scanlines_done;
    char *err;
    size_t err_capacity;
} jpeg_context;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_context *ctx = (jpeg_context *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    if (ctx->err != NULL && ctx->err[0] == '\0') ldm_set_error(ctx->err, ctx->err_capacity, "%s", message);
    longjmp(ctx->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
    jpeg_context *ctx = (jpeg_context *)cinfo->err;
    if (level != -1) return;  // trace messages
    int code = cinfo->err->msg_code;
    // On a short file libjpeg only warns (JWRN_JPEG_EOF) and pads the rest of the image with gray.
    // A silently gray bottom half is worse than an error, so a premature end before the last
    // scanline is an error; a missing EOI after a complete image is tolerated.
    if (code == JWRN_JPEG_EOF && !ctx->scanlines_done) {
        ctx->status = LDM_ERR_TRUNCATED;
        on_jpeg_error(cinfo);
    }
    if (code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC) {
        ctx->status = LDM_ERR_CORRUPT;
        on_jpeg_error(cinfo);
    }
}

static void install_handlers(jpeg_context *ctx, char *err, size_t err_capacity) {
    jpeg_std_error(&ctx->base);
    ctx->base.error_exit = on_jpeg_error;
    ctx->base.emit_message = on_jpeg_message;
    ctx->status = LDM_ERR_CORRUPT;
    ctx->scanlines_done = 0;
    ctx->err = err;
    ctx->err_capacity = err_capacity;
}

/// Copies the TIFF-structured payload of the first APP1 "Exif\0\0" marker, if any.
static void copy_exif(j_decompress_ptr cinfo, ldm_image *out) {
    static const unsigned char tag[6] = {'E', 'x', 'i', 'f', 0, 0};
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length <= sizeof(tag) || memcmp(m->data, tag, sizeof(tag)) != 0)
            continue;
        size_t length = m->data_length - sizeof(tag);
        out->exif = malloc(length);
        if (out->exif != NULL) {
            memcpy(out->exif, m->data + sizeof(tag), length);
            out->exif_length = length;
        }
        return;
    }
}

/// Copies the first COM marker's content as NUL-terminated text; 0 when memory runs out.
static int copy_comment(j_decompress_ptr cinfo, ldm_image *out) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next) {
        if (m->marker != JPEG_COM) continue;
        out->text = ldm_copy_text(m->data, m->data_length);
        return out->text != NULL;
    }
    return 1;
}

/// Largest COM payload: the marker's 16-bit length counts its own two bytes.
#define MAX_COMMENT_BYTES 65533u
/// Largest profile jpeg_write_icc_profile can split: 255 APP2 markers of 65519 bytes each.
#define MAX_ICC_BYTES (255u * 65519u)

static ldm_status jpeg_read(const char *path, uint64_t max_pixels, int header_only, ldm_image *out, char *err,
                            size_t err_capacity) {
    memset(out, 0, sizeof(*out));
    if (err != NULL && err_capacity > 0) err[0] = '\0';
    FILE *file = ldm_open_file(path, "rb", err, err_capacity);
    if (file == NULL) return LDM_ERR_OPEN;

    struct jpeg_decompress_struct cinfo;
    jpeg_context ctx;
    install_handlers(&ctx, err, err_capacity);
    cinfo.err = &ctx.base;
    unsigned char *volatile pixels = NULL;
    uint8_t *volatile exif = NULL;
    uint8_t *volatile icc = NULL;
    char *volatile text = NULL;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        free(pixels);
        free(exif);
        free(icc);
        free(text);
        return ctx.status;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);  // ICC_PROFILE chunks, for jpeg_read_icc_profile
    jpeg_save_markers(&cinfo, JPEG_COM, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    int channels;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        channels = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo.out_color_space = JCS_RGB;
        channels = 3;
        break;
    default:
        ldm_set_error(err, err_capacity, "JPEG colour space %d (CMYK/YCCK) is not supported; convert it to RGB first",
                      (int)cinfo.jpeg_color_space);
        ctx.status = LDM_ERR_UNSUPPORTED;
        longjmp(ctx.jump, 1);
    }
    size_t byte_count = 0;
    ldm_status check = ldm_check_dimensions(cinfo.image_width, cinfo.image_height, channels, 8, max_pixels,
                                            &byte_count, err, err_capacity);
    if (check != LDM_OK) {
        ctx.status = check;
        longjmp(ctx.jump, 1);
    }
    ldm_image result = {0};
    copy_exif(&cinfo, &result);
    exif = result.exif;
    // A missing, out-of-order or duplicated APP2 chunk makes jpeg_read_icc_profile warn
    // (JWRN_BOGUS_ICC, ignored by on_jpeg_message) and return FALSE: the image reads without a
    // profile. It returns a malloc'd buffer, so ownership passes straight to `result`.
    JOCTET *profile = NULL;
    unsigned int profile_length = 0;
    if (jpeg_read_icc_profile(&cinfo, &profile, &profile_length) && profile != NULL && profile_length > 0) {
        result.icc = profile;
        result.icc_length = profile_length;
    } else {
        free(profile);
    }
    icc = result.icc;
    int comment_ok = copy_comment(&cinfo, &result);
    text = result.text;
    if (!comment_ok) {
        ldm_set_error(err, err_capacity, "out of memory copying the JPEG comment");
        ctx.status = LDM_ERR_NO_MEMORY;
        longjmp(ctx.jump, 1);
    }
    if (header_only) {
        result.width = cinfo.image_width;
        result.height = cinfo.image_height;
        result.channels = channels;
        result.bit_depth = 8;
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        *out = result;
        return LDM_OK;
    }
    pixels = malloc(byte_count);
    if (pixels == NULL) {
        ldm_set_error(err, err_capacity, "out of memory for a %ux%u image", cinfo.image_width, cinfo.image_height);
        ctx.status = LDM_ERR_NO_MEMORY;
        longjmp(ctx.jump, 1);
    }
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    ctx.scanlines_done = 1;
    jpeg_finish_decompress(&cinfo);
    result.width = cinfo.output_width;
    result.height = cinfo.output_height;
    result.channels = cinfo.output_components;
    result.bit_depth = 8;
    result.pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    *out = result;
    return LDM_OK;
}

ldm_status ldm_jpeg_read(const char *path, uint64_t max_pixels, ldm_image *out, char *err, size_t err_capacity) {
    return jpeg_read(path, max_pixels, 0, out, err, err_capacity);
}

ldm_status ldm_jpeg_read_header(const char *path, ldm_image *out, char *err, size_t err_capacity) {
    return jpeg_read(path, UINT64_MAX, 1, out, err, err_capacity);
}

ldm_status ldm_jpeg_write(const char *path, const ldm_image *image, int quality, char *err, size_t err_capacity) {
    if (err != NULL && err_capacity > 0) err[0] = '\0';
    if ((image->channels != 1 && image->channels != 3) || image->bit_depth != 8 || image->width == 0 ||
        image->height == 0 || image->width > JPEG_MAX_DIMENSION || image->height > JPEG_MAX_DIMENSION ||
        image->pixels == NULL) {
        ldm_set_error(err, err_capacity,
                      "JPEG holds 8-bit gray or RGB up to %d pixels a side, not %ux%u with %d channels at %d bit",
                      (int)JPEG_MAX_DIMENSION, image->width, image->height, image->channels, image->bit_depth);
        return LDM_ERR_INVALID_ARGUMENT;
    }
    if (image->text != NULL && strlen(image->text) > MAX_COMMENT_BYTES) {
        ldm_set_error(err, err_capacity, "JPEG comment holds at most %u bytes of text, not %zu", MAX_COMMENT_BYTES,
                      strlen(image->text));
        return LDM_ERR_INVALID_ARGUMENT;
    }
    if (image->icc != NULL && image->icc_length > MAX_ICC_BYTES) {
        ldm_set_error(err, err_capacity, "JPEG holds an ICC profile of at most %u bytes, not %zu", MAX_ICC_BYTES,
                      image->icc_length);
        return LDM_ERR_INVALID_ARGUMENT;
    }
    if (quality < 1) quality = 1;
    if (quality > 100) quality = 100;
    FILE *file = ldm_open_file(path, "wb", err, err_capacity);
    if (file == NULL) return LDM_ERR_WRITE;

    struct jpeg_compress_struct cinfo;
    jpeg_context ctx;
    install_handlers(&ctx, err, err_capacity);
    cinfo.err = &ctx.base;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_compress(&cinfo);
        fclose(file);
        return LDM_ERR_WRITE;
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, file);
    cinfo.image_width = image->width;
    cinfo.image_height = image->height;
    cinfo.input_components = image->channels;
    cinfo.in_color_space = image->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.optimize_coding = TRUE;
    if (image->channels == 3 && quality >= 90) {
        // Full-resolution chroma: at high quality 4:2:0 subsampling is the visible loss.
        for (int c = 0; c < 3; c++) {
            cinfo.comp_info[c].h_samp_factor = 1;
            cinfo.comp_info[c].v_samp_factor = 1;
        }
    }
    jpeg_start_compress(&cinfo, TRUE);
    // Markers go between the JFIF header written by jpeg_start_compress and the first scanline.
    if (image->icc != NULL && image->icc_length > 0) {
        jpeg_write_icc_profile(&cinfo, image->icc, (unsigned int)image->icc_length);
    }
    if (image->text != NULL) {
        jpeg_write_marker(&cinfo, JPEG_COM, (const JOCTET *)image->text, (unsigned int)strlen(image->text));
    }
    size_t stride = (size_t)image->width * (size_t)image->channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)image->pixels + (size_t)cinfo.next_scanline * stride;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return ldm_close_written_file(file, err, err_capacity);
}
