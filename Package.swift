// swift-tools-version:6.0
// ldm-edit: latent-diffusion inpainting and 4x super-resolution on the CPU.
// Targets are layered, arrows pointing down (docs/architecture.md):
//   ldm-edit (CLI) → LDMImageIO → CImageCodecs → CPNG / CJPEG / CTIFF (system libraries)
import PackageDescription

let package = Package(
    name: "ldm-edit",
    products: [
        .executable(name: "ldm-edit", targets: ["ldm-edit"]),
        .library(name: "LDMImageIO", targets: ["LDMImageIO"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - System libraries (Debian -dev packages)
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),

        // MARK: - Image I/O (knows nothing of tensors)
        // C wrappers that keep libpng/libjpeg's setjmp/longjmp error paths out of Swift.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG", "CTIFF"]),
        .target(name: "LDMImageIO", dependencies: ["CImageCodecs"]),

        // MARK: - Command-line tool (parses, validates, reports; no maths)
        .executableTarget(
            name: "ldm-edit",
            dependencies: [
                "LDMImageIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: - Tests
        .testTarget(name: "LDMImageIOTests", dependencies: ["LDMImageIO", "CImageCodecs"]),
        .testTarget(name: "LDMEditCLITests", dependencies: ["ldm-edit", "LDMImageIO"]),
    ]
)
