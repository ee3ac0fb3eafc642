// swift-tools-version:6.1
// ldm-edit: latent-diffusion inpainting and 4x super-resolution on the CPU.
// Targets are layered, arrows pointing down (docs/architecture.md):
//   ldm-edit (CLI: parse, validate, report) → LDMServer (`serve`: routes, job queue, token and origin
//   checks, progress events, the page) → LDMEditing (requests, model lookup and descriptions, planning,
//   the per-image edit; shared by the CLI and the server) → LDMPipelines → LDMModels → LDMTensor → CBLAS (OpenBLAS)
//                                                                                        → CKernels (per-ISA C kernels)
//                                                                      → LDMImageIO → CImageCodecs → CPNG / CJPEG / CTIFF
//                                                                      → LDMText (CLIP tokenizer; no dependencies)
//   LDMParallel (thread policy: execution contexts, the core budget) sits under all.
//   LDMBenchmarks: whole-model cases shared by `ldm-edit bench` and ldm-bench (kernel benchmarks);
//   ldm-fuzz (fuzz harnesses, docs/fuzzing.md) drives the checkpoint parsers and image readers;
//   LDMTestSupport: naive twins of the kernels and comparison helpers, for tests only.
//   Packages: swift-argument-parser (the CLI), swift-crypto (SHA-256 in LDMModels), hummingbird (the
//   HTTP server of LDMServer; its tests talk to it over a plain socket, see Tests/LDMServerTests/HTTPClient.swift).
import PackageDescription

let package = Package(
    name: "ldm-edit",
    products: [
        .executable(name: "ldm-edit", targets: ["ldm-edit"]),
        .executable(name: "ldm-bench", targets: ["ldm-bench"]),
        .executable(name: "ldm-fuzz", targets: ["ldm-fuzz"]),
        .library(name: "LDMImageIO", targets: ["LDMImageIO"]),
        .library(name: "LDMTensor", targets: ["LDMTensor"]),
        .library(name: "LDMModels", targets: ["LDMModels"]),
        .library(name: "LDMPipelines", targets: ["LDMPipelines"]),
        .library(name: "LDMEditing", targets: ["LDMEditing"]),
        .library(name: "LDMText", targets: ["LDMText"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // SHA-256 of checkpoints and images (BoringSSL's assembly kernels); 3.x and 4.x share the API.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // `ldm-edit serve` (LDMServer): HTTP/1.1 on SwiftNIO, async handlers, streamed responses.
        // Without the default ConfigurationSupport trait: swift-configuration is not used, and not building it saves CI minutes.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        // Named because LDMServer uses them directly (Hummingbird's own dependencies: the job worker is a
        // Service of the application, logging goes through its Logger, header names are HTTPTypes').
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // MARK: - System libraries (Debian -dev packages)
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // MARK: - Threading policy (the one place that decides how many threads run)
        .target(name: "LDMParallel"),

        // MARK: - Tensor engine
        // Vector kernels compiled for baseline, AVX2 and AVX-512F, chosen at run time (SIMDLevel).
        .target(name: "CKernels"),
        .target(name: "LDMTensor", dependencies: ["CBLAS", "CKernels", "LDMParallel"]),

        // MARK: - Models and checkpoint loading
        .target(name: "LDMModels", dependencies: ["LDMTensor", .product(name: "Crypto", package: "swift-crypto")]),

        // MARK: - Pipelines (conditioning, samplers, tiling, the super-resolution and inpainting pipelines)
        .target(name: "LDMPipelines", dependencies: ["LDMModels", "LDMTensor", "LDMImageIO", "LDMParallel", "LDMText"]),

        // MARK: - Text (the CLIP tokenizer: prompt → token ids; its vocabulary compiled in, docs/text-encoders.md)
        .target(name: "LDMText", exclude: ["Vocabulary/PROVENANCE.md"]),

        // MARK: - Editing (one Codable request per edit, model lookup and loading, tile planning,
        // masks, the per-image edit with progress and cancellation, provenance and resume keys).
        // The command line's and the web server's common layer; knows nothing of flags.
        .target(name: "LDMEditing", dependencies: ["LDMPipelines", "LDMModels", "LDMImageIO", "LDMParallel"]),

        // MARK: - Web server (`ldm-edit serve`): the editing layer's second client. Routes, the FIFO job
        // queue, token and same-origin checks, server-sent progress; the page (HTML, CSS, JavaScript) is a
        // resource, served as is: no build step, no CDN. No maths or image processing here.
        .target(
            name: "LDMServer",
            dependencies: ["LDMEditing", "LDMImageIO", "LDMModels", "LDMPipelines", "LDMParallel",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "HTTPTypes", package: "swift-http-types")],
            resources: [.copy("Page")]),

        // MARK: - Image I/O (knows nothing of tensors)
        // C wrappers that keep libpng/libjpeg's setjmp/longjmp error paths out of Swift.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG", "CTIFF"]),
        .target(name: "LDMImageIO", dependencies: ["CImageCodecs", "LDMParallel"]),

        // MARK: - Command-line tool (parses, validates, reports; no maths)
        .executableTarget(
            name: "ldm-edit",
            dependencies: [
                "LDMEditing",
                "LDMServer",
                "LDMImageIO",
                "LDMModels",
                "LDMPipelines",
                "LDMParallel",
                "LDMBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Whole-model benchmark cases on the real architectures (random weights), shared by
        // `ldm-edit bench` and ldm-bench (docs/performance.md).
        .target(name: "LDMBenchmarks", dependencies: ["LDMModels", "LDMTensor", "LDMParallel"]),
        // Kernel benchmarks and checkpoint load measurements (docs/performance.md, docs/checkpoints.md).
        .executableTarget(name: "ldm-bench", dependencies: ["LDMTensor", "LDMModels", "LDMParallel", "LDMBenchmarks"]),
        // Fuzz harnesses for every parser hostile input reaches: a replay driver in the normal build,
        // a libFuzzer binary when built with -sanitize=fuzzer -DLDM_FUZZING (docs/fuzzing.md).
        .executableTarget(name: "ldm-fuzz", dependencies: ["LDMModels", "LDMImageIO"]),

        // MARK: - Tests
        // Plain, obviously-correct twins of every fast kernel, and comparison helpers.
        .target(name: "LDMTestSupport", dependencies: ["LDMTensor", "LDMParallel"]),
        .testTarget(name: "LDMTensorTests", dependencies: ["LDMTensor", "LDMTestSupport", "LDMParallel", "CKernels"]),
        .testTarget(name: "LDMModelsTests", dependencies: ["LDMModels", "LDMTensor", "LDMTestSupport", "LDMParallel"], exclude: ["Fixtures"]),
        .testTarget(name: "LDMPipelinesTests", dependencies: ["LDMPipelines", "LDMModels", "LDMTensor", "LDMTestSupport", "LDMImageIO", "LDMParallel"], exclude: ["Fixtures"]),
        .testTarget(name: "LDMTextTests", dependencies: ["LDMText"], exclude: ["Fixtures"]),
        .testTarget(name: "LDMEditingTests", dependencies: ["LDMEditing", "LDMPipelines", "LDMModels", "LDMImageIO", "LDMParallel"]),
        .testTarget(name: "LDMImageIOTests", dependencies: ["LDMImageIO", "CImageCodecs", "LDMParallel"]),
        .testTarget(name: "LDMServerTests", dependencies: ["LDMServer", "LDMEditing", "LDMImageIO", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "LDMEditCLITests", dependencies: ["ldm-edit", "ldm-fuzz", "LDMImageIO"]),
    ]
)
