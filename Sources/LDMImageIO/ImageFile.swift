import CImageCodecs
#if canImport(Glibc)
import Glibc
#endif

/// Options for reading an image.
public struct ImageReadOptions: Sendable, Equatable {
    /// Default pixel ceiling: 2^28 (16384x16384). Checked from the header before any pixel memory is
    /// allocated, so a tiny file that claims a huge image cannot exhaust memory.
    public static let defaultMaxPixels = 1 << 28

    /// Largest width*height accepted.
    public var maxPixels: Int
    /// Rotate/flip JPEGs upright according to their EXIF orientation tag.
    public var applyExifOrientation: Bool

    public init(maxPixels: Int = ImageReadOptions.defaultMaxPixels, applyExifOrientation: Bool = true) {
        self.maxPixels = maxPixels
        self.applyExifOrientation = applyExifOrientation
    }
}

/// Options for writing an image.
public struct ImageWriteOptions: Sendable, Equatable {
    /// TIFF compression choices.
    public enum TIFFCompression: String, Sendable, CaseIterable { case none, lzw, deflate }

    /// Format to write; nil means "from the output path's extension".
    public var format: ImageFormat?
    /// JPEG quality, 1...100.
    public var jpegQuality: Int
    public var tiffCompression: TIFFCompression

    public init(format: ImageFormat? = nil, jpegQuality: Int = 95, tiffCompression: TIFFCompression = .deflate) {
        self.format = format
        self.jpegQuality = jpegQuality
        self.tiffCompression = tiffCompression
    }
}

/// Reading and writing raster files. All errors name the file.
public enum ImageFile {
    /// Decodes the PNG, JPEG or TIFF at `path`; the format is taken from the file's first bytes.
    /// `metadata` receives the file's ICC profile and provenance text (see `ImageMetadata`).
    public static func read(_ path: String, options: ImageReadOptions = .init()) throws(ImageIOError) -> RasterImage {
        let format = try sniff(path)
        var image = ldm_image()
        var message = [CChar](repeating: 0, count: Int(LDM_ERROR_CAPACITY))
        let limit = UInt64(max(0, options.maxPixels))
        let status: ldm_status = switch format {
        case .png: ldm_png_read(path, limit, &image, &message, message.count)
        case .jpeg: ldm_jpeg_read(path, limit, &image, &message, message.count)
        case .tiff: ldm_tiff_read(path, limit, &image, &message, message.count)
        }
        defer { ldm_image_free(&image) }
        try check(status, path: path, format: format, message: message)
        var raster = try RasterImage(copying: image)
        if options.applyExifOrientation, let exif = image.exif, image.exif_length > 0 {
            let payload = UnsafeBufferPointer(start: exif, count: image.exif_length)
            if let orientation = ExifOrientation(exifPayload: payload) {
                raster = orientation.uprighted(raster)
            }
        }
        return raster
    }

    /// Size, layout and metadata of the image at `path`, without decoding its pixels (for `info`
    /// and for resume checks over thousands of large outputs). Dimensions are as `read` would
    /// return them (JPEG EXIF rotations by 90° swap them).
    public static func readHeader(_ path: String, options: ImageReadOptions = .init()) throws(ImageIOError) -> ImageHeader {
        let format = try sniff(path)
        var image = ldm_image()
        var message = [CChar](repeating: 0, count: Int(LDM_ERROR_CAPACITY))
        let status: ldm_status = switch format {
        case .png: ldm_png_read_header(path, &image, &message, message.count)
        case .jpeg: ldm_jpeg_read_header(path, &image, &message, message.count)
        case .tiff: ldm_tiff_read_header(path, &image, &message, message.count)
        }
        defer { ldm_image_free(&image) }
        try check(status, path: path, format: format, message: message)
        var (width, height) = (Int(image.width), Int(image.height))
        if options.applyExifOrientation, let exif = image.exif, image.exif_length > 0,
           ExifOrientation(exifPayload: UnsafeBufferPointer(start: exif, count: image.exif_length))?.swapsAxes == true {
            (width, height) = (height, width)
        }
        return ImageHeader(format: format, width: width, height: height, channels: Int(image.channels),
                           bitDepth: Int(image.bit_depth), metadata: ImageMetadata(copying: image))
    }

    /// Maps a codec status to the typed error naming the file.
    private static func check(_ status: ldm_status, path: String, format: ImageFormat, message: [CChar]) throws(ImageIOError) {
        let reason = String(nulTerminated: message)
        switch status {
        case LDM_OK: return
        case LDM_ERR_OPEN: throw .unreadable(path: path, reason: reason)
        case LDM_ERR_TRUNCATED: throw .truncated(path: path, format: format, reason: reason)
        case LDM_ERR_UNSUPPORTED: throw .unsupported(path: path, format: format, reason: reason)
        case LDM_ERR_TOO_LARGE: throw .tooLarge(path: path, reason: reason)
        case LDM_ERR_NO_MEMORY: throw .outOfMemory(path: path, reason: reason)
        default: throw .corrupt(path: path, format: format, reason: reason)
        }
    }

    /// Identifies the format from the first bytes of the file.
    public static func sniff(_ path: String) throws(ImageIOError) -> ImageFormat {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(path: path, reason: (info.st_mode & S_IFMT) == S_IFDIR ? "is a folder" : "not a regular file")
        }
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 8)
        let got = fread(&head, 1, head.count, file)
        guard let format = ImageFormat(signature: head.prefix(got)) else { throw .notAnImage(path: path) }
        return format
    }

    /// Encodes `image` to `path` atomically: the data goes to a temporary file in the same folder,
    /// is flushed to disk, and is renamed over `path` only when complete. On failure nothing is left.
    /// `image.metadata` is embedded: the text always (JPEG: at most 65533 UTF-8 bytes, else
    /// `cannotEncode`), the ICC profile unless it is empty or, in PNG only, libpng finds it unfit
    /// for the pixels (a GRAY profile on RGB, a malformed header): then the file has no profile.
    public static func write(_ image: RasterImage, to path: String,
                             options: ImageWriteOptions = .init()) throws(ImageIOError) {
        guard let format = options.format ?? ImageFormat(pathExtension: pathExtension(of: path)) else {
            throw .unknownOutputFormat(path: path)
        }
        if format == .jpeg {
            if image.hasAlpha { throw .cannotEncode(path: path, format: format, reason: "JPEG has no alpha channel") }
            if image.bitDepth == 16 { throw .cannotEncode(path: path, format: format, reason: "JPEG has no 16-bit samples") }
        }
        try AtomicFile.write(to: path) { (temporaryPath) throws(ImageIOError) in
            var message = [CChar](repeating: 0, count: Int(LDM_ERROR_CAPACITY))
            let status = image.withCodecImage { codecImage in
                switch format {
                case .png: ldm_png_write(temporaryPath, codecImage, &message, message.count)
                case .jpeg: ldm_jpeg_write(temporaryPath, codecImage, Int32(options.jpegQuality), &message, message.count)
                case .tiff:
                    ldm_tiff_write(temporaryPath, codecImage, options.tiffCompression.codecValue, &message, message.count)
                }
            }
            guard status == LDM_OK else {
                let reason = String(nulTerminated: message)
                if status == LDM_ERR_INVALID_ARGUMENT { throw .cannotEncode(path: path, format: format, reason: reason) }
                throw .writeFailed(path: path, reason: reason.isEmpty ? "encoder failed" : reason)
            }
        }
    }

    static func pathExtension(of path: String) -> String {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }
}

extension ImageWriteOptions.TIFFCompression {
    var codecValue: ldm_tiff_compression {
        switch self {
        case .none: LDM_TIFF_NONE
        case .lzw: LDM_TIFF_LZW
        case .deflate: LDM_TIFF_DEFLATE
        }
    }
}

extension ImageMetadata {
    /// Copies a decoder result's profile and text.
    init(copying image: ldm_image) {
        self.init()
        if let icc = image.icc, image.icc_length > 0 {
            iccProfile = Array(UnsafeBufferPointer(start: icc, count: image.icc_length))
        }
        if let text = image.text {
            // Invalid UTF-8 (a TIFF description in Latin-1, say) is repaired, not refused.
            self.text = String(decoding: UnsafeRawBufferPointer(start: text, count: strlen(text)), as: UTF8.self)
        }
    }
}

extension RasterImage {
    /// Copies a decoder result (pixels, ICC profile, text) into Swift-owned storage.
    init(copying image: ldm_image) throws(ImageIOError) {
        let count = Int(image.width) * Int(image.height) * Int(image.channels)
        let samples: Samples
        if image.bit_depth == 16 {
            let p = image.pixels.assumingMemoryBound(to: UInt16.self)
            samples = .uint16(Array(UnsafeBufferPointer(start: p, count: count)))
        } else {
            let p = image.pixels.assumingMemoryBound(to: UInt8.self)
            samples = .uint8(Array(UnsafeBufferPointer(start: p, count: count)))
        }
        try self.init(width: Int(image.width), height: Int(image.height), channels: Int(image.channels),
                      samples: samples, metadata: ImageMetadata(copying: image))
    }

    /// Lends the samples, ICC profile and text to a C encoder as an `ldm_image`, for the duration of
    /// `body` (pixels and profile without a copy; the text as the NUL-terminated UTF-8 C string Swift
    /// makes for it). The encoder only reads them, despite the mutable pointer types of the struct.
    func withCodecImage<R>(_ body: (UnsafePointer<ldm_image>) -> R) -> R {
        func call(_ raw: UnsafeRawPointer, _ icc: UnsafeBufferPointer<UInt8>?, _ text: UnsafePointer<CChar>?) -> R {
            var image = ldm_image(width: UInt32(width), height: UInt32(height), channels: Int32(channels),
                                  bit_depth: Int32(bitDepth), pixels: UnsafeMutableRawPointer(mutating: raw),
                                  exif: nil, exif_length: 0,
                                  icc: icc?.baseAddress.map { UnsafeMutablePointer(mutating: $0) },
                                  icc_length: icc?.count ?? 0,
                                  text: text.map { UnsafeMutablePointer(mutating: $0) })
            return withUnsafePointer(to: &image) { body($0) }
        }
        func withText(_ raw: UnsafeRawPointer, _ icc: UnsafeBufferPointer<UInt8>?) -> R {
            guard let text = metadata.text else { return call(raw, icc, nil) }
            return text.withCString { call(raw, icc, $0) }
        }
        func withProfile(_ raw: UnsafeRawPointer) -> R {
            guard let profile = metadata.iccProfile else { return withText(raw, nil) }
            return profile.withUnsafeBufferPointer { withText(raw, $0) }
        }
        switch samples {
        case .uint8(let s): return s.withUnsafeBytes { withProfile($0.baseAddress!) }
        case .uint16(let s): return s.withUnsafeBytes { withProfile($0.baseAddress!) }
        }
    }
}

extension String {
    /// The text of a NUL-terminated C buffer (an error message, a mkstemp path).
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
