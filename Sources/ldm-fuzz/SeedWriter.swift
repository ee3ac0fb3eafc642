import LDMImageIO

/// Writes the image seeds of the committed corpora with ldm-edit's own encoders
/// (`ldm-fuzz --write-image-seeds DIR`, called by Scripts/fuzz/make_fuzz_corpus.py): the Python standard
/// library cannot write JPEG or TIFF, and seeds in the layouts our writer produces are the ones
/// whose decoding paths matter most. Tiny on purpose (a few hundred bytes each): libFuzzer mutates
/// small inputs far faster, and the readers' interesting branches are in headers and chunk/marker/tag
/// structure, not in pixel volume.
enum SeedWriter {
    static func write(into folder: String) throws(ImageIOError) {
        let text = ImageMetadata(text: "ldm-edit fuzz seed")
        let cases: [(String, RasterImage, ImageWriteOptions)] = [
            ("gray8.png", try raster(4, 3, 1, depth: 8), .init(format: .png)),
            ("rgba16.png", try raster(3, 2, 4, depth: 16, metadata: text), .init(format: .png)),
            ("gray_alpha8.png", try raster(2, 2, 2, depth: 8), .init(format: .png)),
            ("rgb8.jpg", try raster(8, 8, 3, depth: 8, metadata: text), .init(format: .jpeg, jpegQuality: 50)),
            ("gray8.jpg", try raster(5, 3, 1, depth: 8), .init(format: .jpeg, jpegQuality: 90)),
            ("rgb8_none.tif", try raster(3, 2, 3, depth: 8, metadata: text), .init(format: .tiff, tiffCompression: .none)),
            ("gray16_lzw.tif", try raster(4, 3, 1, depth: 16), .init(format: .tiff, tiffCompression: .lzw)),
            ("rgba8_deflate.tif", try raster(2, 3, 4, depth: 8), .init(format: .tiff, tiffCompression: .deflate)),
        ]
        for (name, image, options) in cases {
            try ImageFile.write(image, to: folder + "/" + name, options: options)
        }
    }

    /// A deterministic gradient (no randomness: rerunning the script gives the same bytes).
    private static func raster(_ width: Int, _ height: Int, _ channels: Int, depth: Int,
                               metadata: ImageMetadata = ImageMetadata()) throws(ImageIOError) -> RasterImage {
        let count = width * height * channels
        let samples: RasterImage.Samples = depth == 8
            ? .uint8((0..<count).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) })
            : .uint16((0..<count).map { UInt16(truncatingIfNeeded: $0 * 4099 + 257) })
        return try RasterImage(width: width, height: height, channels: channels, samples: samples, metadata: metadata)
    }
}
